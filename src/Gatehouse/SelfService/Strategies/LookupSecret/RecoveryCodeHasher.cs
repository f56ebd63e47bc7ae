using System.Security.Cryptography;
using System.Text;
using Gatehouse.Config;

namespace Gatehouse.SelfService.Strategies.LookupSecret;

/// <summary>
/// Recovery codes are stored only as HMAC-SHA256(secret, identity id + code): a copy of the database alone does not give
/// the 41 bits of a code away to an offline search, and a hash is bound to its identity. Hashes are made with the first of
/// <c>secrets.default</c> (else <c>secrets.cookie</c>) and checked against every configured one, so rotating the secrets
/// keeps issued codes working. Comparisons are constant time.
/// </summary>
public sealed class RecoveryCodeHasher(GatehouseOptions options)
{
    private byte[][] Keys => [.. (options.Secrets.Default.Count > 0 ? options.Secrets.Default : options.Secrets.Cookie.Count > 0 ? options.Secrets.Cookie : ["gatehouse-development-secret"])
        .Select(s => Encoding.UTF8.GetBytes(s))];

    public string Hash(Guid identityId, string code) => Convert.ToBase64String(Compute(Keys[0], identityId, code));

    /// <summary>Whether <paramref name="code"/> is the code behind <paramref name="hash"/> for this identity.</summary>
    public bool Matches(Guid identityId, string code, string? hash)
    {
        if (string.IsNullOrEmpty(hash)) return false;
        Span<byte> stored = stackalloc byte[32];
        if (!Convert.TryFromBase64String(hash, stored, out var written) || written != 32) return false;
        var match = false;
        foreach (var key in Keys) match |= CryptographicOperations.FixedTimeEquals(Compute(key, identityId, code), stored);
        return match;
    }

    private static byte[] Compute(byte[] key, Guid identityId, string code) =>
        HMACSHA256.HashData(key, Encoding.UTF8.GetBytes("lookup_secret\n" + identityId.ToString("D") + "\n" + code));
}
