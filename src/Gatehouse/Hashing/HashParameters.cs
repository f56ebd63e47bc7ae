using System.Globalization;

namespace Gatehouse.Hashing;

/// <summary>Parses a PHC-style parameter segment such as <c>m=65536,t=3,p=4</c>.</summary>
internal static class HashParameters
{
    /// <summary>
    /// Reads exactly the named parameters, in order, as non-negative decimal integers.
    /// Values too large for a <see cref="long"/> read as <see cref="long.MaxValue"/>, so they
    /// are reported as exceeding a bound rather than as a malformed hash.
    /// </summary>
    public static bool TryRead(string segment, ReadOnlySpan<string> names, Span<long> values)
    {
        var parts = segment.Split(',');
        if (parts.Length != names.Length)
        {
            return false;
        }

        for (var i = 0; i < names.Length; i++)
        {
            var prefix = names[i] + "=";
            if (!parts[i].StartsWith(prefix, StringComparison.Ordinal)
                || !TryReadNumber(parts[i].AsSpan(prefix.Length), out values[i]))
            {
                return false;
            }
        }

        return true;
    }

    public static bool TryReadNumber(ReadOnlySpan<char> text, out long value)
    {
        value = 0;
        if (text.Length == 0 || text.ContainsAnyExceptInRange('0', '9'))
        {
            return false;
        }

        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value))
        {
            value = long.MaxValue;
        }

        return true;
    }
}
