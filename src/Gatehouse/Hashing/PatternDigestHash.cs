using System.Security.Cryptography;

namespace Gatehouse.Hashing;

/// <summary>
/// A single digest over the password, optionally salted through a pattern:
/// <c>$sha1$pf=&lt;pattern&gt;$&lt;salt&gt;$&lt;hash&gt;</c> (also <c>$sha256$</c>, <c>$sha512$</c>),
/// <c>$md5$pf=&lt;pattern&gt;$&lt;salt&gt;$&lt;hash&gt;</c> and the unsalted <c>$md5$&lt;hash&gt;</c>.
/// All parts are padded base64. The pattern spells the digested input with the placeholders
/// <c>{SALT}</c> and <c>{PASSWORD}</c>, e.g. <c>{SALT}{PASSWORD}</c>.
/// </summary>
internal sealed class PatternDigestHash : StoredHash
{
    private static readonly byte[] SaltPlaceholder = "{SALT}"u8.ToArray();
    private static readonly byte[] PasswordPlaceholder = "{PASSWORD}"u8.ToArray();

    private readonly HashAlgorithmName _algorithm;
    private readonly byte[]? _pattern;
    private readonly byte[] _salt;
    private readonly byte[] _digest;

    private PatternDigestHash(HashAlgorithmName algorithm, byte[]? pattern, byte[] salt, byte[] digest)
    {
        _algorithm = algorithm;
        _pattern = pattern;
        _salt = salt;
        _digest = digest;
    }

    public static PatternDigestHash? Parse(string encoded)
    {
        var parts = encoded.Split('$');
        HashAlgorithmName? algorithm = parts.Length < 2 ? null : parts[1] switch
        {
            "md5" => HashAlgorithmName.MD5,
            "sha1" => HashAlgorithmName.SHA1,
            "sha256" => HashAlgorithmName.SHA256,
            "sha512" => HashAlgorithmName.SHA512,
            _ => null,
        };
        if (algorithm is not { } name)
        {
            return null;
        }

        if (parts.Length == 3 && name == HashAlgorithmName.MD5)
        {
            return Base64Text.TryDecodePadded(parts[2], out var plain) && plain.Length > 0
                ? new PatternDigestHash(name, null, [], plain)
                : null;
        }

        if (parts.Length != 5
            || !parts[2].StartsWith("pf=", StringComparison.Ordinal)
            || !Base64Text.TryDecodePadded(parts[2][3..], out var pattern)
            || !Base64Text.TryDecodePadded(parts[3], out var salt)
            || !Base64Text.TryDecodePadded(parts[4], out var digest) || digest.Length == 0)
        {
            return null;
        }

        return new PatternDigestHash(name, pattern, salt, digest);
    }

    public override string? FindExceededBound(CostLimits limits) => null;

    public override bool Matches(byte[] password)
    {
        var input = _pattern is null ? password : Expand(_pattern, _salt, password);
        var computed = Digests.Compute(_algorithm, input);
        return CryptographicOperations.FixedTimeEquals(computed, _digest);
    }

    /// <summary>
    /// Substitutes the placeholders in one left-to-right pass, so a salt or password that itself
    /// contains a placeholder is taken literally.
    /// </summary>
    internal static byte[] Expand(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> password)
    {
        var output = new List<byte>(pattern.Length + salt.Length + password.Length);
        var i = 0;
        while (i < pattern.Length)
        {
            var rest = pattern[i..];
            if (rest.StartsWith(SaltPlaceholder))
            {
                output.AddRange(salt);
                i += SaltPlaceholder.Length;
            }
            else if (rest.StartsWith(PasswordPlaceholder))
            {
                output.AddRange(password);
                i += PasswordPlaceholder.Length;
            }
            else
            {
                output.Add(pattern[i]);
                i++;
            }
        }

        return [.. output];
    }
}
