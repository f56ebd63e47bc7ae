using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;

namespace Gatehouse.Hashing;

/// <summary><c>$argon2id$v=19$m=&lt;KiB&gt;,t=&lt;passes&gt;,p=&lt;lanes&gt;$&lt;salt&gt;$&lt;hash&gt;</c>, and the same for <c>$argon2i$</c>; unpadded base64.</summary>
internal sealed class Argon2Hash : StoredHash
{
    /// <summary>Argon2 version 1.3, the only one Kratos accepts.</summary>
    public const int Version = 19;

    private readonly byte[] _salt;
    private readonly byte[] _hash;

    private Argon2Hash(bool isArgon2id, long memoryKiB, long iterations, long parallelism, byte[] salt, byte[] hash)
    {
        IsArgon2id = isArgon2id;
        MemoryKiB = memoryKiB;
        Iterations = iterations;
        Parallelism = parallelism;
        _salt = salt;
        _hash = hash;
    }

    public bool IsArgon2id { get; }

    public long MemoryKiB { get; }

    public long Iterations { get; }

    public long Parallelism { get; }

    public int KeyLength => _hash.Length;

    public static Argon2Hash? Parse(string encoded)
    {
        var parts = encoded.Split('$');
        if (parts.Length != 6 || parts[1] is not ("argon2id" or "argon2i"))
        {
            return null;
        }

        if (!parts[2].StartsWith("v=", StringComparison.Ordinal)
            || !HashParameters.TryReadNumber(parts[2].AsSpan(2), out var version)
            || version != Version)
        {
            return null;
        }

        Span<long> values = stackalloc long[3];
        if (!HashParameters.TryRead(parts[3], ["m", "t", "p"], values))
        {
            return null;
        }

        var (memory, iterations, parallelism) = (values[0], values[1], values[2]);

        // At least one pass, one lane and 1 KiB. RFC 9106 asks for 8 KiB per lane; Go's argon2 (Kratos) takes less, hashes
        // the value as given into the first block and fills 8 KiB per lane, and BouncyCastle computes the same (tested
        // against Go's output in Argon2CompatibilityTests). Only m=0, which Go also rounds up, BouncyCastle cannot take.
        if (iterations < 1 || parallelism < 1 || memory < 1)
        {
            return null;
        }

        if (!Base64Text.TryDecodeUnpadded(parts[4], out var salt) || salt.Length == 0
            || !Base64Text.TryDecodeUnpadded(parts[5], out var hash) || hash.Length < 4)
        {
            return null;
        }

        return new Argon2Hash(parts[1] == "argon2id", memory, iterations, parallelism, salt, hash);
    }

    public override string? FindExceededBound(CostLimits limits)
    {
        if (MemoryKiB > limits.Argon2MemoryKiB)
        {
            return $"argon2 memory m={MemoryKiB} KiB is above {limits.Argon2MemoryKiB} KiB";
        }

        if (Iterations > limits.Argon2Iterations)
        {
            return $"argon2 iterations t={Iterations} is above {limits.Argon2Iterations}";
        }

        return Parallelism > limits.Argon2Parallelism
            ? $"argon2 parallelism p={Parallelism} is above {limits.Argon2Parallelism}"
            : null;
    }

    public override bool Matches(byte[] password)
    {
        var computed = Derive(IsArgon2id, password, _salt, (int)MemoryKiB, (int)Iterations, (int)Parallelism, _hash.Length);
        return CryptographicOperations.FixedTimeEquals(computed, _hash);
    }

    /// <summary>
    /// Argon2 (RFC 9106) with BouncyCastle, which fills the lanes one after another on the calling thread. That thread is
    /// a hashing queue's (<see cref="HashingQueue"/>), and everything a hash costs must stay on it: Konscious's Argon2,
    /// used before, runs every segment of every lane as a thread-pool task (even at p=1) while the hashing thread waits,
    /// so an argon2 hash escaped the queue's concurrency bound and low priority, took pool threads from requests, and
    /// could make the pool create a worker on the hashing thread, born at its low priority. The lanes still change the
    /// result as <c>p</c> says; only the computing is sequential (about 1.2× the CPU time of Konscious's per hash here).
    /// </summary>
    public static byte[] Derive(bool argon2id, byte[] password, byte[] salt, int memoryKiB, int iterations, int parallelism, int keyLength)
    {
        var parameters = new Argon2Parameters.Builder(argon2id ? Argon2Parameters.Argon2id : Argon2Parameters.Argon2i)
            .WithVersion(Argon2Parameters.Version13)
            .WithMemoryAsKB(memoryKiB)
            .WithIterations(iterations)
            .WithParallelism(parallelism)
            .WithSalt(salt)
            .Build();
        var generator = new Argon2BytesGenerator();
        generator.Init(parameters);
        var output = new byte[keyLength];
        generator.GenerateBytes(password, output);
        return output;
    }

    public static string Encode(long memoryKiB, int iterations, int parallelism, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> hash) =>
        $"$argon2id$v={Version}$m={memoryKiB},t={iterations},p={parallelism}${Base64Text.EncodeUnpadded(salt)}${Base64Text.EncodeUnpadded(hash)}";
}
