using System.Security.Cryptography;

namespace Gatehouse.Hashing;

internal static class Digests
{
    public static byte[] Compute(HashAlgorithmName algorithm, byte[] data)
    {
        if (algorithm == HashAlgorithmName.MD5)
        {
            // MD5 only ever verifies hashes imported from legacy systems.
#pragma warning disable CA5351
            return MD5.HashData(data);
#pragma warning restore CA5351
        }

        if (algorithm == HashAlgorithmName.SHA1)
        {
#pragma warning disable CA5350 // SHA-1 only ever verifies hashes imported from legacy systems.
            return SHA1.HashData(data);
#pragma warning restore CA5350
        }

        if (algorithm == HashAlgorithmName.SHA256)
        {
            return SHA256.HashData(data);
        }

        if (algorithm == HashAlgorithmName.SHA512)
        {
            return SHA512.HashData(data);
        }

        throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm.Name, "Not a digest used by an imported hash format.");
    }
}
