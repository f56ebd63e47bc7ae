using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Hashing;

/// <summary>
/// The Unix crypt(3) schemes <c>$1$</c> (MD5-crypt) and <c>$5$</c>/<c>$6$</c> (SHA-crypt).
/// </summary>
/// <remarks>
/// No maintained .NET package offers these (the NuGet catalogue has none, and P/Invoking the
/// system's libcrypt would tie verification to the host's C library), so they are written here
/// from their published specifications: Poul-Henning Kamp's MD5-crypt as shipped in FreeBSD, and
/// Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512". Only the digests themselves come
/// from the BCL; the tests pin the output to vectors from those specifications and OpenSSL.
/// </remarks>
internal static class UnixCrypt
{
    public const int Md5MaxSaltLength = 8;
    public const int ShaMaxSaltLength = 16;
    public const int ShaDefaultRounds = 5000;
    public const int ShaMinRounds = 1000;
    public const int ShaMaxRounds = 999_999_999;

    private const string Alphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    private static readonly byte[] Nul = [0];

    // The byte order in which each scheme spells its final digest, three bytes (most
    // significant first) per four characters; a trailing group is spelt with fewer characters.
    private static readonly int[][] Md5Order =
    [
        [0, 6, 12], [1, 7, 13], [2, 8, 14], [3, 9, 15], [4, 10, 5], [-1, -1, 11],
    ];

    private static readonly int[][] Sha256Order =
    [
        [0, 10, 20], [21, 1, 11], [12, 22, 2], [3, 13, 23], [24, 4, 14],
        [15, 25, 5], [6, 16, 26], [27, 7, 17], [18, 28, 8], [9, 19, 29], [-1, 31, 30],
    ];

    private static readonly int[][] Sha512Order =
    [
        [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48],
        [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13],
        [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41],
        [-1, -1, 63],
    ];

    public static bool IsAlphabet(string text) => text.AsSpan().IndexOfAnyExcept(Alphabet) < 0;

    /// <summary>The 22-character checksum MD5-crypt computes for <paramref name="password"/> and <paramref name="salt"/>.</summary>
    public static string Md5Checksum(ReadOnlySpan<byte> password, ReadOnlySpan<byte> salt)
    {
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        Span<byte> alternate = stackalloc byte[16];
        md5.AppendData(password);
        md5.AppendData(salt);
        md5.AppendData(password);
        md5.GetHashAndReset(alternate);

        md5.AppendData(password);
        md5.AppendData("$1$"u8);
        md5.AppendData(salt);
        for (var remaining = password.Length; remaining > 0; remaining -= 16)
        {
            md5.AppendData(alternate[..Math.Min(16, remaining)]);
        }

        // The original walks the bits of the length and feeds a NUL byte for a one bit and the
        // first password byte for a zero bit.
        for (var bits = password.Length; bits != 0; bits >>= 1)
        {
            md5.AppendData((bits & 1) != 0 ? Nul : password[..1]);
        }

        Span<byte> digest = stackalloc byte[16];
        md5.GetHashAndReset(digest);

        for (var round = 0; round < 1000; round++)
        {
            md5.AppendData((round & 1) != 0 ? password : digest);
            if (round % 3 != 0)
            {
                md5.AppendData(salt);
            }

            if (round % 7 != 0)
            {
                md5.AppendData(password);
            }

            md5.AppendData((round & 1) != 0 ? digest : password);
            md5.GetHashAndReset(digest);
        }

        return Spell(digest, Md5Order);
    }

    /// <summary>
    /// The checksum SHA-crypt computes: 43 characters for SHA-256, 86 for SHA-512.
    /// <paramref name="rounds"/> must already lie within the scheme's range.
    /// </summary>
    public static string ShaChecksum(HashAlgorithmName algorithm, ReadOnlySpan<byte> password, ReadOnlySpan<byte> salt, int rounds)
    {
        using var sha = IncrementalHash.CreateHash(algorithm);
        var size = sha.HashLengthInBytes;

        // Digest B = H(password ‖ salt ‖ password).
        Span<byte> b = stackalloc byte[size];
        sha.AppendData(password);
        sha.AppendData(salt);
        sha.AppendData(password);
        sha.GetHashAndReset(b);

        // Digest A = H(password ‖ salt ‖ B repeated to the password's length ‖ bit walk).
        Span<byte> a = stackalloc byte[size];
        sha.AppendData(password);
        sha.AppendData(salt);
        AppendRepeated(sha, b, password.Length);
        for (var bits = password.Length; bits != 0; bits >>= 1)
        {
            sha.AppendData((bits & 1) != 0 ? b : password);
        }

        sha.GetHashAndReset(a);

        // P = H(password repeated once per password byte), stretched to the password's length.
        Span<byte> dp = stackalloc byte[size];
        for (var i = 0; i < password.Length; i++)
        {
            sha.AppendData(password);
        }

        sha.GetHashAndReset(dp);
        var p = Repeat(dp, password.Length);

        // S = H(salt repeated 16 + A[0] times), stretched to the salt's length.
        Span<byte> ds = stackalloc byte[size];
        for (var i = 0; i < 16 + a[0]; i++)
        {
            sha.AppendData(salt);
        }

        sha.GetHashAndReset(ds);
        var s = Repeat(ds, salt.Length);

        Span<byte> c = a;
        for (var round = 0; round < rounds; round++)
        {
            if ((round & 1) != 0)
            {
                sha.AppendData(p);
            }
            else
            {
                sha.AppendData(c);
            }

            if (round % 3 != 0)
            {
                sha.AppendData(s);
            }

            if (round % 7 != 0)
            {
                sha.AppendData(p);
            }

            if ((round & 1) != 0)
            {
                sha.AppendData(c);
            }
            else
            {
                sha.AppendData(p);
            }

            sha.GetHashAndReset(c);
        }

        return Spell(c, size == 32 ? Sha256Order : Sha512Order);
    }

    private static void AppendRepeated(IncrementalHash hash, ReadOnlySpan<byte> block, int length)
    {
        for (var remaining = length; remaining > 0; remaining -= block.Length)
        {
            hash.AppendData(block[..Math.Min(block.Length, remaining)]);
        }
    }

    private static byte[] Repeat(ReadOnlySpan<byte> block, int length)
    {
        var result = new byte[length];
        for (var offset = 0; offset < length; offset += block.Length)
        {
            block[..Math.Min(block.Length, length - offset)].CopyTo(result.AsSpan(offset));
        }

        return result;
    }

    private static string Spell(ReadOnlySpan<byte> digest, int[][] order)
    {
        var text = new StringBuilder(order.Length * 4);
        for (var group = 0; group < order.Length; group++)
        {
            var indices = order[group];
            var value = 0;
            var characters = 4;
            foreach (var index in indices)
            {
                value <<= 8;
                if (index >= 0)
                {
                    value |= digest[index];
                }
            }

            if (group == order.Length - 1)
            {
                // The last group holds the bytes left over: two of them take 3 characters, one takes 2.
                characters = indices.Count(index => index >= 0) + 1;
            }

            for (var i = 0; i < characters; i++)
            {
                text.Append(Alphabet[value & 0x3f]);
                value >>= 6;
            }
        }

        return text.ToString();
    }
}
