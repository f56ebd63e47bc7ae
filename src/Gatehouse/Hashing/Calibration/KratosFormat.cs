using System.Globalization;

namespace Gatehouse.Hashing.Calibration;

/// <summary>How Kratos's <c>hashers argon2</c> commands print sizes and durations.</summary>
public static class KratosFormat
{
    private static readonly (long Unit, string Suffix)[] Units =
    [
        (1L << 60, "EB"), (1L << 50, "PB"), (1L << 40, "TB"), (1L << 30, "GB"), (1L << 20, "MB"), (1L << 10, "KB"), (1, "B"),
    ];

    /// <summary>
    /// A size as <c>go-bytesize</c>'s <c>String()</c> writes it: the largest binary unit it reaches, two decimals
    /// (<c>128.00MB</c>, <c>1.50KB</c>, <c>0.00B</c>), an exact tie rounded to even as Go's <c>%.2f</c> does.
    /// </summary>
    public static string Size(long bytes)
    {
        if (bytes < 0) return "-" + Size(bytes == long.MinValue ? long.MaxValue : -bytes);
        var (unit, suffix) = Units.First(u => bytes >= u.Unit || u.Unit == 1);
        var hundredths = (UInt128)bytes * 100;
        var quotient = hundredths / (ulong)unit;
        var twice = hundredths % (ulong)unit * 2;
        if (twice > (ulong)unit || (twice == (ulong)unit && quotient % 2 == 1)) quotient++;
        return string.Create(CultureInfo.InvariantCulture, $"{quotient / 100}.{(int)(quotient % 100):00}{suffix}");
    }

    /// <summary>A duration as Go's JSON encoder writes a <c>time.Duration</c>: whole nanoseconds.</summary>
    public static long Nanoseconds(TimeSpan value) => value.Ticks * 100;
}
