using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Generators;

namespace Gatehouse.Hashing;

/// <summary>
/// <c>$scrypt$ln=&lt;N&gt;,r=&lt;r&gt;,p=&lt;p&gt;$&lt;salt&gt;$&lt;hash&gt;</c>; padded base64.
/// Despite its name, Kratos reads <c>ln</c> as N itself, not as log2(N).
/// </summary>
internal sealed class ScryptHash : StoredHash
{
    private readonly byte[] _salt;
    private readonly byte[] _hash;

    private ScryptHash(long n, long r, long p, byte[] salt, byte[] hash)
    {
        N = n;
        R = r;
        P = p;
        _salt = salt;
        _hash = hash;
    }

    public long N { get; }

    public long R { get; }

    public long P { get; }

    public static ScryptHash? Parse(string encoded)
    {
        var parts = encoded.Split('$');
        if (parts.Length != 5 || parts[1] != "scrypt")
        {
            return null;
        }

        Span<long> values = stackalloc long[3];
        if (!HashParameters.TryRead(parts[2], ["ln", "r", "p"], values) || !AreValid(values[0], values[1], values[2]))
        {
            return null;
        }

        if (!Base64Text.TryDecodePadded(parts[3], out var salt)
            || !Base64Text.TryDecodePadded(parts[4], out var hash) || hash.Length == 0)
        {
            return null;
        }

        return new ScryptHash(values[0], values[1], values[2], salt, hash);
    }

    /// <summary>scrypt requires N to be a power of two above 1, and r and p to be positive.</summary>
    public static bool AreValid(long n, long r, long p) => n > 1 && (n & (n - 1)) == 0 && r >= 1 && p >= 1;

    public static string? FindExceededBound(long n, long r, long p, CostLimits limits, string name)
    {
        if (n > limits.ScryptN)
        {
            return $"{name} N={n} is above {limits.ScryptN}";
        }

        if (r > limits.ScryptR)
        {
            return $"{name} r={r} is above {limits.ScryptR}";
        }

        return p > limits.ScryptP ? $"{name} p={p} is above {limits.ScryptP}" : null;
    }

    public override string? FindExceededBound(CostLimits limits) => FindExceededBound(N, R, P, limits, "scrypt");

    public override bool Matches(byte[] password)
    {
        var computed = SCrypt.Generate(password, _salt, (int)N, (int)R, (int)P, _hash.Length);
        return CryptographicOperations.FixedTimeEquals(computed, _hash);
    }
}
