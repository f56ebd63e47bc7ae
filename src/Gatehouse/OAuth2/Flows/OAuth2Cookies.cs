using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace Gatehouse.OAuth2.Flows;

/// <summary>
/// Writes and reads the browser cookies of the OAuth2 flows — the login, consent and device CSRF cookies and the
/// remembered login — with Hydra's names and attributes (<c>serve.cookies.*</c>, <see cref="OAuth2Settings.CookieOptionsFor"/>).
/// </summary>
public static class OAuth2Cookies
{
    private const string LegacySuffix = "_legacy";

    /// <summary>
    /// Sets (or, for a null value, clears) each cookie. A CSRF cookie sent <c>SameSite=None</c> with
    /// <c>serve.cookies.same_site_legacy_workaround</c> also gets a <c>&lt;name&gt;_legacy</c> twin without <c>SameSite</c>,
    /// for browsers that reject <c>None</c> (Hydra <c>consent/csrf.go</c> <c>setCSRFCookie</c>); a name already ending in
    /// <c>_legacy</c> is sent without <c>SameSite</c>, as there. The remembered-login cookie has no twin.
    /// </summary>
    public static void Write(HttpResponse response, OAuth2Settings settings, IEnumerable<LoginConsentService.Cookie> cookies)
    {
        foreach (var cookie in cookies)
        {
            var options = settings.CookieOptionsFor(cookie.Name, cookie.MaxAge);
            if (cookie.Value is null)
            {
                response.Cookies.Delete(cookie.Name, options);
                continue;
            }
            var csrf = cookie.Name != settings.SessionCookie;
            if (csrf && cookie.Name.EndsWith(LegacySuffix, StringComparison.Ordinal)) options.SameSite = SameSiteMode.Unspecified;
            response.Cookies.Append(cookie.Name, cookie.Value, options);
            if (csrf && options.SameSite == SameSiteMode.None && settings.CookieSameSiteLegacyWorkaround)
            {
                options.SameSite = SameSiteMode.Unspecified;
                response.Cookies.Append(cookie.Name + LegacySuffix, cookie.Value, options);
            }
        }
    }

    /// <summary>
    /// A cookie of the request; for a CSRF cookie that is missing or empty under <c>SameSite=None</c> with the legacy
    /// workaround, its <c>_legacy</c> twin (Hydra <c>consent/csrf.go</c> <c>getCSRFCookie</c>).
    /// </summary>
    public static string? Read(HttpRequest request, OAuth2Settings settings, string name)
    {
        var value = request.Cookies[name];
        if (string.IsNullOrEmpty(value) && name != settings.SessionCookie && !name.EndsWith(LegacySuffix, StringComparison.Ordinal)
            && settings.CookieSameSite == SameSiteMode.None && settings.CookieSameSiteLegacyWorkaround)
        {
            return request.Cookies[name + LegacySuffix];
        }
        return value;
    }

    /// <summary>
    /// Hydra's per-client cookie suffix (<c>client/client.go</c> <c>CookieSuffix</c>): the decimal 32-bit MurmurHash3
    /// (x86, seed 0) of the client id, so <c>ory_hydra_login_csrf_&lt;suffix&gt;</c> is the name Hydra gives it.
    /// </summary>
    public static string ClientSuffix(string clientId) =>
        Murmur3(Encoding.UTF8.GetBytes(clientId)).ToString(CultureInfo.InvariantCulture);

    // MurmurHash3_x86_32 with seed 0 (a non-cryptographic hash; only the cookie name depends on it). Written here because
    // no MurmurHash package is served from the registry this project builds from (env/packages/nuget.tsv), and
    // System.IO.Hashing has only xxHash and CRC; it is checked against reference vectors in HydraOAuth2ConfigTests.
    internal static uint Murmur3(ReadOnlySpan<byte> data)
    {
        const uint c1 = 0xcc9e2d51, c2 = 0x1b873593;
        uint h = 0;
        var blocks = data.Length / 4;
        for (var i = 0; i < blocks; i++)
        {
            var k = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(i * 4, 4));
            k *= c1;
            k = BitOperations.RotateLeft(k, 15);
            k *= c2;
            h ^= k;
            h = BitOperations.RotateLeft(h, 13);
            h = h * 5 + 0xe6546b64;
        }
        var tail = data[(blocks * 4)..];
        uint t = 0;
        switch (tail.Length)
        {
            case 3:
                t ^= (uint)tail[2] << 16;
                goto case 2;
            case 2:
                t ^= (uint)tail[1] << 8;
                goto case 1;
            case 1:
                t ^= tail[0];
                t *= c1;
                t = BitOperations.RotateLeft(t, 15);
                t *= c2;
                h ^= t;
                break;
        }
        h ^= (uint)data.Length;
        h ^= h >> 16;
        h *= 0x85ebca6b;
        h ^= h >> 13;
        h *= 0xc2b2ae35;
        h ^= h >> 16;
        return h;
    }
}
