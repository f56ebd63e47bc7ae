using System.Security.Cryptography;
using System.Text;
using Gatehouse.Config;
using Gatehouse.Hashing;

namespace Gatehouse.OAuth2.Clients;

/// <summary>
/// Hashes OAuth2 client secrets as Hydra does (<c>x/hasher.go</c> over ory/x <c>hasherx</c>), with
/// <c>oauth2.hashers.algorithm</c>: <c>pbkdf2</c> (the default; SHA-256, <c>oauth2.hashers.pbkdf2.iterations</c>, 25,000 by
/// default, in the <c>$pbkdf2-sha256$i=…,l=32$salt$hash</c> form) or <c>bcrypt</c> (<c>$2a$</c>,
/// <c>oauth2.hashers.bcrypt.cost</c>, 10 by default). A stored secret verifies by its own prefix whatever the setting
/// (<c>hasherx.Compare</c>), through the shared <see cref="PasswordHasher"/>, so changing the algorithm or its cost
/// keeps existing clients working. Secrets can be chosen by the caller (6 characters at least), so a slow hash is
/// needed, yet one cheap enough for the token endpoint, which verifies a secret on every client-authenticated request.
/// </summary>
public sealed class ClientSecretHasher
{
    public const int DefaultIterations = 25_000;

    /// <summary>bcrypt reads at most 72 bytes (ory/x <c>hasherx.ErrBcryptPasswordLengthReached</c>).</summary>
    public const int MaxBcryptSecretBytes = 72;

    /// <summary>Hydra's <c>x.GenerateSecret</c> alphabet and length for secrets it picks itself.</summary>
    private const string SecretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz1234567890-_.~";

    private readonly PasswordHasher _verifier;
    private readonly int _iterations;
    private readonly int? _bcryptCost;

    /// <param name="verifier">Checks stored hashes of any supported format.</param>
    /// <param name="iterations">PBKDF2 iterations for new hashes.</param>
    /// <param name="bcryptCost">When set, new hashes are bcrypt with this cost instead of PBKDF2.</param>
    public ClientSecretHasher(PasswordHasher verifier, int iterations = DefaultIterations, int? bcryptCost = null)
    {
        _verifier = verifier;
        _iterations = iterations;
        _bcryptCost = bcryptCost;
    }

    /// <summary>The hasher <c>oauth2.hashers</c> configures.</summary>
    public static ClientSecretHasher From(GatehouseOptions options)
    {
        var hashers = options.Oauth2.Hashers;
        // The verifier's bound on a stored bcrypt cost is raised to the configured cost, so the hashes made here always verify.
        var verifier = new PasswordHasher(new HashersOptions { Bcrypt = { Cost = Math.Max(hashers.Bcrypt.Cost, options.Hashers.Bcrypt.Cost) } });
        return hashers.Algorithm == "bcrypt"
            ? new ClientSecretHasher(verifier, hashers.Pbkdf2.Iterations, hashers.Bcrypt.Cost)
            : new ClientSecretHasher(verifier, hashers.Pbkdf2.Iterations);
    }

    public static string GenerateSecret(int length = 26) => RandomNumberGenerator.GetString(SecretAlphabet, length);

    /// <exception cref="OAuth2Error">bcrypt is configured and the secret is longer than 72 bytes (400 <c>invalid_client_metadata</c>).</exception>
    public string Hash(string secret)
    {
        if (_bcryptCost is { } cost)
        {
            // Hydra answers the hasher's error as a 500; the caller's input is what is wrong, so a 400 says so.
            if (Encoding.UTF8.GetByteCount(secret) > MaxBcryptSecretBytes)
                throw OAuth2Error.InvalidClientMetadata($"Field client_secret must be at most {MaxBcryptSecretBytes} bytes long when oauth2.hashers.algorithm is bcrypt.");
            return BCrypt.Net.BCrypt.HashPassword(secret, BCrypt.Net.BCrypt.GenerateSalt(cost, 'a'));
        }
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(secret), salt, _iterations, HashAlgorithmName.SHA256, 32);
        return $"$pbkdf2-sha256$i={_iterations},l=32${Unpadded(salt)}${Unpadded(hash)}";
    }

    /// <summary>Constant-time check of <paramref name="secret"/> against a stored hash; false for empty or malformed input.</summary>
    public bool Verify(string secret, string storedHash) =>
        secret.Length > 0 && storedHash.Length > 0 && _verifier.Verify(secret, storedHash);

    private static string Unpadded(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=');
}
