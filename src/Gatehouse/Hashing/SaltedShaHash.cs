using System.Security.Cryptography;

namespace Gatehouse.Hashing;

/// <summary>
/// LDAP salted SHA: <c>{SSHA}</c>, <c>{SSHA256}</c> or <c>{SSHA512}</c> followed by
/// base64(digest(password‖salt)‖salt). The salt is whatever follows the digest and must not be empty.
/// </summary>
internal sealed class SaltedShaHash : StoredHash
{
    private readonly HashAlgorithmName _algorithm;
    private readonly byte[] _digest;
    private readonly byte[] _salt;

    private SaltedShaHash(HashAlgorithmName algorithm, byte[] digest, byte[] salt)
    {
        _algorithm = algorithm;
        _digest = digest;
        _salt = salt;
    }

    public static SaltedShaHash? Parse(string encoded)
    {
        var end = encoded.IndexOf('}', StringComparison.Ordinal);
        if (end < 0)
        {
            return null;
        }

        (HashAlgorithmName Algorithm, int Length)? scheme = encoded[..(end + 1)] switch
        {
            "{SSHA}" => (HashAlgorithmName.SHA1, SHA1.HashSizeInBytes),
            "{SSHA256}" => (HashAlgorithmName.SHA256, SHA256.HashSizeInBytes),
            "{SSHA512}" => (HashAlgorithmName.SHA512, SHA512.HashSizeInBytes),
            _ => null,
        };
        if (scheme is not var (algorithm, length)
            || !Base64Text.TryDecodePadded(encoded[(end + 1)..], out var decoded)
            || decoded.Length <= length)
        {
            return null;
        }

        return new SaltedShaHash(algorithm, decoded[..length], decoded[length..]);
    }

    public override string? FindExceededBound(CostLimits limits) => null;

    public override bool Matches(byte[] password)
    {
        var computed = Digests.Compute(_algorithm, [.. password, .. _salt]);
        return CryptographicOperations.FixedTimeEquals(computed, _digest);
    }
}
