using Microsoft.Data.Sqlite;

namespace Gatehouse.Persistence;

/// <summary>
/// Reads the <c>yyyy-MM-dd HH:mm:ss[.fffffff]</c> text that EF Core and Microsoft.Data.Sqlite write for a
/// <see cref="DateTime"/> without <see cref="DateTime.Parse(string)"/>, whose general parser was a visible share of a
/// token introspection's CPU (two dates per row). Any other text goes through the reader's own parsing.
/// </summary>
public static class SqliteDateTimes
{
    public static DateTime ReadUtc(SqliteDataReader reader, int ordinal)
    {
        var text = reader.GetString(ordinal);
        return TryParse(text, out var value) ? value : DateTime.SpecifyKind(reader.GetDateTime(ordinal), DateTimeKind.Utc);
    }

    internal static bool TryParse(ReadOnlySpan<char> s, out DateTime value)
    {
        value = default;
        if (s.Length < 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':') return false;
        if (!Digits(s, 0, 4, out var year) || !Digits(s, 5, 2, out var month) || !Digits(s, 8, 2, out var day)
            || !Digits(s, 11, 2, out var hour) || !Digits(s, 14, 2, out var minute) || !Digits(s, 17, 2, out var second)) return false;
        long fraction = 0;
        if (s.Length > 19)
        {
            var digits = s.Length - 20;
            if (s[19] != '.' || digits is < 1 or > 7 || !Digits(s, 20, digits, out var f)) return false;
            fraction = f;
            for (var i = digits; i < 7; i++) fraction *= 10;
        }
        if (month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year is >= 1 and <= 9999 ? year : 1, month) || year is < 1 or > 9999
            || hour > 23 || minute > 59 || second > 59) return false;
        value = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc).AddTicks(fraction);
        return true;
    }

    private static bool Digits(ReadOnlySpan<char> s, int start, int count, out int value)
    {
        value = 0;
        for (var i = start; i < start + count; i++)
        {
            var d = s[i] - '0';
            if ((uint)d > 9) return false;
            value = value * 10 + d;
        }
        return true;
    }
}
