using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace Gatehouse.Hashing;

/// <summary>
/// Firebase's modified scrypt, as exported by Firebase Auth:
/// <c>$firescrypt$ln=&lt;mem_cost&gt;,r=&lt;rounds&gt;,p=&lt;p&gt;$&lt;salt&gt;$&lt;hash&gt;$&lt;salt separator&gt;$&lt;signer key&gt;</c>,
/// padded base64. Here <c>ln</c> is log2(N) (Firebase's <c>mem_cost</c>). Firebase derives a
/// 32-byte key with scrypt over salt‖separator and stores the project's signer key encrypted
/// with it under AES-256-CTR and a zero IV.
/// </summary>
internal sealed class FirebaseScryptHash : StoredHash
{
    private const int DerivedKeyLength = 32;

    private readonly byte[] _salt;
    private readonly byte[] _hash;
    private readonly byte[] _saltSeparator;
    private readonly byte[] _signerKey;

    private FirebaseScryptHash(long n, long r, long p, byte[] salt, byte[] hash, byte[] saltSeparator, byte[] signerKey)
    {
        N = n;
        R = r;
        P = p;
        _salt = salt;
        _hash = hash;
        _saltSeparator = saltSeparator;
        _signerKey = signerKey;
    }

    public long N { get; }

    public long R { get; }

    public long P { get; }

    public static FirebaseScryptHash? Parse(string encoded)
    {
        var parts = encoded.Split('$');
        if (parts.Length != 7 || parts[1] != "firescrypt")
        {
            return null;
        }

        Span<long> values = stackalloc long[3];
        if (!HashParameters.TryRead(parts[2], ["ln", "r", "p"], values) || values[0] is < 1 or > 62)
        {
            return null;
        }

        var n = 1L << (int)values[0];
        if (!ScryptHash.AreValid(n, values[1], values[2]))
        {
            return null;
        }

        if (!Base64Text.TryDecodePadded(parts[3], out var salt)
            || !Base64Text.TryDecodePadded(parts[4], out var hash) || hash.Length == 0
            || !Base64Text.TryDecodePadded(parts[5], out var separator)
            || !Base64Text.TryDecodePadded(parts[6], out var signerKey))
        {
            return null;
        }

        return new FirebaseScryptHash(n, values[1], values[2], salt, hash, separator, signerKey);
    }

    public override string? FindExceededBound(CostLimits limits) =>
        ScryptHash.FindExceededBound(N, R, P, limits, "firescrypt");

    public override bool Matches(byte[] password)
    {
        var key = SCrypt.Generate(password, [.. _salt, .. _saltSeparator], (int)N, (int)R, (int)P, DerivedKeyLength);
        var aesCtr = CipherUtilities.GetCipher("AES/CTR/NoPadding");
        aesCtr.Init(forEncryption: true, new ParametersWithIV(new KeyParameter(key), new byte[16]));
        var computed = aesCtr.DoFinal(_signerKey);
        return CryptographicOperations.FixedTimeEquals(computed, _hash);
    }
}
