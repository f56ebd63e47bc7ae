using System.Text;
using System.Text.Encodings.Web;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.OAuth2.Flows;

/// <summary>
/// Hydra's <c>urls.error</c>: where errors go that cannot be sent to a client — an authorization request whose client or
/// redirect URI is not trusted, any error of <c>/oauth2/sessions/logout</c> (Hydra's <c>forwardError</c>, a <c>302</c>
/// with <c>error</c> and <c>error_description</c>). Without <c>urls.error</c> they go to Hydra's fallback page,
/// <c>&lt;public URL&gt;/oauth2/fallbacks/error</c> (<c>oauth2/handler_fallback_endpoints.go</c> <c>DefaultErrorHandler</c>).
/// </summary>
public static class ErrorFallback
{
    public const string Path = "/oauth2/fallbacks/error";

    public static RouteGroupBuilder MapErrorFallback(this RouteGroupBuilder root)
    {
        root.MapGet(Path, WritePageAsync);
        return root;
    }

    /// <summary>
    /// Sends the browser (<c>302</c>) to <see cref="OAuth2Settings.EffectiveErrorUrl"/> with <c>error</c> and
    /// <c>error_description</c> — fosite's <c>ToValues</c> without the legacy fields, so the hint is part of the description —
    /// replacing those parameters if the URL has them (ory/x <c>urlx.CopyWithQuery</c>).
    /// </summary>
    public static void Forward(HttpContext http, OAuth2Settings settings, OAuth2Error error)
    {
        http.Response.StatusCode = StatusCodes.Status302Found;
        http.Response.Headers.Location = SetQuery(settings.EffectiveErrorUrl, ("error", error.Error), ("error_description", error.Describe(settings.ExposeInternalErrors)));
    }

    internal static string SetQuery(string url, params (string Name, string Value)[] values)
    {
        var hash = url.IndexOf('#', StringComparison.Ordinal);
        var fragment = hash >= 0 ? url[hash..] : "";
        var head = hash >= 0 ? url[..hash] : url;
        var mark = head.IndexOf('?', StringComparison.Ordinal);
        var query = new StringBuilder();
        if (mark >= 0)
        {
            foreach (var pair in head[(mark + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var name = Uri.UnescapeDataString(pair.Split('=', 2)[0].Replace('+', ' '));
                if (values.Any(v => v.Name == name)) continue;
                query.Append(query.Length == 0 ? "" : "&").Append(pair);
            }
            head = head[..mark];
        }
        foreach (var (name, value) in values)
            query.Append(query.Length == 0 ? "" : "&").Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(value));
        return head + "?" + query + fragment;
    }

    /// <summary>
    /// Hydra's page, a <c>500</c> that shows the error, description, hint and debug text from the query (each HTML-encoded,
    /// so a crafted link shows text, never markup) and says that <c>urls.error</c> is not set. Nothing is loaded or run.
    /// </summary>
    private static async Task WritePageAsync(HttpContext http, ILoggerFactory loggers)
    {
        loggers.CreateLogger(typeof(ErrorFallback).FullName!)
            .LogError("A client requested the default error URL, configuration key urls.error is probably not set.");
        var q = http.Request.Query;
        var html = HtmlEncoder.Default;
        string Field(string name) => html.Encode(First(q[name]));
        var page = new StringBuilder()
            .Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"robots\" content=\"noindex\">\n")
            .Append("<title>An OAuth 2.0 Error Occurred</title>\n</head>\n<body>\n")
            .Append("<h1>The OAuth2 request resulted in an error.</h1>\n<ul>\n")
            .Append("<li>Error: ").Append(Field("error")).Append("</li>\n")
            .Append("<li>Description: ").Append(Field("error_description")).Append("</li>\n")
            .Append("<li>Hint: ").Append(Field("error_hint")).Append("</li>\n")
            .Append("<li>Debug: ").Append(Field("error_debug")).Append("</li>\n</ul>\n")
            .Append("<p>You are seeing this page because configuration key <code>urls.error</code> is not set.</p>\n")
            .Append("<p>If you are an administrator, set <code>urls.error</code> to a page of your own. If you are a user, please contact the administrator.</p>\n")
            .Append("</body>\n</html>\n");
        http.Response.StatusCode = StatusCodes.Status500InternalServerError;
        http.Response.ContentType = "text/html; charset=utf-8";
        var headers = http.Response.Headers;
        headers.CacheControl = "no-store";
        headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
        headers["X-Content-Type-Options"] = "nosniff";
        headers["X-Frame-Options"] = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        await http.Response.WriteAsync(page.ToString(), Encoding.UTF8, http.RequestAborted);
    }

    /// <summary>The first value, as Go's <c>url.Values.Get</c>.</summary>
    private static string First(StringValues values) => values.Count > 0 ? values[0] ?? "" : "";
}
