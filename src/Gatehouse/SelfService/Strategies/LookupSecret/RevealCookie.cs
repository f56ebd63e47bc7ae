using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.Config;
using Gatehouse.Http;
using Gatehouse.SelfService.Flows;

namespace Gatehouse.SelfService.Strategies.LookupSecret;

/// <summary>
/// Carries freshly generated recovery codes to the settings page an HTML browser is sent to (Kratos answers a form post
/// with a 303 and shows the codes from the stored flow; Gatehouse stores only their hashes). The codes travel encrypted
/// (AES-256-GCM, a key derived from <c>secrets.cookie</c>/<c>secrets.default</c>, bound to the flow's id) in an HttpOnly
/// cookie of that browser that lives no longer than the flow and is removed when the codes are confirmed; a fetch of
/// the flow shows them only while the flow still waits for exactly these codes.
/// </summary>
public sealed class RevealCookie(GatehouseOptions options)
{
    public const string CookieName = "gatehouse_lookup_secret_codes";
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int MaxLength = 1024;

    private byte[][] Keys => [.. options.Secrets.Cookie.Concat(options.Secrets.Default).DefaultIfEmpty("gatehouse-development-secret")
        .Select(s => SHA256.HashData(Encoding.UTF8.GetBytes("gatehouse/lookup_secret/reveal\n" + s)))];

    /// <summary>Gives this browser the codes for <paramref name="flow"/>, for as long as the flow lives (<paramref name="lifetime"/>).</summary>
    public void Set(HttpContext http, SelfServiceFlow flow, IReadOnlyList<string> codes, TimeSpan lifetime)
    {
        var plain = Encoding.UTF8.GetBytes(string.Join(",", codes));
        var output = new byte[NonceSize + plain.Length + TagSize];
        RandomNumberGenerator.Fill(output.AsSpan(0, NonceSize));
        using (var aes = new AesGcm(Keys[0], TagSize))
            aes.Encrypt(output.AsSpan(0, NonceSize), plain, output.AsSpan(NonceSize, plain.Length), output.AsSpan(NonceSize + plain.Length, TagSize), flow.Id.ToByteArray());
        http.Response.Cookies.Append(CookieName, Base64Url.EncodeToString(output), Options(lifetime > TimeSpan.Zero ? lifetime : TimeSpan.FromMinutes(1)));
    }

    /// <summary>The codes this browser was given for <paramref name="flow"/>, or null (no cookie, another flow's, tampered).</summary>
    public IReadOnlyList<string>? Read(HttpContext http, SelfServiceFlow flow)
    {
        var value = http.Request.Cookies[CookieName];
        if (string.IsNullOrEmpty(value) || value.Length > MaxLength) return null;
        byte[] raw;
        try
        {
            raw = Base64Url.DecodeFromChars(value);
        }
        catch (FormatException)
        {
            return null;
        }
        if (raw.Length <= NonceSize + TagSize) return null;
        var plain = new byte[raw.Length - NonceSize - TagSize];
        foreach (var key in Keys)
        {
            using var aes = new AesGcm(key, TagSize);
            try
            {
                aes.Decrypt(raw.AsSpan(0, NonceSize), raw.AsSpan(NonceSize, plain.Length), raw.AsSpan(NonceSize + plain.Length, TagSize), plain, flow.Id.ToByteArray());
                return Encoding.UTF8.GetString(plain).Split(',');
            }
            catch (AuthenticationTagMismatchException)
            {
            }
        }
        return null;
    }

    public void Clear(HttpContext http)
    {
        if (http.Request.Cookies.ContainsKey(CookieName)) http.Response.Cookies.Delete(CookieName, Options(null));
    }

    private CookieOptions Options(TimeSpan? maxAge) => new()
    {
        HttpOnly = true,
        Path = string.IsNullOrEmpty(options.Cookies.Path) ? "/" : options.Cookies.Path,
        Domain = string.IsNullOrEmpty(options.Cookies.Domain) ? null : options.Cookies.Domain,
        SameSite = SameSiteMode.Lax,
        Secure = CookieSecurity.Secure(options),
        // Max-Age, not Expires: the browser's clock need not agree with the server's.
        MaxAge = maxAge,
    };
}
