using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Gatehouse.Sessions;

/// <summary>Kratos's logout: a logout URL for browsers, the URL itself, and token revocation for native apps.</summary>
public static class LogoutEndpoints
{
    public const string BrowserLogout = "/self-service/logout/browser";
    public const string Logout = "/self-service/logout";
    public const string ApiLogout = "/self-service/logout/api";

    public static RouteGroupBuilder MapLogout(this RouteGroupBuilder root)
    {
        root.MapGet(BrowserLogout, CreateBrowserLogoutAsync);
        root.MapGet(Logout, LogoutAsync);
        root.MapDelete(ApiLogout, ApiLogoutAsync);
        return root;
    }

    private static async Task CreateBrowserLogoutAsync(HttpContext http, SessionManager manager, ReturnUrlPolicy returnUrls, GatehouseOptions options)
    {
        // Kratos passes its session lookup's error on (session_inactive), not whoami's 401.
        var current = await manager.RequireAsync(http, http.RequestAborted, SessionManager.NoActiveSessionFound);
        var returnTo = returnUrls.Validate(http.Request.Query["return_to"].ToString());
        var logoutToken = SessionTokens.LogoutTokenFor(current.Token);
        await HttpJson.WriteAsync(http, 200, new JsonObject { ["logout_url"] = LogoutUrl(options, current.Token, returnTo), ["logout_token"] = logoutToken });
    }

    /// <summary>The browser logout URL of a session (its logout token in <c>?token=</c>), as <c>GET /self-service/logout/browser</c> answers it.</summary>
    public static string LogoutUrl(GatehouseOptions options, string sessionToken, string? returnTo)
    {
        var query = new List<KeyValuePair<string, string?>> { new("token", SessionTokens.LogoutTokenFor(sessionToken)) };
        if (returnTo is not null) query.Add(new("return_to", returnTo));
        return QueryHelpers.AddQueryString(ReturnUrlPolicy.PublicBaseUrl(options).TrimEnd('/') + Logout, query);
    }

    private static async Task<IResult> LogoutAsync(HttpContext http, SessionManager manager, ReturnUrlPolicy returnUrls, GatehouseOptions options, CsrfCookie csrf)
    {
        var token = http.Request.Query["token"].ToString();
        if (token.Length == 0) throw GatehouseError.BadRequest("Please include a token in the URL query.");
        // Checked before anything changes, so a refused return_to does not leave the user half logged out.
        var target = returnUrls.Resolve(http.Request.Query["return_to"].ToString(), options.Selfservice.Flows.Logout.After.DefaultBrowserReturnUrl);
        var current = await manager.RequireAsync(http, http.RequestAborted, SessionManager.NoActiveSessionFound);
        if (token.Length > SessionTokens.MaxTokenLength || !CryptographicOperations.FixedTimeEquals(SessionTokens.Hash(token), current.Session.LogoutTokenHash))
            throw GatehouseError.Forbidden("Unable to log out because the logout token in the URL query does not match the session cookie.");
        await manager.RevokeAsync(current.Session.Id, http.RequestAborted);
        manager.ClearCookie(http);
        // Kratos's completeLogout: the signed-out browser gets a new anti-CSRF token.
        csrf.Regenerate(http);
        // Kratos sends it only where browsers honour it: on https, as the request arrived (X-Forwarded-Proto first,
        // as Kratos's x.RequestURL reads the scheme).
        if (options.Selfservice.Flows.Logout.ClearBrowserData && RequestScheme(http.Request) == "https")
            http.Response.Headers["Clear-Site-Data"] = "\"cookies\", \"storage\", \"cache\"";
        return Http.ContentNegotiation.WantsJson(http.Request) ? Results.NoContent() : new SeeOther(target);
    }

    private static string RequestScheme(HttpRequest request)
    {
        var forwarded = request.Headers["X-Forwarded-Proto"].ToString();
        return forwarded.Length > 0 ? forwarded : request.Scheme;
    }

    private static async Task<IResult> ApiLogoutAsync(HttpContext http, SessionManager manager)
    {
        var body = await HttpJson.ReadBodyAsync(http.Request, http.RequestAborted);
        if (body is not JsonObject o || o["session_token"] is not JsonValue v || !v.TryGetValue<string>(out var token))
            throw GatehouseError.BadRequest("The request body must be a JSON object with the string property session_token.");
        if (!await manager.RevokeByTokenAsync(token, http.RequestAborted))
            throw GatehouseError.Forbidden("The provided Ory Session Token could not be found, is invalid, or otherwise malformed.");
        return Results.NoContent();
    }

    /// <summary>303 See Other: after logout the browser must GET the target, whatever method it used.</summary>
    private sealed class SeeOther(string location) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status303SeeOther;
            httpContext.Response.Headers.Location = location;
            return Task.CompletedTask;
        }
    }
}
