using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.Config;

namespace Gatehouse.OAuth2.Keys;

/// <summary>
/// AES-GCM encryption of data at rest under configured secrets. This instance serves Kratos's data (social sign-in
/// tokens, settings continuity): keyed from Kratos's <c>secrets.cipher</c> — the secrets Kratos reserves for encrypting
/// data at rest — falling back to <c>secrets.default</c>, then <c>secrets.cookie</c> (ConfigLoader generates one of them
/// when none is configured). Hydra's data (JSON Web Keys, OAuth2 session data) goes through
/// <see cref="SystemSecretCipher"/>, which puts <c>secrets.system</c> first. AES-GCM from the BCL rather than ASP.NET Data
/// Protection: the key must come from the configuration (every process on the database must read the data, without a
/// shared key ring), and it is the same construction the session cookie uses. The key is SHA-256 of the secret; the
/// first secret encrypts, every one is tried on decryption, so secrets rotate by prepending a new one. The caller's
/// context and id are the associated data, so a ciphertext cannot be moved to another row.
/// </summary>
public sealed class JsonWebKeyCipher
{
    private const int NonceSize = 12;
    private const int TagSize = 16;

    private readonly byte[][] _keys;

    public JsonWebKeyCipher(GatehouseOptions options)
        : this(KratosSecrets(options.Secrets))
    {
    }

    /// <summary>A cipher whose first secret encrypts and whose every secret is tried on decryption (duplicates dropped).</summary>
    internal JsonWebKeyCipher(IEnumerable<string> secrets)
    {
        var distinct = secrets.Distinct(StringComparer.Ordinal).ToList();
        // Without any secret (embedded use) keys live as long as the process can read them; the manager then makes new ones.
        _keys = distinct.Count > 0
            ? [.. distinct.Select(s => SHA256.HashData(Encoding.UTF8.GetBytes("gatehouse-jwk\n" + s)))]
            : [RandomNumberGenerator.GetBytes(32)];
    }

    /// <summary>
    /// The secrets Kratos's data at rest is encrypted with: <c>secrets.cipher</c>, else <c>secrets.default</c>, else
    /// <c>secrets.cookie</c>, else (a Hydra-only configuration) <c>secrets.system</c>.
    /// </summary>
    internal static List<string> KratosSecrets(SecretsOptions secrets) =>
        secrets.Cipher.Count > 0 ? secrets.Cipher
        : secrets.Default.Count > 0 ? secrets.Default
        : secrets.Cookie.Count > 0 ? secrets.Cookie
        : secrets.System;

    public string Encrypt(string plaintext, string set, string kid)
    {
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var output = new byte[NonceSize + plain.Length + TagSize];
        RandomNumberGenerator.Fill(output.AsSpan(0, NonceSize));
        using var aes = new AesGcm(_keys[0], TagSize);
        aes.Encrypt(output.AsSpan(0, NonceSize), plain, output.AsSpan(NonceSize, plain.Length), output.AsSpan(NonceSize + plain.Length, TagSize), AssociatedData(set, kid));
        CryptographicOperations.ZeroMemory(plain);
        return Base64Url.EncodeToString(output);
    }

    /// <summary>The plaintext, or null when no configured secret decrypts it (another secret, or tampered).</summary>
    public string? TryDecrypt(string ciphertext, string set, string kid)
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
        if (raw.Length < NonceSize + TagSize) return null;
        var length = raw.Length - NonceSize - TagSize;
        var plain = new byte[length];
        var ad = AssociatedData(set, kid);
        foreach (var key in _keys)
        {
            using var aes = new AesGcm(key, TagSize);
            try
            {
                aes.Decrypt(raw.AsSpan(0, NonceSize), raw.AsSpan(NonceSize, length), raw.AsSpan(NonceSize + length, TagSize), plain, ad);
            }
            catch (AuthenticationTagMismatchException)
            {
                continue;
            }
            var text = Encoding.UTF8.GetString(plain);
            CryptographicOperations.ZeroMemory(plain);
            return text;
        }
        return null;
    }

    private static byte[] AssociatedData(string set, string kid) => Encoding.UTF8.GetBytes(set + "\n" + kid);
}
