using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace Gatehouse.SelfService.Strategies.Oidc;

/// <summary>
/// OAuth 1.0a request signing (RFC 5849 §3), HMAC-SHA1 as X requires: the <c>Authorization: OAuth …</c> header of one
/// request, its signature over the method, the base URL and every protocol, query and form parameter, keyed with the
/// consumer secret and the token secret. Written here rather than taken from a package: no OAuth 1.0a signing library
/// is served on NuGet for this project except as part of a whole HTTP client (RestSharp's authenticators), and the
/// algorithm is one HMAC over a normalised string; the X preset's tests check every signature independently.
/// </summary>
public static class OAuth1Signature
{
    /// <summary>The <c>Authorization</c> header value for a request to <paramref name="url"/>.</summary>
    /// <param name="protocol">The request's own <c>oauth_*</c> parameters (<c>oauth_callback</c>, <c>oauth_token</c>, <c>oauth_verifier</c>).</param>
    /// <param name="form">A form-urlencoded body's parameters (they are signed too).</param>
    public static string Header(HttpMethod method, string url, string consumerKey, string consumerSecret, string tokenSecret, TimeProvider time,
        IEnumerable<KeyValuePair<string, string>> protocol, IEnumerable<KeyValuePair<string, string>>? form = null)
    {
        var oauth = new List<KeyValuePair<string, string>>(protocol)
        {
            new("oauth_consumer_key", consumerKey),
            new("oauth_nonce", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))),
            new("oauth_signature_method", "HMAC-SHA1"),
            new("oauth_timestamp", time.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("oauth_version", "1.0"),
        };
        oauth.Add(new("oauth_signature", Sign(method, url, consumerSecret, tokenSecret, [.. oauth, .. form ?? []])));
        return "OAuth " + string.Join(", ", oauth.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{Encode(p.Key)}=\"{Encode(p.Value)}\""));
    }

    /// <summary>The HMAC-SHA1 signature (base64) of a request with these parameters (the URL's query is added to them).</summary>
    public static string Sign(HttpMethod method, string url, string consumerSecret, string tokenSecret, IEnumerable<KeyValuePair<string, string>> parameters)
    {
        var uri = new Uri(url);
        var all = new List<KeyValuePair<string, string>>(parameters);
        foreach (var (k, values) in QueryHelpers.ParseQuery(uri.Query))
        {
            foreach (var v in values) all.Add(new(k, v ?? ""));
        }
        // §3.4.1.3.2: encoded, sorted by name then value, joined.
        var normalized = string.Join("&", all.Select(p => (Key: Encode(p.Key), Value: Encode(p.Value)))
            .OrderBy(p => p.Key, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal).Select(p => p.Key + "=" + p.Value));
        // §3.4.1.2: scheme and host in lower case, the port only when it is not the scheme's default, no query.
        var baseUrl = uri.Scheme.ToLowerInvariant() + "://" + uri.Host.ToLowerInvariant() + (uri.IsDefaultPort ? "" : ":" + uri.Port) + uri.AbsolutePath;
        var baseString = method.Method.ToUpperInvariant() + "&" + Encode(baseUrl) + "&" + Encode(normalized);
        var key = Encoding.ASCII.GetBytes(Encode(consumerSecret) + "&" + Encode(tokenSecret));
        return Convert.ToBase64String(HMACSHA1.HashData(key, Encoding.ASCII.GetBytes(baseString)));
    }

    /// <summary>RFC 3986 percent-encoding of everything but the unreserved characters (§3.6).</summary>
    public static string Encode(string value) => Uri.EscapeDataString(value);
}
