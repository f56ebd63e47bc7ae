using System.Globalization;
using Gatehouse.Persistence;

namespace Gatehouse.Tests.Persistence;

public sealed class SqliteDateTimesTests
{
    [Theory]
    [InlineData("2026-12-05 09:34:00", "2026-12-05T09:34:00.0000000Z")]
    [InlineData("2026-12-05 09:34:07.5", "2026-12-05T09:34:07.5000000Z")]
    [InlineData("2024-02-29 23:59:59.9999999", "2024-02-29T23:59:59.9999999Z")]
    [InlineData("0001-01-01 00:00:00", "0001-01-01T00:00:00.0000000Z")]
    public void The_text_EF_writes_is_read_as_utc(string text, string expected)
    {
        Assert.True(SqliteDateTimes.TryParse(text, out var value));
        Assert.Equal(DateTimeKind.Utc, value.Kind);
        Assert.Equal(expected, value.ToString("O", CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Every_text_Microsoft_Data_Sqlite_writes_reads_back_the_same_instant()
    {
        var random = new Random(14);
        for (var i = 0; i < 2000; i++)
        {
            var t = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddTicks((long)(random.NextDouble() * TimeSpan.TicksPerDay * 365 * 40));
            if (i % 3 == 0) t = new DateTime(t.Ticks - t.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
            // Microsoft.Data.Sqlite's binding of a DateTime parameter (and EF's literal form).
            var text = t.ToString(@"yyyy\-MM\-dd HH\:mm\:ss.FFFFFFF", CultureInfo.InvariantCulture);
            Assert.True(SqliteDateTimes.TryParse(text, out var value), text);
            Assert.Equal(t, value);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("2026-12-05T09:34:00")]
    [InlineData("2026-12-05 09:34:00Z")]
    [InlineData("2026-12-05 09:34:00.")]
    [InlineData("2026-12-05 09:34:00.12345678")]
    [InlineData("2026-13-05 09:34:00")]
    [InlineData("2026-02-30 09:34:00")]
    [InlineData("2026-12-05 24:00:00")]
    [InlineData("2026-12-05 09:3a:00")]
    public void Any_other_text_is_left_to_the_readers_own_parsing(string text) =>
        Assert.False(SqliteDateTimes.TryParse(text, out _));
}
