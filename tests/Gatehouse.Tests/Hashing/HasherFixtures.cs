using Gatehouse.Config;
using Gatehouse.Hashing;

namespace Gatehouse.Tests.Hashing;

/// <summary>Hashers with cheap parameters, so the suite stays fast.</summary>
internal static class HasherFixtures
{
    /// <summary>The password every known vector below was generated from.</summary>
    public const string Right = "correct horse battery staple";

    public const string Wrong = "correct horse battery stapler";

    public static HashersOptions BcryptOptions(int cost = 4) => new()
    {
        Algorithm = "bcrypt",
        Bcrypt = new BcryptOptions { Cost = cost },
    };

    public static HashersOptions Argon2Options(
        long memoryKiB = 64, int iterations = 1, int parallelism = 1, int keyLength = 32, int saltLength = 16) => new()
        {
            Algorithm = "argon2",
            Argon2 = new Argon2Options
            {
                Memory = memoryKiB * 1024,
                Iterations = iterations,
                Parallelism = parallelism,
                KeyLength = keyLength,
                SaltLength = saltLength,
            },
        };

    public static PasswordHasher Bcrypt(int cost = 4) => new(BcryptOptions(cost));

    public static PasswordHasher Argon2(long memoryKiB = 64, int iterations = 1, int parallelism = 1, int keyLength = 32) =>
        new(Argon2Options(memoryKiB, iterations, parallelism, keyLength));
}
