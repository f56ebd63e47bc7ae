using System.Globalization;
using System.Text;

namespace Gatehouse.Config;

/// <summary>
/// Go's <c>time.ParseDuration</c> syntax, which Kratos configs and API bodies (e.g. <c>expires_in</c>) use:
/// a sequence of decimal numbers with units ns, us, µs, ms, s, m, h. As in Go, a duration is an int64 count of
/// nanoseconds, so anything beyond about 292 years (<see cref="Max"/>, 2562047h47m16.854775807s) is refused rather than
/// accepted and later overflowing a time computation (an <c>expires_in</c> of <c>80000000h</c> was a 500).
/// </summary>
public static class GoDuration
{
    /// <summary>Go's largest duration: <c>math.MaxInt64</c> nanoseconds.</summary>
    public static readonly TimeSpan Max = TimeSpan.FromTicks(long.MaxValue / 100);

    public static bool TryParse(string text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrEmpty(text)) return false;
        var span = text.AsSpan();
        var negative = false;
        if (span[0] is '+' or '-') { negative = span[0] == '-'; span = span[1..]; }
        if (span.SequenceEqual("0")) return true;
        if (span.IsEmpty) return false;
        double totalTicks = 0;
        while (!span.IsEmpty)
        {
            var i = 0;
            while (i < span.Length && (char.IsAsciiDigit(span[i]) || span[i] == '.')) i++;
            if (i == 0) return false;
            if (!double.TryParse(span[..i], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number)) return false;
            span = span[i..];
            var j = 0;
            while (j < span.Length && !char.IsAsciiDigit(span[j]) && span[j] != '.') j++;
            double ticksPerUnit = span[..j] switch
            {
                "ns" => 0.01,
                "us" or "µs" or "μs" => 10,
                "ms" => TimeSpan.TicksPerMillisecond,
                "s" => TimeSpan.TicksPerSecond,
                "m" => TimeSpan.TicksPerMinute,
                "h" => TimeSpan.TicksPerHour,
                _ => double.NaN,
            };
            if (double.IsNaN(ticksPerUnit)) return false;
            totalTicks += number * ticksPerUnit;
            span = span[j..];
        }
        if (totalTicks > Max.Ticks) return false;
        var ticks = (long)Math.Round(negative ? -totalTicks : totalTicks);
        // A negative duration shorter than a tick (Go's "-1ns") stays negative: for Hydra's lifespans the sign is what
        // counts (a negative refresh-token lifespan means no expiry), and rounding it to zero would invert that.
        if (ticks == 0 && negative && totalTicks > 0) ticks = -1;
        value = TimeSpan.FromTicks(ticks);
        return true;
    }

    /// <summary>
    /// The error Go's <c>time.ParseDuration</c> gives for a text <see cref="TryParse"/> refuses: <c>time: missing unit in
    /// duration "5"</c>, <c>time: unknown unit "x" in duration "5x"</c>, else <c>time: invalid duration "…"</c> (also for
    /// a value beyond <see cref="Max"/>).
    /// </summary>
    public static string ParseError(string text)
    {
        var quoted = Quote(text);
        var invalid = "time: invalid duration " + quoted;
        var span = text.AsSpan();
        if (!span.IsEmpty && span[0] is '+' or '-') span = span[1..];
        if (span.IsEmpty) return invalid;
        while (!span.IsEmpty)
        {
            if (span[0] != '.' && !char.IsAsciiDigit(span[0])) return invalid;
            var i = 0;
            while (i < span.Length && char.IsAsciiDigit(span[i])) i++;
            var digits = i;
            if (i < span.Length && span[i] == '.')
            {
                i++;
                while (i < span.Length && char.IsAsciiDigit(span[i])) { i++; digits++; }
            }
            if (digits == 0) return invalid;
            span = span[i..];
            var j = 0;
            while (j < span.Length && span[j] != '.' && !char.IsAsciiDigit(span[j])) j++;
            if (j == 0) return "time: missing unit in duration " + quoted;
            if (span[..j] is not ("ns" or "us" or "µs" or "μs" or "ms" or "s" or "m" or "h"))
                return $"time: unknown unit {Quote(span[..j].ToString())} in duration {quoted}";
            span = span[j..];
        }
        return invalid;
    }

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    /// <summary>
    /// A duration as an operator writes it in the config file (<c>1h30m</c>, <c>15m</c>, <c>1.5s</c>): zero parts left out,
    /// sub-second values in seconds; <see cref="TryParse"/> reads it back. For the config dump and the CLI. Where Kratos
    /// or Hydra print a duration in an answer, they use Go's <c>Duration.String()</c>: <see cref="ToGoString"/>.
    /// </summary>
    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero) return "0s";
        var sb = new StringBuilder();
        if (value < TimeSpan.Zero) { sb.Append('-'); value = value.Negate(); }
        if (value.Ticks >= TimeSpan.TicksPerHour) sb.Append((long)value.TotalHours).Append('h');
        if (value.Minutes > 0 || (sb.Length > 0 && (value.Seconds > 0 || value.Milliseconds > 0))) sb.Append(value.Minutes).Append('m');
        var seconds = value.Seconds + (value.Ticks % TimeSpan.TicksPerSecond) / (double)TimeSpan.TicksPerSecond;
        if (seconds > 0 || sb.Length == 0) sb.Append(seconds.ToString("0.#########", CultureInfo.InvariantCulture)).Append('s');
        return sb.ToString();
    }

    /// <summary>Go's <c>time.Duration.String()</c>: <c>-1h0m0s</c>, <c>1m30s</c>, <c>1.5s</c>, <c>500ms</c>, <c>0s</c>.</summary>
    public static string ToGoString(TimeSpan value)
    {
        if (value == TimeSpan.Zero) return "0s";
        var negative = value < TimeSpan.Zero;
        // Ticks are 100 ns; the magnitude of long.MinValue ticks still fits a decimal.
        var ns = Math.Abs((decimal)value.Ticks) * 100;
        string text;
        if (ns < 1_000) text = $"{Fraction(ns)}ns";
        else if (ns < 1_000_000) text = $"{Fraction(ns / 1_000m)}µs";
        else if (ns < 1_000_000_000) text = $"{Fraction(ns / 1_000_000m)}ms";
        else
        {
            var hours = decimal.Truncate(ns / 3_600_000_000_000m);
            ns -= hours * 3_600_000_000_000m;
            var minutes = decimal.Truncate(ns / 60_000_000_000m);
            ns -= minutes * 60_000_000_000m;
            var seconds = Fraction(ns / 1_000_000_000m) + "s";
            text = hours > 0 ? $"{Fraction(hours)}h{Fraction(minutes)}m{seconds}" : minutes > 0 ? $"{Fraction(minutes)}m{seconds}" : seconds;
        }
        return negative ? "-" + text : text;
    }

    private static string Fraction(decimal value) => value.ToString("0.#########", CultureInfo.InvariantCulture);
}
