using System.Globalization;
using System.Text;
using Gatehouse.Jsonnet.Syntax;

namespace Gatehouse.Jsonnet.Runtime;

/// <summary>The <c>%</c> operator / <c>std.format</c>: Python-style printf formatting.</summary>
internal static class StringFormatter
{
    public static string Format(Evaluator ev, string format, Value values, Node? at)
    {
        Thunk[]? positional = null;
        ObjectValue? named = null;
        switch (values)
        {
            case ArrayValue a:
                positional = a.Items;
                break;
            case ObjectValue o:
                named = o;
                break;
            default:
                positional = [values];
                break;
        }
        var sb = new StringBuilder();
        var next = 0;
        var i = 0;
        while (i < format.Length)
        {
            var c = format[i];
            if (c != '%')
            {
                var pct = format.IndexOf('%', i);
                var end = pct < 0 ? format.Length : pct;
                sb.Append(format, i, end - i);
                i = end;
                continue;
            }
            i++;
            string? key = null;
            if (i < format.Length && format[i] == '(')
            {
                var close = format.IndexOf(')', i);
                if (close < 0)
                {
                    throw ev.Error("Format string truncated: " + format, at);
                }
                key = format[(i + 1)..close];
                i = close + 1;
            }
            bool alt = false, zero = false, left = false, blank = false, plus = false;
            while (i < format.Length && "#0- +".Contains(format[i], StringComparison.Ordinal))
            {
                switch (format[i])
                {
                    case '#': alt = true; break;
                    case '0': zero = true; break;
                    case '-': left = true; break;
                    case ' ': blank = true; break;
                    default: plus = true; break;
                }
                i++;
            }
            int width = 0;
            if (i < format.Length && format[i] == '*')
            {
                width = (int)NumberArg(ev, NextValue(ev, positional, ref next, at, format), at, "*");
                i++;
            }
            else
            {
                while (i < format.Length && char.IsAsciiDigit(format[i]))
                {
                    width = (width * 10) + (format[i] - '0');
                    i++;
                }
            }
            int? precision = null;
            if (i < format.Length && format[i] == '.')
            {
                i++;
                if (i < format.Length && format[i] == '*')
                {
                    var p = (int)NumberArg(ev, NextValue(ev, positional, ref next, at, format), at, "*");
                    // As in C, a negative precision counts as none.
                    precision = p < 0 ? null : p;
                    i++;
                }
                else
                {
                    var p = 0;
                    while (i < format.Length && char.IsAsciiDigit(format[i]))
                    {
                        p = (p * 10) + (format[i] - '0');
                        i++;
                    }
                    precision = p;
                }
            }
            while (i < format.Length && format[i] is 'h' or 'l' or 'L')
            {
                i++;
            }
            if (i >= format.Length)
            {
                throw ev.Error("Truncated format code.", at);
            }
            var code = format[i++];
            if (code == '%')
            {
                sb.Append(Pad("%", width, left));
                continue;
            }
            Value value;
            if (key is not null)
            {
                if (named is null)
                {
                    throw ev.Error("Format required an object, got " + values.TypeName, at);
                }
                value = ev.GetField(named, key, at);
            }
            else
            {
                if (positional is null)
                {
                    throw ev.Error("Format required an array, got object", at);
                }
                value = NextValue(ev, positional, ref next, at, format);
            }
            if (width > 1_000_000 || precision > 1_000_000)
            {
                throw ev.Error("format width or precision too large.", at);
            }
            var rendered = Render(ev, code, value, alt, zero, left, blank, plus, width, precision, at);
            sb.Append(rendered);
            ev.Charge(rendered.Length, at);
            ev.CheckSize(sb.Length, at);
        }
        if (positional is not null && next < positional.Length)
        {
            throw ev.Error($"Too many values to format: {positional.Length}, expected {next}", at);
        }
        return sb.ToString();
    }

    private static Value NextValue(Evaluator ev, Thunk[]? positional, ref int next, Node? at, string format)
    {
        if (positional is null)
        {
            throw ev.Error("Format required an array, got object", at);
        }
        if (next >= positional.Length)
        {
            throw ev.Error($"Not enough values to format: {positional.Length}, expected more than {next}", at);
        }
        return positional[next++].Force();
    }

    private static double NumberArg(Evaluator ev, Value v, Node? at, string code) =>
        v is NumberValue n ? n.Value : throw ev.Error($"Format required number at {code}, got {v.TypeName}", at);

    private static string Pad(string s, int width, bool left)
    {
        if (s.Length >= width)
        {
            return s;
        }
        return left ? s.PadRight(width) : s.PadLeft(width);
    }

    private static string Render(Evaluator ev, char code, Value value, bool alt, bool zero, bool left, bool blank, bool plus, int width, int? precision, Node? at)
    {
        switch (code)
        {
            case 's':
            case 'r':
                return Pad(ev.ToStringValue(value, at), width, left);
            case 'c':
                if (value is NumberValue cn)
                {
                    return Pad(StringOps.FromCodepoint((int)cn.Value), width, left);
                }
                if (value is StringValue cs && StringOps.CodepointLength(cs.Value) == 1)
                {
                    return Pad(cs.Value, width, left);
                }
                throw ev.Error($"%c expected number / string of length 1, got {value.TypeName}", at);
        }
        if (value is not NumberValue num)
        {
            throw ev.Error($"Format required number at {code}, got {value.TypeName}", at);
        }
        var d = num.Value;
        string body;
        string prefix = "";
        bool negative;
        switch (code)
        {
            case 'd':
            case 'i':
            case 'u':
            case 'o':
            case 'x':
            case 'X':
            {
                var truncated = Math.Truncate(d);
                negative = truncated < 0;
                var abs = Math.Abs(truncated);
                if (abs < 9.2e18)
                {
                    var small = (long)abs;
                    body = code switch
                    {
                        'o' => Convert.ToString(small, 8),
                        'x' => small.ToString("x", CultureInfo.InvariantCulture),
                        'X' => small.ToString("X", CultureInfo.InvariantCulture),
                        _ => small.ToString(CultureInfo.InvariantCulture),
                    };
                }
                else
                {
                    var magnitude = new System.Numerics.BigInteger(abs);
                    body = code switch
                    {
                        'o' => ToBase(magnitude, 8, false),
                        'x' => ToBase(magnitude, 16, false),
                        'X' => ToBase(magnitude, 16, true),
                        _ => magnitude.ToString(CultureInfo.InvariantCulture),
                    };
                }
                var minDigits = precision ?? 1;
                if (body.Length < minDigits)
                {
                    body = new string('0', minDigits - body.Length) + body;
                }
                if (alt && code == 'o' && !body.StartsWith('0'))
                {
                    body = "0" + body;
                }
                if (alt && code is 'x' or 'X')
                {
                    prefix = code == 'x' ? "0x" : "0X";
                }
                break;
            }
            case 'e':
            case 'E':
                negative = d < 0;
                body = global::Gatehouse.Jsonnet.Runtime.Format.E(Math.Abs(d), precision ?? 6, alt, code == 'E');
                break;
            case 'f':
            case 'F':
                negative = d < 0;
                body = global::Gatehouse.Jsonnet.Runtime.Format.F(Math.Abs(d), precision ?? 6, alt);
                break;
            case 'g':
            case 'G':
                negative = d < 0;
                body = global::Gatehouse.Jsonnet.Runtime.Format.G(Math.Abs(d), precision ?? 6, alt, code == 'G');
                break;
            default:
                throw ev.Error($"Unrecognised conversion type: {code}", at);
        }
        var sign = negative ? "-" : plus ? "+" : blank ? " " : "";
        var len = sign.Length + prefix.Length + body.Length;
        if (len >= width)
        {
            return sign + prefix + body;
        }
        if (left)
        {
            return sign + prefix + body + new string(' ', width - len);
        }
        if (zero)
        {
            return sign + prefix + new string('0', width - len) + body;
        }
        return new string(' ', width - len) + sign + prefix + body;
    }

    private static string ToBase(System.Numerics.BigInteger n, int b, bool upper)
    {
        if (n.IsZero)
        {
            return "0";
        }
        var digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
        var sb = new StringBuilder();
        while (!n.IsZero)
        {
            sb.Insert(0, digits[(int)(n % b)]);
            n /= b;
        }
        return sb.ToString();
    }
}
