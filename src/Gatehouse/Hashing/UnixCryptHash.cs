using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Hashing;

/// <summary>
/// Unix crypt hashes under Kratos's names: <c>$md5-crypt$&lt;salt&gt;$&lt;checksum&gt;</c>
/// (crypt's <c>$1$</c>), and <c>$sha256-crypt$[rounds=&lt;n&gt;$]&lt;salt&gt;$&lt;checksum&gt;</c> /
/// <c>$sha512-crypt$…</c> (crypt's <c>$5$</c> / <c>$6$</c>); the crypt identifier is replaced by the name.
/// </summary>
internal sealed class UnixCryptHash : StoredHash
{
    private readonly HashAlgorithmName _algorithm;
    private readonly byte[] _salt;
    private readonly string _checksum;

    private UnixCryptHash(HashAlgorithmName algorithm, long rounds, byte[] salt, string checksum)
    {
        _algorithm = algorithm;
        Rounds = rounds;
        _salt = salt;
        _checksum = checksum;
    }

    /// <summary>SHA-crypt rounds; zero for MD5-crypt, which has a fixed 1000.</summary>
    public long Rounds { get; }

    public static UnixCryptHash? Parse(string encoded)
    {
        var parts = encoded.Split('$');
        if (parts.Length < 4)
        {
            return null;
        }

        (HashAlgorithmName Algorithm, int ChecksumLength, int MaxSalt)? scheme = parts[1] switch
        {
            "md5-crypt" => (HashAlgorithmName.MD5, 22, UnixCrypt.Md5MaxSaltLength),
            "sha256-crypt" => (HashAlgorithmName.SHA256, 43, UnixCrypt.ShaMaxSaltLength),
            "sha512-crypt" => (HashAlgorithmName.SHA512, 86, UnixCrypt.ShaMaxSaltLength),
            _ => null,
        };
        if (scheme is not var (algorithm, checksumLength, maxSalt))
        {
            return null;
        }

        long rounds = 0;
        var saltIndex = 2;
        if (algorithm != HashAlgorithmName.MD5)
        {
            rounds = UnixCrypt.ShaDefaultRounds;
            if (parts[2].StartsWith("rounds=", StringComparison.Ordinal))
            {
                // A crypt implementation clamps rounds into its range and writes the clamped
                // value, so a value outside the range cannot have come from one.
                if (!HashParameters.TryReadNumber(parts[2].AsSpan("rounds=".Length), out rounds)
                    || rounds < UnixCrypt.ShaMinRounds || rounds > UnixCrypt.ShaMaxRounds)
                {
                    return null;
                }

                saltIndex = 3;
            }
        }

        if (parts.Length != saltIndex + 2)
        {
            return null;
        }

        var salt = parts[saltIndex];
        var checksum = parts[saltIndex + 1];
        if (salt.Length > maxSalt || salt.Contains(':', StringComparison.Ordinal)
            || checksum.Length != checksumLength || !UnixCrypt.IsAlphabet(checksum))
        {
            return null;
        }

        return new UnixCryptHash(algorithm, rounds, Encoding.UTF8.GetBytes(salt), checksum);
    }

    public override string? FindExceededBound(CostLimits limits) =>
        Rounds > limits.ShaCryptRounds ? $"sha-crypt rounds={Rounds} is above {limits.ShaCryptRounds}" : null;

    public override bool Matches(byte[] password)
    {
        var computed = _algorithm == HashAlgorithmName.MD5
            ? UnixCrypt.Md5Checksum(password, _salt)
            : UnixCrypt.ShaChecksum(_algorithm, password, _salt, (int)Rounds);
        return CryptographicOperations.FixedTimeEquals(
            Encoding.ASCII.GetBytes(computed), Encoding.ASCII.GetBytes(_checksum));
    }
}
