using System.Text;

namespace Gatehouse.Config;

/// <summary>
/// Go's <c>time.Time.UnmarshalJSON</c> as Hydra's and Kratos's decoders meet it: the value must be a JSON string, whose
/// text — as it was written, Go does not unescape it first — <c>time.Parse(time.RFC3339, …)</c> must accept. Only the
/// verdict and Go's error text are reproduced (where the time is read-only, the value is dropped anyway).
/// </summary>
public static class GoTime
{
    /// <summary>What <c>Time.UnmarshalJSON</c> answers for a number, a bool, an object or an array.</summary>
    public const string NotAJsonString = "Time.UnmarshalJSON: input is not a JSON string";

    private const string Rfc3339 = "2006-01-02T15:04:05Z07:00";

    /// <summary>
    /// Null when Go's <c>time.Parse(time.RFC3339, text)</c> accepts <paramref name="text"/> (the decoded JSON string;
    /// escapes are put back as a JSON encoder writes them, since Go parses the raw text), else Go's error, e.g.
    /// <c>parsing time "soon" as "2006-01-02T15:04:05Z07:00": cannot parse "soon" as "2006"</c> or
    /// <c>parsing time "2026-13-01T00:00:00Z": month out of range</c>. Go's slow parser, which accepts a superset of its
    /// fast path: a one-digit hour, a comma before the fraction, a zone offset up to 24:60.
    /// </summary>
    public static string? Rfc3339ParseError(string text) => Parse(text, out _);

    /// <summary>
    /// <see cref="Rfc3339ParseError"/> with the time Go reads (in UTC; year 0, which Go takes and .NET cannot hold, is
    /// <see cref="DateTime.MinValue"/>): true when Go accepts <paramref name="text"/>, else false with Go's error.
    /// </summary>
    public static bool TryParseRfc3339(string text, out DateTime utc, out string? error)
    {
        error = Parse(text, out utc);
        return error is null;
    }

    private static string? Parse(string text, out DateTime utc)
    {
        utc = default;
        var value = Encoding.UTF8.GetBytes(RawJson(text));
        ReadOnlySpan<byte> v = value;
        string Bad(string layoutElem, ReadOnlySpan<byte> valueElem) =>
            $"parsing time {Quote(value)} as {Quote(Encoding.ASCII.GetBytes(Rfc3339))}: cannot parse {Quote(valueElem)} as {Quote(Encoding.ASCII.GetBytes(layoutElem))}";
        string Message(string message) => $"parsing time {Quote(value)}{message}";

        // 2006
        if (v.Length < 4 || !AllDigits(v[..4])) return Bad("2006", v);
        var year = Number(v[..4]);
        v = v[4..];
        if (!Skip(ref v, '-')) return Bad("-", v);
        // 01
        var hold = v;
        if (!GetNum(ref v, true, out var month)) return Bad("01", hold);
        if (month is <= 0 or > 12) return Message(": month out of range");
        if (!Skip(ref v, '-')) return Bad("-", v);
        // 02 (any day here; checked against the month at the end)
        hold = v;
        if (!GetNum(ref v, true, out var day)) return Bad("02", hold);
        if (!Skip(ref v, 'T')) return Bad("T", v);
        // 15 (one digit is enough)
        hold = v;
        if (!GetNum(ref v, false, out var hour)) return Bad("15", hold);
        if (hour >= 24) return Message(": hour out of range");
        if (!Skip(ref v, ':')) return Bad(":", v);
        // 04
        hold = v;
        if (!GetNum(ref v, true, out var minute)) return Bad("04", hold);
        if (minute >= 60) return Message(": minute out of range");
        if (!Skip(ref v, ':')) return Bad(":", v);
        // 05, then a fraction the layout does not name
        hold = v;
        if (!GetNum(ref v, true, out var second)) return Bad("05", hold);
        if (second >= 60) return Message(": second out of range");
        long ticks = 0;
        if (v.Length >= 2 && v[0] is (byte)'.' or (byte)',' && IsDigit(v, 1))
        {
            var n = 2;
            while (n < v.Length && IsDigit(v, n)) n++;
            // Go keeps nine digits (nanoseconds); .NET holds seven.
            var digits = v[1..Math.Min(n, 10)];
            var nanos = Number(digits);
            for (var i = digits.Length; i < 9; i++) nanos *= 10;
            ticks = nanos / 100;
            v = v[n..];
        }
        var offsetSeconds = 0;
        // Z07:00
        hold = v;
        if (v.Length >= 1 && v[0] == 'Z')
        {
            v = v[1..];
        }
        else
        {
            if (v.Length < 6 || v[3] != ':') return Bad("Z07:00", hold);
            var sign = v[0];
            var mm = 0;
            var ok = GetFixed2(v[1..3], out var hr) && GetFixed2(v[4..6], out mm);
            v = v[6..];
            string? range = null;
            if (hr > 24) range = "time zone offset hour";
            if (mm > 60) range = "time zone offset minute";
            if (range is not null) return Message($": {range} out of range");
            if (!ok || sign is not ((byte)'+' or (byte)'-')) return Bad("Z07:00", hold);
            offsetSeconds = (hr * 60 + mm) * 60 * (sign == '-' ? -1 : 1);
        }
        if (!v.IsEmpty) return Message($": extra text: {Quote(v)}");
        if (day < 1 || day > DaysIn(month, year)) return Message(": day out of range");
        if (year == 0)
        {
            utc = DateTime.MinValue;
        }
        else
        {
            var local = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc).AddTicks(ticks);
            var shifted = local.Ticks - (long)offsetSeconds * TimeSpan.TicksPerSecond;
            utc = new DateTime(Math.Clamp(shifted, DateTime.MinValue.Ticks, DateTime.MaxValue.Ticks), DateTimeKind.Utc);
        }
        return null;
    }

    private static bool GetFixed2(ReadOnlySpan<byte> s, out int value)
    {
        // getnum(s, true) on a two-byte slice; Go leaves 0 on failure.
        var copy = s;
        if (GetNum(ref copy, true, out value)) return true;
        value = 0;
        return false;
    }

    /// <summary>Go's <c>getnum</c>: one or two digits (two when <paramref name="fixedWidth"/>).</summary>
    private static bool GetNum(ref ReadOnlySpan<byte> s, bool fixedWidth, out int value)
    {
        value = 0;
        if (!IsDigit(s, 0)) return false;
        if (!IsDigit(s, 1))
        {
            if (fixedWidth) return false;
            value = s[0] - '0';
            s = s[1..];
            return true;
        }
        value = (s[0] - '0') * 10 + (s[1] - '0');
        s = s[2..];
        return true;
    }

    private static bool Skip(ref ReadOnlySpan<byte> s, char c)
    {
        if (s.IsEmpty || s[0] != c) return false;
        s = s[1..];
        return true;
    }

    private static bool IsDigit(ReadOnlySpan<byte> s, int i) => i < s.Length && s[i] is >= (byte)'0' and <= (byte)'9';

    private static bool AllDigits(ReadOnlySpan<byte> s)
    {
        foreach (var b in s)
        {
            if (b is < (byte)'0' or > (byte)'9') return false;
        }
        return true;
    }

    private static int Number(ReadOnlySpan<byte> s)
    {
        var n = 0;
        foreach (var b in s) n = n * 10 + (b - '0');
        return n;
    }

    private static int DaysIn(int month, int year) => month switch
    {
        2 => year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28,
        4 or 6 or 9 or 11 => 30,
        _ => 31,
    };

    /// <summary>Go's <c>time.quote</c>: bytes outside printable ASCII as <c>\xHH</c>, <c>"</c> and <c>\</c> escaped.</summary>
    private static string Quote(ReadOnlySpan<byte> s)
    {
        var sb = new StringBuilder("\"");
        foreach (var b in s)
        {
            if (b is >= 0x80 or < 0x20) sb.Append("\\x").Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            else if (b is (byte)'"' or (byte)'\\') sb.Append('\\').Append((char)b);
            else sb.Append((char)b);
        }
        return sb.Append('"').ToString();
    }

    /// <summary>The string as a JSON encoder writes it between its quotes (what Go's <c>UnmarshalJSON</c> receives).</summary>
    private static string RawJson(string s)
    {
        if (!s.Any(c => c is '"' or '\\' or < ' ')) return s;
        var sb = new StringBuilder();
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case < ' ': sb.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture)); break;
                default: sb.Append(c); break;
            }
        }
        return sb.ToString();
    }
}
