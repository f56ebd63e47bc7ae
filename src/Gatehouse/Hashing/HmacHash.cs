using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Macs;
using Org.BouncyCastle.Crypto.Parameters;

namespace Gatehouse.Hashing;

/// <summary>
/// <c>$hmac-&lt;md4|md5|sha1|sha224|sha256|sha384|sha512&gt;$&lt;hash&gt;$&lt;key&gt;</c>, padded base64.
/// As in Kratos, the stored hash is the lower-case hex spelling of HMAC(key, password), so that
/// text (not the raw MAC) is what gets compared. Unlike the PBKDF2 format, sha224 and sha384
/// here are SHA-2.
/// </summary>
internal sealed class HmacHash : StoredHash
{
    private readonly string _algorithm;
    private readonly byte[] _hexDigest;
    private readonly byte[] _key;

    private HmacHash(string algorithm, byte[] hexDigest, byte[] key)
    {
        _algorithm = algorithm;
        _hexDigest = hexDigest;
        _key = key;
    }

    public static HmacHash? Parse(string encoded)
    {
        var parts = encoded.Split('$');
        if (parts.Length != 4 || !parts[1].StartsWith("hmac-", StringComparison.Ordinal))
        {
            return null;
        }

        var algorithm = parts[1]["hmac-".Length..];
        if (algorithm is not ("md4" or "md5" or "sha1" or "sha224" or "sha256" or "sha384" or "sha512")
            || !Base64Text.TryDecodePadded(parts[2], out var hexDigest) || hexDigest.Length == 0
            || !Base64Text.TryDecodePadded(parts[3], out var key))
        {
            return null;
        }

        return new HmacHash(algorithm, hexDigest, key);
    }

    public override string? FindExceededBound(CostLimits limits) => null;

    public override bool Matches(byte[] password)
    {
#pragma warning disable CA5350, CA5351 // MD5 and SHA-1 only ever verify hashes imported from legacy systems.
        var mac = _algorithm switch
        {
            "md4" => BouncyCastleHmac(new MD4Digest(), password),
            "md5" => HMACMD5.HashData(_key, password),
            "sha1" => HMACSHA1.HashData(_key, password),
            "sha224" => BouncyCastleHmac(new Sha224Digest(), password),
            "sha256" => HMACSHA256.HashData(_key, password),
            "sha384" => HMACSHA384.HashData(_key, password),
            _ => HMACSHA512.HashData(_key, password),
        };
#pragma warning restore CA5350, CA5351
        var computed = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(mac));
        return CryptographicOperations.FixedTimeEquals(computed, _hexDigest);
    }

    /// <summary>The BCL has neither MD4 nor SHA-224.</summary>
    private byte[] BouncyCastleHmac(IDigest digest, byte[] password)
    {
        var hmac = new HMac(digest);
        hmac.Init(new KeyParameter(_key));
        hmac.BlockUpdate(password, 0, password.Length);
        var mac = new byte[hmac.GetMacSize()];
        hmac.DoFinal(mac, 0);
        return mac;
    }
}
