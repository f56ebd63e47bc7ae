using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.Hashing.Calibration;

/// <summary>
/// Everything <c>hashers.argon2</c> holds, as Kratos's <c>config.Argon2</c>: the hash's cost (memory in bytes,
/// iterations, parallelism, salt and key length) and the calibration's targets (<see cref="ExpectedDuration"/>,
/// <see cref="ExpectedDeviation"/>, <see cref="DedicatedMemory"/>), which only the <c>hashers argon2</c> commands read.
/// </summary>
public sealed record Argon2Parameters(
    long Memory,
    int Iterations,
    int Parallelism,
    int SaltLength,
    int KeyLength,
    TimeSpan ExpectedDuration,
    TimeSpan ExpectedDeviation,
    long DedicatedMemory)
{
    /// <summary>The least memory a Gatehouse argon2 hash takes: 1 KiB (<c>m=1</c>); less would be <c>m=0</c>.</summary>
    public const long MinMemory = 1024;

    public static Argon2Parameters From(Argon2Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new(options.Memory, options.Iterations, options.Parallelism, options.SaltLength, options.KeyLength,
            options.ExpectedDuration, options.ExpectedDeviation, options.DedicatedMemory);
    }

    public Argon2Options ToOptions() => new()
    {
        Memory = Memory,
        Iterations = Iterations,
        Parallelism = Parallelism,
        SaltLength = SaltLength,
        KeyLength = KeyLength,
        ExpectedDuration = ExpectedDuration,
        ExpectedDeviation = ExpectedDeviation,
        DedicatedMemory = DedicatedMemory,
    };

    /// <summary>A hasher that makes argon2id hashes with these parameters: the server's own (<see cref="PasswordHasher"/>).</summary>
    /// <exception cref="ArgumentException">A parameter the hasher cannot take (memory under 1 KiB, a salt under 8 bytes, …).</exception>
    public PasswordHasher CreateHasher() => new(new HashersOptions { Algorithm = "argon2", Argon2 = ToOptions() });

    /// <summary>Kratos's table of the configuration (<c>argon2Config.Header</c>): the JSON keys upper-cased, <c>_</c> as a space.</summary>
    public static IReadOnlyList<string> Header { get; } =
        ["MEMORY", "ITERATIONS", "PARALLELISM", "SALT LENGTH", "KEY LENGTH", "EXPECTED DURATION", "EXPECTED DEVIATION", "DEDICATED MEMORY"];

    /// <summary>The table's values, as Go prints them (<c>128.00MB</c>, <c>500ms</c>).</summary>
    public IReadOnlyList<string> Columns() =>
    [
        KratosFormat.Size(Memory),
        Iterations.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Parallelism.ToString(System.Globalization.CultureInfo.InvariantCulture),
        SaltLength.ToString(System.Globalization.CultureInfo.InvariantCulture),
        KeyLength.ToString(System.Globalization.CultureInfo.InvariantCulture),
        GoDuration.ToGoString(ExpectedDuration),
        GoDuration.ToGoString(ExpectedDeviation),
        KratosFormat.Size(DedicatedMemory),
    ];

    /// <summary>Kratos's JSON of the configuration: sizes in bytes and durations in nanoseconds, as Go encodes them.</summary>
    public JsonObject ToJson() => new()
    {
        ["memory"] = Memory,
        ["iterations"] = Iterations,
        ["parallelism"] = Parallelism,
        ["salt_length"] = SaltLength,
        ["key_length"] = KeyLength,
        ["expected_duration"] = KratosFormat.Nanoseconds(ExpectedDuration),
        ["expected_deviation"] = KratosFormat.Nanoseconds(ExpectedDeviation),
        ["dedicated_memory"] = DedicatedMemory,
    };
}
