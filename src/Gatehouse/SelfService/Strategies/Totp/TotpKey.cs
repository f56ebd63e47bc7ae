using System.Security.Cryptography;
using Microsoft.AspNetCore.WebUtilities;
using OtpNet;

namespace Gatehouse.SelfService.Strategies.Totp;

/// <summary>
/// A TOTP key as Kratos makes and stores it (<c>pquerna/otp</c>): a 160-bit random secret, 6 digits, 30 s steps, SHA-1,
/// carried as an <c>otpauth://totp/&lt;issuer&gt;:&lt;account&gt;?algorithm=SHA1&amp;digits=6&amp;issuer=…&amp;period=30&amp;secret=…</c>
/// URL. Parsing also takes the digits, period and algorithm an imported URL names.
/// </summary>
public sealed class TotpKey
{
    private const int SecretBytes = 160 / 8;

    private TotpKey(byte[] secret, string base32, int digits, int period, OtpHashMode mode, string url)
    {
        Secret = secret;
        Base32Secret = base32;
        Digits = digits;
        Period = period;
        Mode = mode;
        Url = url;
    }

    public byte[] Secret { get; }

    /// <summary>The secret as an authenticator app takes it typed in (base32, no padding).</summary>
    public string Base32Secret { get; }
    public int Digits { get; }
    public int Period { get; }
    public OtpHashMode Mode { get; }
    public string Url { get; }

    /// <summary>A new random key for <paramref name="accountName"/>, labelled with <paramref name="issuer"/>.</summary>
    public static TotpKey Generate(string issuer, string accountName)
    {
        var secret = RandomNumberGenerator.GetBytes(SecretBytes);
        var base32 = Base32Encoding.ToString(secret).TrimEnd('=');
        // As pquerna/otp: the label is "issuer:account" (path-escaped), the query form-encoded with its keys in alphabetical order.
        var label = Escape(issuer) + ":" + Escape(accountName);
        var url = $"otpauth://totp/{label}?algorithm=SHA1&digits=6&issuer={Uri.EscapeDataString(issuer).Replace("%20", "+", StringComparison.Ordinal)}&period=30&secret={base32}";
        return new TotpKey(secret, base32, 6, 30, OtpHashMode.Sha1, url);
    }

    /// <summary>The key of a stored or imported <c>totp_url</c>, or null when it is not a usable otpauth TOTP URL.</summary>
    public static TotpKey? Parse(string? url)
    {
        if (string.IsNullOrEmpty(url) || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != "otpauth" || uri.Host != "totp") return null;
        var query = QueryHelpers.ParseQuery(uri.Query);
        var base32 = query.TryGetValue("secret", out var s) ? s.ToString().Trim().ToUpperInvariant() : "";
        if (base32.Length == 0) return null;
        byte[] secret;
        try
        {
            secret = Base32Encoding.ToBytes(base32);
        }
        catch (ArgumentException)
        {
            return null;
        }
        if (secret.Length == 0) return null;
        var digits = query.TryGetValue("digits", out var d) && int.TryParse(d, out var dv) ? dv : 6;
        var period = query.TryGetValue("period", out var p) && int.TryParse(p, out var pv) ? pv : 30;
        var mode = (query.TryGetValue("algorithm", out var a) ? a.ToString().ToUpperInvariant() : "SHA1") switch
        {
            "SHA1" => OtpHashMode.Sha1,
            "SHA256" => OtpHashMode.Sha256,
            "SHA512" => OtpHashMode.Sha512,
            _ => (OtpHashMode?)null,
        };
        if (mode is null || digits is < 6 or > 8 || period is < 1 or > 300) return null;
        return new TotpKey(secret, base32.TrimEnd('='), digits, period, mode.Value, url);
    }

    /// <summary>
    /// The time step <paramref name="code"/> belongs to, within one step either side of <paramref name="now"/> (Kratos's
    /// <c>totp.Validate</c> skew), or null when it matches none. The comparison is Otp.NET's (constant time).
    /// </summary>
    public long? Match(string code, DateTime now)
    {
        if (code.Length != Digits || !code.All(char.IsAsciiDigit)) return null;
        var totp = new OtpNet.Totp(Secret, Period, Mode, Digits);
        return totp.VerifyTotp(now, code, out var step, VerificationWindow.RfcSpecifiedNetworkDelay) ? step : null;
    }

    // pquerna/otp builds the label as a URL path: '@' stays as it is, spaces and other reserved characters are escaped.
    private static string Escape(string value) => Uri.EscapeDataString(value).Replace("%40", "@", StringComparison.Ordinal);
}
