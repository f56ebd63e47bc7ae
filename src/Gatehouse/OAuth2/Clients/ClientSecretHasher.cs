using System.Security.Cryptography;
using System.Text;
using Gatehouse.Hashing;

namespace Gatehouse.OAuth2.Clients;

/// <summary>
/// Hashes OAuth2 client secrets as Hydra does by default (<c>oauth2.hashers.algorithm: pbkdf2</c>, SHA-256,
/// 25,000 iterations), in the <c>$pbkdf2-sha256$i=…,l=32$salt$hash</c> form the shared <see cref="PasswordHasher"/>
/// verifies. Secrets can be chosen by the caller (6 characters at least), so a slow hash is needed, yet one cheap
/// enough for the token endpoint, which verifies a secret on every client-authenticated request.
/// </summary>
public sealed class ClientSecretHasher(PasswordHasher verifier, int iterations = ClientSecretHasher.DefaultIterations)
{
    public const int DefaultIterations = 25_000;

    /// <summary>Hydra's <c>x.GenerateSecret</c> alphabet and length for secrets it picks itself.</summary>
    private const string SecretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz1234567890-_.~";

    public static string GenerateSecret(int length = 26) => RandomNumberGenerator.GetString(SecretAlphabet, length);

    public string Hash(string secret)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(secret), salt, iterations, HashAlgorithmName.SHA256, 32);
        return $"$pbkdf2-sha256$i={iterations},l=32${Unpadded(salt)}${Unpadded(hash)}";
    }

    /// <summary>Constant-time check of <paramref name="secret"/> against a stored hash; false for empty or malformed input.</summary>
    public bool Verify(string secret, string storedHash) =>
        secret.Length > 0 && storedHash.Length > 0 && verifier.Verify(secret, storedHash);

    private static string Unpadded(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=');
}
