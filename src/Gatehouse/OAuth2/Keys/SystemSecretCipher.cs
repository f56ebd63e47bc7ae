using Gatehouse.Config;

namespace Gatehouse.OAuth2.Keys;

/// <summary>
/// Encrypts the OAuth2 data Hydra keeps encrypted at rest under its system secret — the JSON Web Keys' private parts
/// (<c>persister_jwk.go</c>) and the token and flow session data (<c>oauth2.session.encrypt_at_rest</c>) — with AES-GCM
/// (Hydra's <c>aead.NewAESGCM</c>, keyed by <c>driver/config/provider_fosite.go</c> <c>GetGlobalSecret</c> and
/// <c>GetRotatedGlobalSecrets</c>; <c>aead/helpers.go</c> <c>allKeys</c>): the first of <c>secrets.system</c> encrypts,
/// every one is tried on reading, so the secret rotates by prepending a new one.
/// <para>
/// A Kratos-style configuration has no <c>secrets.system</c>; then the secrets <see cref="JsonWebKeyCipher"/> uses
/// (<c>secrets.cipher</c>, else <c>secrets.default</c>, else <c>secrets.cookie</c>) encrypt, as before the key existed.
/// Those are tried on reading after the system secrets, so data written before <c>secrets.system</c> was set stays
/// readable once it is.
/// </para>
/// </summary>
public sealed class SystemSecretCipher
{
    private readonly JsonWebKeyCipher _cipher;

    public SystemSecretCipher(GatehouseOptions options)
    {
        _cipher = new JsonWebKeyCipher(options.Secrets.System.Concat(JsonWebKeyCipher.KratosSecrets(options.Secrets)));
    }

    /// <summary>The ciphertext (base64url), bound to <paramref name="context"/> and <paramref name="id"/>.</summary>
    public string Encrypt(string plaintext, string context, string id) => _cipher.Encrypt(plaintext, context, id);

    /// <summary>The plaintext, or null when no configured secret decrypts it (another secret, or tampered).</summary>
    public string? TryDecrypt(string ciphertext, string context, string id) => _cipher.TryDecrypt(ciphertext, context, id);
}
