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
    public void Formats_like_go(double seconds, string expected) => Assert.Equal(expected, GoDuration.Format(TimeSpan.FromSeconds(seconds)));
}
