using Gatehouse.Config;

namespace Gatehouse.Tests.Config;

/// <summary>
/// <see cref="ConfigLoader.LoadHashers"/>, for <c>gatehouse hashers argon2 …</c>: only <c>hashers.*</c> is read, as
/// Kratos's <c>configProvider</c> reads the config with validation skipped.
/// </summary>
public sealed class HashersConfigTests : IDisposable
{
    private readonly ConfigFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void The_hashers_section_loads_without_a_dsn_and_the_environment_wins_over_the_file()
    {
        var file = _files.Write("kratos.yml", """
            serve:
              public:
                port: not-a-port
            unknown_key: 1
            hashers:
              argon2:
                memory: 64MB
                iterations: 2
                dedicated_memory: 2GB
                expected_duration: 1s
                unknown_argon2_key: 3
            """);

        var (hashers, warnings) = ConfigLoader.LoadHashers([file], new Dictionary<string, string?> { ["HASHERS_ARGON2_ITERATIONS"] = "4" });

        // The rest of the config, valid or not, is none of these commands' business; so are its unknown keys.
        Assert.Equal(64L << 20, hashers.Argon2.Memory);
        Assert.Equal(4, hashers.Argon2.Iterations);
        Assert.Equal(2L << 30, hashers.Argon2.DedicatedMemory);
        Assert.Equal(TimeSpan.FromSeconds(1), hashers.Argon2.ExpectedDuration);
        Assert.Equal(TimeSpan.FromMilliseconds(500), hashers.Argon2.ExpectedDeviation);
        Assert.Equal(["\"hashers.argon2.unknown_argon2_key\" is not supported by Gatehouse yet and is ignored"], warnings);
    }

    [Fact]
    public void Without_files_the_defaults_are_kratos_defaults()
    {
        var (hashers, warnings) = ConfigLoader.LoadHashers([], new Dictionary<string, string?>());

        Assert.Empty(warnings);
        Assert.Equal(128L << 20, hashers.Argon2.Memory);
        Assert.Equal(1, hashers.Argon2.Iterations);
        Assert.Equal(Math.Max(1, Environment.ProcessorCount * 2), hashers.Argon2.Parallelism);
        Assert.Equal(1L << 30, hashers.Argon2.DedicatedMemory);
    }

    [Fact]
    public void A_bad_hashers_value_is_named_by_its_key_and_its_file()
    {
        var file = _files.Write("kratos.yml", "hashers:\n  argon2:\n    key_length: 8\n");

        var failure = Assert.Throws<ConfigException>(() => ConfigLoader.LoadHashers([file], new Dictionary<string, string?>()));

        Assert.StartsWith("hashers.argon2.key_length: expected an integer", failure.Message);
        Assert.EndsWith($"(in {file})", failure.Message);
    }

    [Theory]
    [InlineData("99999999999TB")]
    [InlineData("9000000000GB")]
    public void A_size_beyond_a_long_is_not_a_size(string text) => Assert.False(ByteSizeJsonConverter.TryParse(text, out _));
}
