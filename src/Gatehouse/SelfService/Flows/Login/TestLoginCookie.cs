using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.Config;
using Gatehouse.Http;
using Gatehouse.Http.Errors;

namespace Gatehouse.SelfService.Flows.Login;

/// <summary>
/// Who may act on a test login flow. Before the callback the flow's CSRF token is a bearer (the admin's create answer
/// carries it in the form; no browser cookie is bound to it). The callback rotates that token and sets the HMAC cookie
/// <c>ory_kratos_test_flow</c> = HMAC-SHA256(key from <c>secrets.cookie</c>, flow id and new token): from then on only the
/// browser that completed the round trip reads the captured debug payload or deletes the flow. The database holds the
/// token, not the cookie, which cannot be made without the key.
/// </summary>
public sealed class TestLoginCookie(GatehouseOptions options, TimeProvider time)
{
    public const string Name = "ory_kratos_test_flow";

    // A configured secret keeps the cookie valid across restarts and replicas; without one (a test host), a key per process.
    private readonly byte[] _key = SHA256.HashData(Encoding.UTF8.GetBytes("gatehouse-test-login-flow\n"
        + (options.Secrets.Cookie.FirstOrDefault() ?? options.Secrets.Default.FirstOrDefault() ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)))));

    /// <summary>A new flow's bearer token (Kratos mints a random UUID).</summary>
    public static string NewBearer() => Guid.NewGuid().ToString();

    /// <summary>A submit of a test flow carries its bearer token in <c>csrf_token</c> (or <c>X-CSRF-Token</c>); no cookie is involved.</summary>
    public static void VerifyBearer(HttpContext http, SelfServiceFlow flow, string? submitted)
    {
        submitted ??= http.Request.Headers["X-CSRF-Token"].ToString();
        if (!Equal(submitted, flow.CsrfToken)) throw Csrf.CsrfTokens.Violation("The request body's csrf_token does not match the test login flow's token.");
    }

    /// <summary>Rotates the flow's token and gives this browser the cookie for it (the callback, when it captures).</summary>
    public void Issue(HttpContext http, SelfServiceFlow flow)
    {
        flow.CsrfToken = NewBearer();
        var left = flow.ExpiresAt - time.GetUtcNow().UtcDateTime;
        http.Response.Cookies.Append(Name, Mac(flow), new CookieOptions
        {
            HttpOnly = true,
            Path = options.Cookies.Path,
            Domain = options.Cookies.Domain,
            SameSite = SameSiteMode.Lax,
            Secure = CookieSecurity.Secure(options),
            MaxAge = left > TimeSpan.Zero ? left : TimeSpan.Zero,
        });
    }

    /// <summary>
    /// Reading or deleting a test flow: anyone with the id while nothing is captured (the flow holds no personal data);
    /// after the capture only the browser holding the cookie (403 otherwise, as Kratos).
    /// </summary>
    public void VerifyHolder(HttpContext http, SelfServiceFlow flow)
    {
        if (!TestLoginContext.IsCaptured(flow)) return;
        if (!Equal(http.Request.Cookies[Name], Mac(flow)))
            throw GatehouseError.Forbidden("missing or invalid CSRF token: the test login flow's debug payload is only for the browser that completed its callback, which holds the ory_kratos_test_flow cookie.");
    }

    /// <summary>Removes the cookie (the flow it was for is gone).</summary>
    public void Clear(HttpContext http) =>
        http.Response.Cookies.Delete(Name, new CookieOptions { Path = options.Cookies.Path, Domain = options.Cookies.Domain });

    private string Mac(SelfServiceFlow flow) =>
        Base64Url.EncodeToString(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(flow.Id.ToString("D") + "\n" + flow.CsrfToken)));

    private static bool Equal(string? a, string b) =>
        a is not null && b.Length > 0 && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));
}
