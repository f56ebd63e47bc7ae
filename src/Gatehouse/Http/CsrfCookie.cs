using System.Security.Cryptography;
using System.Text;
using Gatehouse.Config;

namespace Gatehouse.Http;

/// <summary>
/// The browser's anti-CSRF cookie (<c>csrf_token_&lt;sha256(public base URL)&gt;</c>, as Kratos names it): a random
/// token in an HttpOnly cookie that every browser flow copies. The flow checks live with the self-service flows; this is
/// only the cookie, shared with the session feature, which rotates it on logout.
/// <para>
/// Within one request the token is stable: once created or regenerated it is kept on the request, so every flow a request
/// creates carries the token of the cookie the answer sets (nosurf, Kratos's CSRF library, keeps it on the request's
/// context the same way).
/// </para>
/// </summary>
public sealed class CsrfCookie(GatehouseOptions options)
{
    private static readonly object TokenKey = new();
    private static readonly object RegeneratedKey = new();

    public string Name { get; } = "csrf_token_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ReturnUrlPolicy.PublicBaseUrl(options))));

    /// <summary>The browser's CSRF token: the one this request already set, else its cookie's, else a new one (set).</summary>
    public string Ensure(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (http.Items.TryGetValue(TokenKey, out var set) && set is string token) return token;
        var existing = http.Request.Cookies[Name];
        if (existing is { Length: 43 } && existing.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')) return existing;
        return Set(http);
    }

    /// <summary>
    /// A new token replaces the browser's (Kratos's <c>CSRFHandler().RegenerateToken</c>): when a session cookie is issued
    /// to a browser that had none or another identity's, on logout, after recovery, and for the flows that replace a
    /// verification or recovery flow. At most once per request: flows created later in the request carry the new token.
    /// </summary>
    public string Regenerate(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (http.Items.ContainsKey(RegeneratedKey) && http.Items[TokenKey] is string token) return token;
        http.Items[RegeneratedKey] = true;
        return Set(http);
    }

    private string Set(HttpContext http)
    {
        var token = Base64UrlToken();
        // A token this request already set (a first flow for a browser without cookie, then a login) is replaced, not
        // sent twice.
        var headers = http.Response.Headers;
        var prefix = Name + "=";
        if (headers.SetCookie.Count > 0)
            headers.SetCookie = new([.. headers.SetCookie.Where(c => c is not null && !c.StartsWith(prefix, StringComparison.Ordinal))]);
        http.Response.Cookies.Append(Name, token, new CookieOptions
        {
            HttpOnly = true,
            Path = options.Cookies.Path,
            Domain = options.Cookies.Domain,
            SameSite = SameSiteMode.Lax,
            Secure = CookieSecurity.Secure(options),
            MaxAge = TimeSpan.FromDays(365),
        });
        http.Items[TokenKey] = token;
        return token;
    }

    private static string Base64UrlToken() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
