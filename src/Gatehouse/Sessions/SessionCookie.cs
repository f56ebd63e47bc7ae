using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.Config;
using Gatehouse.Http;

namespace Gatehouse.Sessions;

/// <summary>
/// The browser session cookie. Its value is AES-GCM over <c>expiry (UTC .NET ticks, 8 bytes big-endian) ‖ session token</c>, with the
/// cookie name as associated data, written as base64url(<c>nonce ‖ ciphertext ‖ tag</c>). The key is SHA-256 of a
/// secret: the first of <c>secrets.cookie</c> (else <c>secrets.default</c>) encrypts; every one of them is tried on
/// reading, so secrets can be rotated by prepending a new one.
/// </summary>
public sealed class SessionCookie
{
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int ExpirySize = 8;
    private const int MaxCookieLength = 4096;

    private readonly byte[][] _keys;
    private readonly byte[] _associatedData;
    private readonly GatehouseOptions _options;
    private readonly TimeProvider _time;

    public SessionCookie(GatehouseOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
        Name = options.Session.Cookie.Name;
        var secrets = options.Secrets.Cookie.Count > 0 ? options.Secrets.Cookie : options.Secrets.Default;
        // ConfigLoader guarantees a secret; without one (embedded use) cookies live only as long as the process.
        _keys = secrets.Count > 0
            ? [.. secrets.Select(s => SHA256.HashData(Encoding.UTF8.GetBytes(s)))]
            : [RandomNumberGenerator.GetBytes(32)];
        _associatedData = Encoding.UTF8.GetBytes(Name);
        Secure = options.Session.Cookie.Secure ?? CookieSecurity.Secure(options);
        SameSite = ParseSameSite(options.Session.Cookie.SameSite ?? options.Cookies.SameSite);
        // Browsers drop SameSite=None cookies that are not Secure; fall back to Lax then, as Kratos does for plain http.
        if (SameSite == SameSiteMode.None && !Secure) SameSite = SameSiteMode.Lax;
        Domain = NullIfEmpty(options.Session.Cookie.Domain) ?? NullIfEmpty(options.Cookies.Domain);
        Path = NullIfEmpty(options.Session.Cookie.Path) ?? NullIfEmpty(options.Cookies.Path) ?? "/";
    }

    public string Name { get; }
    public bool Secure { get; }
    public SameSiteMode SameSite { get; }
    public string? Domain { get; }
    public string Path { get; }

    public string Protect(string token, DateTime expiresAt)
    {
        var plain = new byte[ExpirySize + Encoding.UTF8.GetByteCount(token)];
        BinaryPrimitives.WriteInt64BigEndian(plain, (expiresAt.Kind == DateTimeKind.Local ? expiresAt.ToUniversalTime() : expiresAt).Ticks);
        Encoding.UTF8.GetBytes(token, plain.AsSpan(ExpirySize));
        var output = new byte[NonceSize + plain.Length + TagSize];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_keys[0], TagSize);
        aes.Encrypt(nonce, plain, output.AsSpan(NonceSize, plain.Length), output.AsSpan(NonceSize + plain.Length, TagSize), _associatedData);
        return Base64Url.EncodeToString(output);
    }

    /// <summary>Decrypts a cookie value with any configured key; false for anything tampered, foreign or malformed.</summary>
    public bool TryUnprotect(string? value, out string token, out DateTime expiresAt)
    {
        token = "";
        expiresAt = default;
        if (string.IsNullOrEmpty(value) || value.Length > MaxCookieLength) return false;
        byte[] raw;
        try
        {
            raw = Base64Url.DecodeFromChars(value);
        }
        catch (FormatException)
        {
            return false;
        }
        if (raw.Length < NonceSize + ExpirySize + 1 + TagSize) return false;
        var cipherLength = raw.Length - NonceSize - TagSize;
        var plain = new byte[cipherLength];
        foreach (var key in _keys)
        {
            using var aes = new AesGcm(key, TagSize);
            try
            {
                aes.Decrypt(raw.AsSpan(0, NonceSize), raw.AsSpan(NonceSize, cipherLength), raw.AsSpan(NonceSize + cipherLength, TagSize), plain, _associatedData);
            }
            catch (AuthenticationTagMismatchException)
            {
                continue;
            }
            var ticks = BinaryPrimitives.ReadInt64BigEndian(plain);
            if (ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks) return false;
            expiresAt = new DateTime(ticks, DateTimeKind.Utc);
            try
            {
                token = new UTF8Encoding(false, true).GetString(plain, ExpirySize, plain.Length - ExpirySize);
            }
            catch (DecoderFallbackException)
            {
                return false;
            }
            return true;
        }
        return false;
    }

    /// <summary>Reads the cookie of a request: the session token, if the cookie is genuine and not past its own expiry.</summary>
    public bool TryRead(HttpContext http, out string token, out DateTime expiresAt)
    {
        token = "";
        expiresAt = default;
        if (!http.Request.Cookies.TryGetValue(Name, out var value)) return false;
        return TryUnprotect(value, out token, out expiresAt) && expiresAt > _time.GetUtcNow().UtcDateTime;
    }

    public void Write(HttpContext http, string token, DateTime expiresAt)
    {
        var options = BaseOptions();
        if (_options.Session.Cookie.Persistent)
        {
            var remaining = expiresAt - _time.GetUtcNow().UtcDateTime;
            options.MaxAge = remaining > TimeSpan.Zero ? TimeSpan.FromSeconds(Math.Floor(remaining.TotalSeconds)) : TimeSpan.Zero;
        }
        http.Response.Cookies.Append(Name, Protect(token, expiresAt), options);
    }

    public void Clear(HttpContext http) => http.Response.Cookies.Delete(Name, BaseOptions());

    private CookieOptions BaseOptions() => new()
    {
        HttpOnly = true,
        Secure = Secure,
        SameSite = SameSite,
        Domain = Domain,
        Path = Path,
        IsEssential = true,
    };

    private static SameSiteMode ParseSameSite(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "strict" => SameSiteMode.Strict,
        "none" => SameSiteMode.None,
        _ => SameSiteMode.Lax,
    };

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
