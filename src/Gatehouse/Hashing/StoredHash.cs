using System.Diagnostics.CodeAnalysis;

namespace Gatehouse.Hashing;

/// <summary>
/// A stored password hash parsed into its parameters. Each format Gatehouse understands is a
/// subclass; <see cref="TryParse"/> recognises the format by its prefix, as Kratos's comparator
/// does (<c>hash/hash_comparator.go</c>), and then insists on a well-formed remainder.
/// </summary>
internal abstract class StoredHash
{
    /// <summary>Describes the first cost parameter above <paramref name="limits"/>, or null when all are within.</summary>
    public abstract string? FindExceededBound(CostLimits limits);

    /// <summary>Recomputes the hash for <paramref name="password"/> (UTF-8) and compares in constant time.</summary>
    public abstract bool Matches(byte[] password);

    public static bool TryParse(string encoded, [NotNullWhen(true)] out StoredHash? parsed)
    {
        parsed = Parse(encoded);
        return parsed is not null;
    }

    private static StoredHash? Parse(string encoded)
    {
        // Order and prefixes follow Kratos; none of the prefixes overlaps another.
        if (encoded.StartsWith("$md5-crypt$", StringComparison.Ordinal)
            || encoded.StartsWith("$sha256-crypt$", StringComparison.Ordinal)
            || encoded.StartsWith("$sha512-crypt$", StringComparison.Ordinal))
        {
            return UnixCryptHash.Parse(encoded);
        }

        if (BcryptHash.HasPrefix(encoded))
        {
            return BcryptHash.Parse(encoded);
        }

        if (encoded.StartsWith("$argon2id$", StringComparison.Ordinal)
            || encoded.StartsWith("$argon2i$", StringComparison.Ordinal))
        {
            return Argon2Hash.Parse(encoded);
        }

        if (Pbkdf2Hash.HasPrefix(encoded))
        {
            return Pbkdf2Hash.Parse(encoded);
        }

        if (encoded.StartsWith("$scrypt$", StringComparison.Ordinal))
        {
            return ScryptHash.Parse(encoded);
        }

        if (encoded.StartsWith("{SSHA", StringComparison.Ordinal))
        {
            return SaltedShaHash.Parse(encoded);
        }

        if (encoded.StartsWith("$sha1$", StringComparison.Ordinal)
            || encoded.StartsWith("$sha256$", StringComparison.Ordinal)
            || encoded.StartsWith("$sha512$", StringComparison.Ordinal)
            || encoded.StartsWith("$md5$", StringComparison.Ordinal))
        {
            return PatternDigestHash.Parse(encoded);
        }

        if (encoded.StartsWith("$firescrypt$", StringComparison.Ordinal))
        {
            return FirebaseScryptHash.Parse(encoded);
        }

        if (encoded.StartsWith("$hmac-", StringComparison.Ordinal))
        {
            return HmacHash.Parse(encoded);
        }

        return null;
    }
}
