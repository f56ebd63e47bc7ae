using System.Text;
using System.Text.Encodings.Web;
using Gatehouse.Http.Json;
using Gatehouse.OAuth2.Flows;
using Gatehouse.OAuth2.Protocol;

namespace Gatehouse.OAuth2.Logout;

/// <summary>
/// <c>GET|POST /oauth2/sessions/logout</c> (<c>revokeOidcSession</c>) on the public listener and the logout request admin
/// API (<c>getOAuth2LogoutRequest</c>, <c>acceptOAuth2LogoutRequest</c>, <c>rejectOAuth2LogoutRequest</c>).
/// </summary>
public static class LogoutEndpoints
{
    public const string LogoutRequest = "/oauth2/auth/requests/logout";
    public const string AcceptLogout = "/oauth2/auth/requests/logout/accept";
    public const string RejectLogout = "/oauth2/auth/requests/logout/reject";

    public static RouteGroupBuilder MapLogoutPublic(this RouteGroupBuilder root)
    {
        root.MapGet(LogoutService.Path, HandleAsync);
        root.MapPost(LogoutService.Path, HandleAsync);
        return root;
    }

    public static RouteGroupBuilder MapLogoutAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet(LogoutRequest, async (HttpContext http, LogoutService s) => await WriteAsync(http, await s.GetRequestAsync(Challenge(http), http.RequestAborted)));
        admin.MapPut(AcceptLogout, async (HttpContext http, LogoutService s) => await WriteAsync(http, await s.AcceptAsync(Challenge(http), http.RequestAborted)));
        admin.MapPut(RejectLogout, async (HttpContext http, LogoutService s) => await WriteAsync(http, await s.RejectAsync(Challenge(http), http.RequestAborted)));
        return admin;
    }

    /// <summary>Hydra reads <c>logout_challenge</c>, or plain <c>challenge</c>.</summary>
    private static string Challenge(HttpContext http)
    {
        var q = http.Request.Query;
        return q["logout_challenge"].ToString() is { Length: > 0 } c ? c : q["challenge"].ToString();
    }

    private static Task WriteAsync(HttpContext http, LogoutService.AdminAnswer answer)
    {
        if (answer.Body is null)
        {
            http.Response.StatusCode = answer.Status;
            return Task.CompletedTask;
        }
        return HttpJson.WriteAsync(http, answer.Status, answer.Body);
    }

    private static async Task HandleAsync(HttpContext http, LogoutService logout, OAuth2Settings settings)
    {
        var ct = http.RequestAborted;
        IFormCollection? form = null;
        // As Go's ParseForm: the body's values first, then the query's.
        string Param(string name) => form is not null && form.TryGetValue(name, out var v) && v.Count > 0 ? v.ToString() : http.Request.Query[name].ToString();
        http.Response.Headers.CacheControl = "no-store";
        var cookie = http.Request.Cookies[settings.SessionCookie];
        try
        {
            if (HttpMethods.IsPost(http.Request.Method) && http.Request.HasFormContentType)
            {
                try
                {
                    form = await TokenEndpoints.ReadFormAsync(http);
                }
                catch (OAuth2Error)
                {
                    throw OAuth2Error.InvalidRequest($"Logout failed because the '{http.Request.Method}' request could not be parsed.");
                }
            }
            // The verifier only counts in the query (Hydra reads r.URL.Query()).
            var verifier = http.Request.Query["logout_verifier"].ToString();
            var outcome = verifier.Length > 0
                ? await logout.CompleteAsync(verifier, cookie, ct)
                : await logout.StartAsync(Param, http.Request.Path.Value + http.Request.QueryString.Value, cookie, ct);
            if (outcome.ClearSessionCookie)
            {
                http.Response.Cookies.Delete(settings.SessionCookie, settings.CookieOptionsFor(settings.SessionCookie));
            }
            if (outcome.FrontChannelUrls.Count == 0)
            {
                http.Response.StatusCode = StatusCodes.Status302Found;
                http.Response.Headers.Location = outcome.RedirectTo;
                return;
            }
            await WriteFrontChannelPageAsync(http, outcome);
        }
        catch (OAuth2Error e)
        {
            // Hydra's forwardError: every error of this endpoint goes to urls.error, by default the fallback page.
            ErrorFallback.Forward(http, settings, e);
        }
    }

    /// <summary>
    /// OpenID Connect Front-Channel Logout 1.0: a page that loads each client's <c>frontchannel_logout_uri</c> (with
    /// <c>iss</c> and <c>sid</c>) in a hidden iframe and then moves on to the post-logout URL — when every frame has
    /// loaded, after at most seven seconds, and without JavaScript by a meta refresh.
    /// </summary>
    private static async Task WriteFrontChannelPageAsync(HttpContext http, LogoutService.Outcome outcome)
    {
        var nonce = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        var frames = outcome.FrontChannelUrls
            .Select(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) ? uri.GetLeftPart(UriPartial.Authority) : null)
            .OfType<string>().Distinct(StringComparer.Ordinal);
        var html = HtmlEncoder.Default;
        var redirect = outcome.RedirectTo;
        var page = new StringBuilder()
            .Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"robots\" content=\"noindex\">")
            .Append("<meta http-equiv=\"refresh\" content=\"7; url=").Append(html.Encode(redirect)).Append("\">")
            .Append("<title>Logging out</title>")
            .Append("<style nonce=\"").Append(nonce).Append("\">iframe{position:absolute;left:0;top:0;width:0;height:0;border:0}</style>")
            .Append("</head><body><p>Logging out… If nothing happens, <a href=\"").Append(html.Encode(redirect)).Append("\">continue</a>.</p>\n");
        foreach (var url in outcome.FrontChannelUrls)
        {
            page.Append("<iframe src=\"").Append(html.Encode(url)).Append("\" title=\"logout\"></iframe>\n");
        }
        page.Append("<script nonce=\"").Append(nonce).Append("\">(function(){var to=").Append(JsonString(redirect))
            .Append(";var left=document.querySelectorAll('iframe').length;var gone=false;")
            .Append("function go(){if(!gone){gone=true;window.location.replace(to);}}")
            .Append("document.querySelectorAll('iframe').forEach(function(f){f.addEventListener('load',function(){if(--left<1)setTimeout(go,500);});});")
            .Append("setTimeout(go,7000);})();</script>\n</body></html>");
        http.Response.StatusCode = 200;
        http.Response.ContentType = "text/html; charset=utf-8";
        var headers = http.Response.Headers;
        headers["Content-Security-Policy"] = $"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; frame-src {string.Join(' ', frames)}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
        headers["X-Content-Type-Options"] = "nosniff";
        headers["X-Frame-Options"] = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        await http.Response.WriteAsync(page.ToString(), Encoding.UTF8, http.RequestAborted);
    }

    /// <summary>A JavaScript string literal that cannot end the script element.</summary>
    private static string JsonString(string value) => "\"" + JavaScriptEncoder.Default.Encode(value) + "\"";
}
