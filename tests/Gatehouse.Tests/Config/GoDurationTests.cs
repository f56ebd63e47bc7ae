using Gatehouse.Config;

namespace Gatehouse.Tests.Config;

public sealed class GoDurationTests
{
    [Theory]
    [InlineData("1h", 3600)]
    [InlineData("15m", 900)]
    [InlineData("1h30m", 5400)]
    [InlineData("30s", 30)]
    [InlineData("1.5h", 5400)]
    [InlineData("0", 0)]
    [InlineData("500ms", 0.5)]
    public void Parses_go_duration_strings(string text, double seconds)
    {
        Assert.True(GoDuration.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromSeconds(seconds), value);
    }

    [Theory]
    [InlineData("-1ns")]
    [InlineData("-49ns")]
    public void A_negative_duration_shorter_than_a_tick_stays_negative(string text)
    {
        // Hydra reads "-1ns" as a negative lifespan (a refresh token without expiry); rounded to zero it would expire at once.
        Assert.True(GoDuration.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromTicks(-1), value);
        Assert.True(GoDuration.TryParse("1ns", out var positive));
        Assert.Equal(TimeSpan.Zero, positive);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1d")]
    [InlineData("h")]
    [InlineData("abc")]
    [InlineData("10")]
    public void Rejects_what_go_rejects(string text) => Assert.False(GoDuration.TryParse(text, out _));

    [Theory]
    [InlineData(3600, "1h")]
    [InlineData(5400, "1h30m")]
    [InlineData(90, "1m30s")]
    [InlineData(0, "0s")]
    public void Formats_as_config_is_written(double seconds, string expected) => Assert.Equal(expected, GoDuration.Format(TimeSpan.FromSeconds(seconds)));

    /// <summary>Go's <c>time.Duration.String()</c>, as Kratos prints durations in its answers.</summary>
    [Theory]
    [InlineData(3600, "1h0m0s")]
    [InlineData(5400, "1h30m0s")]
    [InlineData(90, "1m30s")]
    [InlineData(1.5, "1.5s")]
    [InlineData(0.5, "500ms")]
    [InlineData(0.0000015, "1.5µs")]
    [InlineData(-3600, "-1h0m0s")]
    [InlineData(0, "0s")]
    public void Prints_as_go_does(double seconds, string expected) => Assert.Equal(expected, GoDuration.ToGoString(TimeSpan.FromTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond))));
}
