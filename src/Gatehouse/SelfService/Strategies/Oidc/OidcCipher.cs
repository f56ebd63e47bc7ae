using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.Config;
using Gatehouse.OAuth2.Keys;
using NSec.Cryptography;

namespace Gatehouse.SelfService.Strategies.Oidc;

/// <summary>
/// Kratos's <c>cipher.Cipher</c> (<c>cipher/</c>, chosen by <c>ciphers.algorithm</c> in
/// <c>RegistryDefault.Cipher</c>). In Kratos its only users are the social sign-in: the upstream tokens kept in the
/// <c>oidc</c> credential (<c>initial_id_token</c>, <c>initial_access_token</c>, <c>initial_refresh_token</c>,
/// <c>strategy.go</c> encryptOAuth2Tokens, decrypted for <c>include_credential=oidc</c> by
/// <c>Identity.WithDeclassifiedCredentials</c>) and the <c>state</c> parameter (<c>state.go</c>). Continuity and cookies
/// are not its business (Kratos seals them with <c>secrets.cookie</c>).
/// <list type="bullet">
/// <item><c>aes</c> — AES-256-GCM (.NET's <see cref="AesGcm"/>, through <see cref="JsonWebKeyCipher"/>, so what Gatehouse
/// stored before this key existed stays readable). Also what Gatehouse does when the key is unset (below).</item>
/// <item><c>xchacha20-poly1305</c> — XChaCha20-Poly1305 (NSec over libsodium), a random 24-byte nonce per value.</item>
/// <item><c>noop</c> — no encryption: the value is stored hex-encoded, as Kratos's <c>Noop</c> stores it.</item>
/// </list>
/// The keys come from the secrets <see cref="JsonWebKeyCipher.KratosSecrets"/> names (<c>secrets.cipher</c> first); the
/// first encrypts, all are tried on reading. As in Kratos nothing marks which algorithm wrote a value: a value written
/// under another algorithm does not decrypt and reads as unreadable (a token shows as <c>""</c>, a state is refused).
/// <para>
/// Divergences: unset means <c>aes</c>, not Kratos's <c>noop</c> (Gatehouse has always encrypted these tokens; turning
/// that off on upgrade would leave the stored ones unreadable and the new ones in plaintext). Under <c>noop</c> the
/// <c>state</c> stays AES-GCM-sealed: it travels through the browser and the provider and carries the PKCE verifier,
/// which a plaintext state would hand to anyone who sees the URL; nothing of it is stored.
/// </para>
/// </summary>
public sealed partial class OidcCipher : IDisposable
{
    public const string Noop = "noop";
    public const string Aes = "aes";
    public const string XChaCha20Poly1305 = "xchacha20-poly1305";

    private static readonly AeadAlgorithm XChaCha = AeadAlgorithm.XChaCha20Poly1305;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly JsonWebKeyCipher _aes;
    private readonly Key[] _xchachaKeys = [];

    public OidcCipher(GatehouseOptions options, JsonWebKeyCipher aes, ILogger<OidcCipher> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _aes = aes;
        Algorithm = Resolve(options.Ciphers.Algorithm);
        if (Algorithm == XChaCha20Poly1305)
        {
            var secrets = JsonWebKeyCipher.KratosSecrets(options.Secrets).Distinct(StringComparer.Ordinal).ToList();
            // Without any secret (embedded use) the key lives as long as the process, as JsonWebKeyCipher's does.
            var raw = secrets.Count > 0
                ? secrets.Select(s => SHA256.HashData(Encoding.UTF8.GetBytes("gatehouse-xchacha20-poly1305\n" + s))).ToList()
                : [RandomNumberGenerator.GetBytes(32)];
            _xchachaKeys = [.. raw.Select(k => Key.Import(XChaCha, k, KeyBlobFormat.RawSymmetricKey))];
            foreach (var k in raw) CryptographicOperations.ZeroMemory(k);
        }
        // Kratos's RegistryDefault.Cipher warns the same way when it falls back to noop.
        if (Algorithm == Noop) LogPlaintext(logger);
    }

    /// <summary><c>ciphers.algorithm</c> as Gatehouse applies it: <c>noop</c>, <c>aes</c> or <c>xchacha20-poly1305</c>.</summary>
    public string Algorithm { get; }

    /// <summary>The configured value, or <c>aes</c> when unset; anything else is a configuration error.</summary>
    public static string Resolve(string? configured) => configured switch
    {
        null or "" or Aes => Aes,
        Noop or XChaCha20Poly1305 => configured,
        _ => throw new ConfigException($"ciphers.algorithm: expected \"noop\", \"aes\" or \"xchacha20-poly1305\", got \"{configured}\"."),
    };

    /// <summary>Encrypts a value kept at rest (the upstream tokens) under the configured algorithm.</summary>
    /// <param name="purpose">What the value is; with <paramref name="context"/> the associated data (ignored by <c>noop</c>).</param>
    public string Encrypt(string plaintext, string purpose, string context) => Algorithm switch
    {
        Noop => Convert.ToHexStringLower(Encoding.UTF8.GetBytes(plaintext)),
        XChaCha20Poly1305 => EncryptXChaCha(plaintext, purpose, context),
        _ => _aes.Encrypt(plaintext, purpose, context),
    };

    /// <summary>The plaintext of a value <see cref="Encrypt"/> wrote under the configured algorithm, or null.</summary>
    public string? TryDecrypt(string ciphertext, string purpose, string context) => Algorithm switch
    {
        Noop => TryHex(ciphertext),
        XChaCha20Poly1305 => TryDecryptXChaCha(ciphertext, purpose, context),
        _ => _aes.TryDecrypt(ciphertext, purpose, context),
    };

    /// <summary>Encrypts a value that only travels (the <c>state</c>): the configured algorithm, AES-GCM under <c>noop</c>.</summary>
    public string EncryptInTransit(string plaintext, string purpose) =>
        Algorithm == XChaCha20Poly1305 ? EncryptXChaCha(plaintext, purpose, "") : _aes.Encrypt(plaintext, purpose, "");

    public string? TryDecryptInTransit(string ciphertext, string purpose) =>
        Algorithm == XChaCha20Poly1305 ? TryDecryptXChaCha(ciphertext, purpose, "") : _aes.TryDecrypt(ciphertext, purpose, "");

    private string EncryptXChaCha(string plaintext, string purpose, string context)
    {
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var nonce = RandomNumberGenerator.GetBytes(XChaCha.NonceSize);
        var sealedBytes = XChaCha.Encrypt(_xchachaKeys[0], nonce, AssociatedData(purpose, context), plain);
        CryptographicOperations.ZeroMemory(plain);
        return Base64Url.EncodeToString([.. nonce, .. sealedBytes]);
    }

    private string? TryDecryptXChaCha(string ciphertext, string purpose, string context)
    {
        byte[] raw;
        try
        {
            raw = Base64Url.DecodeFromChars(ciphertext);
        }
        catch (FormatException)
        {
            return null;
        }
        if (raw.Length < XChaCha.NonceSize + XChaCha.TagSize) return null;
        var ad = AssociatedData(purpose, context);
        var plain = new byte[raw.Length - XChaCha.NonceSize - XChaCha.TagSize];
        foreach (var key in _xchachaKeys)
        {
            if (!XChaCha.Decrypt(key, raw.AsSpan(0, XChaCha.NonceSize), ad, raw.AsSpan(XChaCha.NonceSize), plain)) continue;
            try
            {
                return StrictUtf8.GetString(plain);
            }
            catch (DecoderFallbackException)
            {
                return null;
            }
            finally
            {
                CryptographicOperations.ZeroMemory(plain);
            }
        }
        return null;
    }

    /// <summary>Kratos's <c>Noop.Decrypt</c>: hex-decoding; what is not hex (or not text) is unreadable.</summary>
    private static string? TryHex(string value)
    {
        try
        {
            return StrictUtf8.GetString(Convert.FromHexString(value));
        }
        catch (Exception e) when (e is FormatException or DecoderFallbackException)
        {
            return null;
        }
    }

    private static byte[] AssociatedData(string purpose, string context) => Encoding.UTF8.GetBytes(purpose + "\n" + context);

    public void Dispose()
    {
        foreach (var key in _xchachaKeys) key.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "ciphers.algorithm is noop: the social sign-in tokens are stored in plaintext (hex-encoded), as Kratos's noop stores them")]
    private static partial void LogPlaintext(ILogger logger);
}
