using System.Security.Cryptography;
using System.Text;
using Gatehouse.Config;
using Gatehouse.Http;
using Gatehouse.Http.Errors;
using Gatehouse.SelfService.Flows;

namespace Gatehouse.SelfService.Csrf;

/// <summary>
/// Double-submit CSRF protection for browser flows: a random token in an HttpOnly cookie
/// (<c>csrf_token_&lt;sha256(public base URL)&gt;</c>, as Kratos names it), copied into each browser flow and its
/// hidden <c>csrf_token</c> node. A submit must carry the flow's token, and the cookie must hold it too; API flows refuse
/// browser requests instead.
/// </summary>
public sealed class CsrfTokens(CsrfCookie cookie)
{
    private readonly string _cookieName = cookie.Name;

    public string CookieName => _cookieName;

    /// <summary>The browser's CSRF token, creating (and setting) one when it has none (<see cref="CsrfCookie.Ensure"/>).</summary>
    public string Ensure(HttpContext http) => cookie.Ensure(http);

    /// <summary>
    /// A new token for the browser, once per request (<see cref="CsrfCookie.Regenerate"/>). Only for browser flows: Kratos
    /// also regenerates when it replaces an API recovery or verification flow, which sets the cookie on a native app's answer;
    /// a native client that keeps cookies would then have its next API flow refused for sending a Cookie header, so
    /// Gatehouse leaves API answers without it.
    /// </summary>
    public string Regenerate(HttpContext http) => cookie.Regenerate(http);

    /// <summary>Fetching a browser flow needs the browser that started it (the cookie matches the flow's token).</summary>
    public void VerifyCookie(HttpContext http, SelfServiceFlow flow)
    {
        if (flow.Type != FlowTypes.Browser) return;
        if (!Equal(http.Request.Cookies[_cookieName], flow.CsrfToken)) throw Violation("The anti-CSRF cookie is missing or does not belong to this flow.");
    }

    /// <summary>
    /// A browser submit must carry the flow's token in <c>csrf_token</c> (or <c>X-CSRF-Token</c>) and the cookie. An API
    /// flow has no token to check, so it refuses what only a browser sends, as Kratos's <c>EnsureCSRF</c> does: an
    /// <c>Origin</c> header, or cookies (Cloudflare's own excepted) — a page must not drive an API flow with the user's cookies.
    /// </summary>
    public void VerifySubmit(HttpContext http, SelfServiceFlow flow, string? submitted)
    {
        if (flow.Type != FlowTypes.Browser)
        {
            RefuseBrowserRequest(http);
            return;
        }
        submitted ??= http.Request.Headers["X-CSRF-Token"].ToString();
        if (!Equal(submitted, flow.CsrfToken)) throw Violation("The request body's csrf_token does not match the flow's anti-CSRF token.");
        if (!Equal(http.Request.Cookies[_cookieName], flow.CsrfToken)) throw Violation("The anti-CSRF cookie is missing or does not match the flow.");
    }

    /// <summary>
    /// A browser submit whose body has no <c>csrf_token</c> in Kratos's API (settings' oidc link and unlink): a token in
    /// the body or <c>X-CSRF-Token</c> is checked as <see cref="VerifySubmit"/> does; without one the request must be JSON
    /// (<c>Content-Type: application/json</c>), which another site's page can only send through a CORS preflight that
    /// Gatehouse grants to <c>serve.public.cors.allowed_origins</c> alone (a form or a no-cors fetch cannot set that type),
    /// and the browser's cookie must still hold the flow's token. Kratos checks nothing here.
    /// </summary>
    public void VerifyJsonSubmit(HttpContext http, SelfServiceFlow flow, string? submitted)
    {
        if (flow.Type != FlowTypes.Browser || !string.IsNullOrEmpty(submitted) || http.Request.Headers["X-CSRF-Token"].Count > 0 || !http.Request.HasJsonContentType())
        {
            VerifySubmit(http, flow, submitted);
            return;
        }
        if (!Equal(http.Request.Cookies[_cookieName], flow.CsrfToken)) throw Violation("The anti-CSRF cookie is missing or does not match the flow.");
    }

    /// <summary>
    /// A form that belongs to no flow (the built-in consent page): the submitted token must be this browser's CSRF cookie,
    /// which a page on another site can neither read nor set.
    /// </summary>
    public bool Matches(HttpContext http, string? submitted)
    {
        ArgumentNullException.ThrowIfNull(http);
        var cookie = http.Request.Cookies[_cookieName];
        return cookie is not null && Equal(submitted, cookie);
    }

    private static void RefuseBrowserRequest(HttpContext http)
    {
        if (http.Request.Headers.Origin.Count > 0)
        {
            throw GatehouseError.BadRequest("The HTTP Request Header included the \"Origin\" key, indicating that this request was made as part of an AJAX request in a Browser. The flow however was initiated as an API request. To prevent potential misuse and mitigate several attack vectors including CSRF, the request has been blocked. Please consult the documentation.");
        }
        var cookies = http.Request.Cookies.Keys
            .Where(name => !name.StartsWith("__cf", StringComparison.Ordinal) && !name.StartsWith("_cf", StringComparison.Ordinal) && !name.StartsWith("cf_", StringComparison.Ordinal))
            .ToList();
        if (cookies.Count == 0) return;
        throw new GatehouseError(400, "The HTTP Request Header included the \"Cookie\" key, indicating that this request was made by a Browser. The flow however was initiated as an API request. To prevent potential misuse and mitigate several attack vectors including CSRF, the request has been blocked. Please consult the documentation.",
            details: new System.Text.Json.Nodes.JsonObject { ["found cookies"] = new System.Text.Json.Nodes.JsonArray([.. cookies.Select(c => (System.Text.Json.Nodes.JsonNode?)c)]) });
    }

    private static bool Equal(string? a, string b) =>
        a is not null && b.Length > 0 && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    /// <summary>The 403 of a request that fails a CSRF check (Kratos's <c>security_csrf_violation</c>).</summary>
    public static GatehouseError Violation(string reason) =>
        new(403, reason, "security_csrf_violation", "the request was rejected to protect you from Cross-Site-Request-Forgery",
            new System.Text.Json.Nodes.JsonObject
            {
                ["docs"] = "https://www.ory.sh/kratos/docs/debug/csrf",
                ["hint"] = "The anti-CSRF cookie was not sent with the request, or it does not match the token in the form. Start a new flow in the same browser.",
                ["reject_reason"] = reason,
            });
}
