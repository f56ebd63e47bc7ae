using Gatehouse.Config;

namespace Gatehouse.Hashing;

/// <summary>
/// Upper bounds on the cost parameters a stored hash may declare. Verifying a hash costs what
/// the hash says it costs, so an imported hash with huge parameters would let whoever imported
/// it make every login attempt for that identity burn CPU and memory.
/// </summary>
internal sealed record CostLimits(
    int BcryptCost,
    long Argon2MemoryKiB,
    long Argon2Iterations,
    long Argon2Parallelism,
    long Pbkdf2Iterations,
    long ScryptN,
    long ScryptR,
    long ScryptP,
    long ShaCryptRounds)
{
    /// <summary>The bounds the admin API enforces on imported hashes (Kratos's import bounds).</summary>
    public static CostLimits Import { get; } = new(
        BcryptCost: 15,
        Argon2MemoryKiB: 1024 * 1024,
        Argon2Iterations: 10,
        Argon2Parallelism: 16,
        Pbkdf2Iterations: 10_000_000,
        ScryptN: 1 << 17,
        ScryptR: 8,
        ScryptP: 10,
        // Gatehouse's own bound: Kratos does not bound SHA-crypt rounds, whose format allows
        // up to 999,999,999. This matches the PBKDF2 bound in cost per iteration.
        ShaCryptRounds: 10_000_000);

    /// <summary>
    /// The import bounds raised to whatever the operator configured, so hashes Gatehouse itself
    /// produced always verify even when the configuration exceeds the import bounds.
    /// </summary>
    public static CostLimits ForVerification(HashersOptions options) => Import with
    {
        BcryptCost = Math.Max(Import.BcryptCost, options.Bcrypt.Cost),
        Argon2MemoryKiB = Math.Max(Import.Argon2MemoryKiB, options.Argon2.Memory / 1024),
        Argon2Iterations = Math.Max(Import.Argon2Iterations, options.Argon2.Iterations),
        Argon2Parallelism = Math.Max(Import.Argon2Parallelism, options.Argon2.Parallelism),
    };
}
