using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;

namespace Gatehouse.Hashing;

/// <summary><c>$pbkdf2-&lt;digest&gt;$i=&lt;iterations&gt;,l=&lt;key length&gt;$&lt;salt&gt;$&lt;hash&gt;</c>; unpadded base64.</summary>
internal sealed partial class Pbkdf2Hash : StoredHash
{
    private readonly string _digest;
    private readonly byte[] _salt;
    private readonly byte[] _hash;

    private Pbkdf2Hash(string digest, long iterations, byte[] salt, byte[] hash)
    {
        _digest = digest;
        Iterations = iterations;
        _salt = salt;
        _hash = hash;
    }

    public long Iterations { get; }

    public static bool HasPrefix(string encoded) => Prefix().IsMatch(encoded);

    public static Pbkdf2Hash? Parse(string encoded)
    {
        var parts = encoded.Split('$');
        if (parts.Length != 5 || !HasPrefix(encoded))
        {
            return null;
        }

        Span<long> values = stackalloc long[2];
        if (!HashParameters.TryRead(parts[2], ["i", "l"], values) || values[0] < 1)
        {
            return null;
        }

        if (!Base64Text.TryDecodeUnpadded(parts[3], out var salt)
            || !Base64Text.TryDecodeUnpadded(parts[4], out var hash) || hash.Length == 0)
        {
            return null;
        }

        // Kratos (decodePbkdf2Hash) reads l as a uint32 and then ignores it: it derives as many bytes as the stored
        // hash has, so "l=128" over a 16-byte hash imports and matches (Kratos's own import test does this).
        if (values[1] > uint.MaxValue)
        {
            return null;
        }

        return new Pbkdf2Hash(parts[1]["pbkdf2-".Length..], values[0], salt, hash);
    }

    public override string? FindExceededBound(CostLimits limits) =>
        Iterations > limits.Pbkdf2Iterations ? $"pbkdf2 iterations i={Iterations} is above {limits.Pbkdf2Iterations}" : null;

    public override bool Matches(byte[] password)
    {
        var iterations = (int)Iterations;
        var computed = _digest switch
        {
            "sha1" => Rfc2898DeriveBytes.Pbkdf2(password, _salt, iterations, HashAlgorithmName.SHA1, _hash.Length),
            "sha512" => Rfc2898DeriveBytes.Pbkdf2(password, _salt, iterations, HashAlgorithmName.SHA512, _hash.Length),
            // Kratos quirk: "sha224" and "sha384" select SHA3-224 and SHA3-384, not SHA-2.
            "sha224" => DeriveWithSha3(224, password, iterations),
            "sha384" => DeriveWithSha3(384, password, iterations),
            // Kratos falls back to SHA-256 for any other digest its prefix pattern admits.
            _ => Rfc2898DeriveBytes.Pbkdf2(password, _salt, iterations, HashAlgorithmName.SHA256, _hash.Length),
        };
        return CryptographicOperations.FixedTimeEquals(computed, _hash);
    }

    private byte[] DeriveWithSha3(int bits, byte[] password, int iterations)
    {
        // The BCL's SHA3 depends on the platform's OpenSSL and has no SHA3-224; BouncyCastle has both.
        var generator = new Pkcs5S2ParametersGenerator(new Sha3Digest(bits));
        generator.Init(password, _salt, iterations);
        var key = (KeyParameter)generator.GenerateDerivedMacParameters(_hash.Length * 8);
        return key.GetKey();
    }

    [GeneratedRegex(@"^\$pbkdf2-sha[0-9]{1,3}\$", RegexOptions.CultureInvariant)]
    private static partial Regex Prefix();
}
