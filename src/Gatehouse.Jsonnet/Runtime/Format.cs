using System.Globalization;

namespace Gatehouse.Jsonnet.Runtime;

/// <summary>Number formatting compatible with the reference implementation (C printf semantics).</summary>
internal static class Format
{
    /// <summary>How the reference manifests a number: integers in full, others as %.17g.</summary>
    public static string Number(double d)
    {
        if (d == Math.Floor(d))
        {
            if (d == 0 && double.IsNegative(d))
            {
                // printf("%.0f", -0.0) keeps the sign, and so does the reference.
                return "-0";
            }
            if (Math.Abs(d) < 1e15)
            {
                return ((long)d).ToString(CultureInfo.InvariantCulture);
            }
            return d.ToString("F0", CultureInfo.InvariantCulture);
        }
        return G(d, 17, false);
    }

    /// <summary>%g with the default precision 6, as used in some error messages.</summary>
    public static string ShortG(double d) => G(d, 6, false);

    /// <summary>C's %.{precision}g (with '#' flag when <paramref name="alt"/>).</summary>
    public static string G(double d, int precision, bool alt, bool upper = false)
    {
        if (double.IsNaN(d))
        {
            return upper ? "NAN" : "nan";
        }
        if (double.IsInfinity(d))
        {
            return d > 0 ? (upper ? "INF" : "inf") : (upper ? "-INF" : "-inf");
        }
        if (precision == 0)
        {
            precision = 1;
        }
        if (d == 0)
        {
            var z = alt ? "0." + new string('0', precision - 1) : "0";
            return double.IsNegative(d) ? "-" + z : z;
        }
        var (digits, exp) = Digits(d, precision);
        string result;
        if (exp < -4 || exp >= precision)
        {
            var mant = digits[0] + (digits.Length > 1 || alt ? "." + digits[1..] : "");
            if (!alt)
            {
                mant = TrimZeros(mant);
            }
            result = mant + (upper ? "E" : "e") + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
        }
        else
        {
            string s;
            if (exp >= 0)
            {
                s = digits[..(exp + 1)] + "." + digits[(exp + 1)..];
            }
            else
            {
                s = "0." + new string('0', -exp - 1) + digits;
            }
            if (!alt)
            {
                s = TrimZeros(s);
            }
            else if (s.EndsWith('.'))
            {
                // keep the point
            }
            result = s;
        }
        return d < 0 ? "-" + result : result;
    }

    /// <summary>The first <paramref name="precision"/> significant digits of |d|, correctly rounded, and the decimal exponent.</summary>
    private static (string Digits, int Exponent) Digits(double d, int precision)
    {
        var s = Math.Abs(d).ToString("E" + (precision - 1).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        var e = s.IndexOf('E', StringComparison.Ordinal);
        var mantissa = s[..e].Replace(".", "", StringComparison.Ordinal);
        var exp = int.Parse(s[(e + 1)..], CultureInfo.InvariantCulture);
        return (mantissa, exp);
    }

    private static string TrimZeros(string s)
    {
        if (!s.Contains('.', StringComparison.Ordinal))
        {
            return s;
        }
        s = s.TrimEnd('0');
        return s.EndsWith('.') ? s[..^1] : s;
    }

    /// <summary>C's %.{precision}f.</summary>
    public static string F(double d, int precision, bool alt)
    {
        var s = Math.Abs(d).ToString("F" + precision.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        if (alt && precision == 0)
        {
            s += ".";
        }
        return d < 0 || (d == 0 && double.IsNegative(d)) ? "-" + s : s;
    }

    /// <summary>C's %.{precision}e.</summary>
    public static string E(double d, int precision, bool alt, bool upper)
    {
        var (digits, exp) = Digits(d == 0 ? 0 : d, precision + 1);
        if (d == 0)
        {
            digits = new string('0', precision + 1);
            exp = 0;
        }
        var mant = digits[0] + (precision > 0 || alt ? "." + digits[1..] : "");
        var result = mant + (upper ? "E" : "e") + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
        return d < 0 ? "-" + result : result;
    }
}
