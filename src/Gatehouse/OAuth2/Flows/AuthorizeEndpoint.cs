using System.Text;
using Gatehouse.OAuth2.Clients;
using Gatehouse.OAuth2.Protocol;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.OAuth2.Flows;

/// <summary>
/// <c>GET|POST /oauth2/auth</c> (<c>oAuth2Authorize</c>): a new authorization request goes to the login app; the same
/// endpoint takes the browser back with <c>login_verifier</c> (on to the consent app) and <c>consent_verifier</c> (to the
/// client with the code, in the request's response mode). Errors go to the client's redirect URI once the client and redirect URI are validated, else to
/// <c>urls.error</c> (by default Hydra's fallback page, <see cref="ErrorFallback"/>).
/// </summary>
public static class AuthorizeEndpoint
{
    public const string Authorize = "/oauth2/auth";

    public static RouteGroupBuilder MapAuthorizeEndpoint(this RouteGroupBuilder root)
    {
        root.MapGet(Authorize, Handle);
        root.MapPost(Authorize, Handle);
        return root;
    }

    private static async Task Handle(HttpContext http, LoginConsentService flows, OAuth2ClientService clients, OAuth2Settings settings)
    {
        var ct = http.RequestAborted;
        IFormCollection? form = null;
        if (HttpMethods.IsPost(http.Request.Method)) form = await TokenEndpoints.ReadFormAsync(http);
        StringValues Param(string name) => form is not null && form.TryGetValue(name, out var v) ? v : http.Request.Query[name];

        http.Response.Headers.CacheControl = "no-store";

        // A verifier that names no request (unknown, or of another kind) cannot say where its error goes; as in Hydra, where
        // fosite validates the authorization request in the query before the verifier is looked at, the error goes to the
        // redirect URI of that request when it is valid, else the request's own error is answered.
        async Task<T> ToClientAsync<T>(Func<Task<T>> step)
        {
            try
            {
                return await step();
            }
            catch (AuthorizeError e) when (e.To is null)
            {
                var request = await AuthorizeRequest.ValidateAsync(Param, RequestUrl(http, form, settings), clients, settings, ct);
                throw new AuthorizeError(e.Error, request.ErrorTarget);
            }
        }

        try
        {
            LoginConsentService.Redirect next;
            string? Cookie(string name) => OAuth2Cookies.Read(http.Request, settings, name);
            if (Param("login_verifier") is { Count: > 0 } lv) next = await ToClientAsync(() => flows.HandleLoginVerifierAsync(lv.ToString(), Cookie, ct));
            else if (Param("consent_verifier") is { Count: > 0 } cv)
            {
                // The end of the flow: the client's answer, in the request's response mode.
                var answer = await ToClientAsync(() => flows.HandleConsentVerifierAsync(cv.ToString(), Cookie, ct));
                await AuthorizeResponseWriter.WriteAsync(http, answer, error: false);
                return;
            }
            else
            {
                var request = await AuthorizeRequest.ValidateAsync(Param, RequestUrl(http, form, settings), clients, settings, ct);
                next = await flows.StartAsync(request, Cookie(settings.SessionCookie), ct);
            }
            OAuth2Cookies.Write(http.Response, settings, next.Cookies);
            http.Response.StatusCode = next.Status;
            http.Response.Headers.Location = next.Location;
        }
        catch (AuthorizeError e) when (e.To is { } to)
        {
            // fosite's WriteAuthorizeError: to the redirect URI, in the request's response mode.
            await AuthorizeResponseWriter.WriteAsync(http, to.Response(e.Error, OAuth2ErrorFilter.ExposesDebug(http)), error: true);
        }
        catch (AuthorizeError e)
        {
            // Hydra's writeAuthorizeError: without a trusted redirect URI the error goes to urls.error (forwardError), for
            // browsers and JSON clients alike.
            ErrorFallback.Forward(http, settings, e.Error);
        }
        catch (OAuth2Error e)
        {
            // Before a request is validated (an unreadable POST body): no client to send it to either.
            ErrorFallback.Forward(http, settings, e);
        }
    }

    /// <summary>
    /// Hydra's <c>request_url</c>: the authorization URL (<c>OAuth2AuthURL</c>, so <c>webfinger.oidc_discovery.auth_url</c>
    /// when set, its own query replaced) with the query as requested (a POSTed request as the equivalent GET).
    /// </summary>
    private static string RequestUrl(HttpContext http, IFormCollection? form, OAuth2Settings settings)
    {
        var authorization = settings.AuthorizationUrl;
        var query = authorization.IndexOfAny(['?', '#']);
        var url = new StringBuilder(query < 0 ? authorization : authorization[..query]);
        if (form is null)
        {
            url.Append(http.Request.QueryString.Value);
            return url.ToString();
        }
        var first = true;
        foreach (var (name, values) in form)
        {
            foreach (var value in values)
            {
                url.Append(first ? '?' : '&').Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(value ?? ""));
                first = false;
            }
        }
        return url.ToString();
    }
}
