using System.Globalization;
using System.Text;

namespace Gatehouse.Jsonnet.Runtime;

internal static partial class StdLib
{
    private static void RegisterTypes(Registry r)
    {
        r.Add("type", ["x"], (ev, a) => S(Arg(a, 0).TypeName));
        r.Add("isArray", ["v"], (ev, a) => BoolValue.Of(Arg(a, 0) is ArrayValue));
        r.Add("isBoolean", ["v"], (ev, a) => BoolValue.Of(Arg(a, 0) is BoolValue));
        r.Add("isFunction", ["v"], (ev, a) => BoolValue.Of(Arg(a, 0) is FunctionValue));
        r.Add("isNumber", ["v"], (ev, a) => BoolValue.Of(Arg(a, 0) is NumberValue));
        r.Add("isObject", ["v"], (ev, a) => BoolValue.Of(Arg(a, 0) is ObjectValue));
        r.Add("isString", ["v"], (ev, a) => BoolValue.Of(Arg(a, 0) is StringValue));
        r.Add("isNull", ["v"], (ev, a) => BoolValue.Of(Arg(a, 0) is NullValue));
        r.Add("length", ["x"], (ev, a) => Arg(a, 0) switch
        {
            ArrayValue arr => N(arr.Length),
            StringValue s => N(StringOps.CodepointLength(s.Value)),
            ObjectValue o => N(o.FieldNames(false).Length),
            FunctionValue f => N(f.ParameterCount),
            var v => throw ev.Error($"length operates on strings, objects, and arrays, got {v.TypeName}", null),
        });
        r.Add("id", ["x"], (ev, a) => Arg(a, 0));
        r.Add("equals", ["a", "b"], (ev, a) => BoolValue.Of(ev.Equal(Arg(a, 0), Arg(a, 1), null)));
        r.Add("primitiveEquals", ["a", "b"], (ev, a) =>
        {
            var x = Arg(a, 0);
            var y = Arg(a, 1);
            if (x.TypeName != y.TypeName)
            {
                return BoolValue.False;
            }
            if (x is ArrayValue or ObjectValue)
            {
                throw ev.Error($"primitiveEquals operates on primitive types, got {x.TypeName}", null);
            }
            if (x is FunctionValue)
            {
                throw ev.Error("cannot test equality of functions", null);
            }
            return BoolValue.Of(ev.Equal(x, y, null));
        });
        r.Add("__compare", ["v1", "v2"], (ev, a) => N(Math.Sign(ev.Compare(Arg(a, 0), Arg(a, 1), null))));
        r.Add("assertEqual", ["a", "b"], (ev, a) =>
        {
            var x = Arg(a, 0);
            var y = Arg(a, 1);
            if (ev.Equal(x, y, null))
            {
                return BoolValue.True;
            }
            throw ev.Error($"Assertion failed. {Manifester.ToJson(ev, x, null, JsonStyle.Inline)} != {Manifester.ToJson(ev, y, null, JsonStyle.Inline)}", null);
        });
        r.Add("trace", ["str", "rest"], (ev, a) =>
        {
            var msg = Arg(a, 0) is StringValue s ? s.Value : throw ev.Error($"Builtin function trace expected string as first parameter but got {Arg(a, 0).TypeName}", null);
            var site = ev.CurrentSite;
            var where = site is null ? "" : $"{site.Location.File}:{site.Location.Line}";
            ev.Options.Trace?.Invoke($"TRACE: {where} {msg}");
            return Arg(a, 1);
        });
        r.Add("extVar", ["x"], (ev, a) =>
        {
            var name = Str(ev, a, 0, "extVar");
            return (ev.ExtVar(name) ?? throw ev.Error($"Undefined external variable: {name}", null)).Force();
        });
        r.Add("native", ["name"], (ev, a) =>
        {
            var name = Str(ev, a, 0, "native");
            return ev.Options.NativeFunctions.TryGetValue(name, out var native) ? NativeBridge.Wrap(name, native) : NullValue.Instance;
        });
        r.Add("resolvePath", ["f", "r"], (ev, a) =>
        {
            var f = Str(ev, a, 0, "resolvePath");
            var rel = Str(ev, a, 1, "resolvePath");
            var slash = f.LastIndexOf('/');
            return S(slash < 0 ? rel : f[..(slash + 1)] + rel);
        });
        r.Add("xor", ["x", "y"], (ev, a) => BoolValue.Of(Bool(ev, a, 0, "xor") != Bool(ev, a, 1, "xor")));
        r.Add("xnor", ["x", "y"], (ev, a) => BoolValue.Of(Bool(ev, a, 0, "xnor") == Bool(ev, a, 1, "xnor")));
    }

    private static void RegisterMath(Registry r)
    {
        r.Value("pi", N(Math.PI));
        void Unary(string name, Func<double, double> f) => r.Add(name, ["x"], (ev, a) => ev.Number(f(Num(ev, a, 0, name)), null));
        Unary("abs", Math.Abs);
        Unary("sign", d => d > 0 ? 1 : d < 0 ? -1 : 0);
        Unary("floor", Math.Floor);
        Unary("ceil", Math.Ceiling);
        Unary("sqrt", Math.Sqrt);
        Unary("sin", Math.Sin);
        Unary("cos", Math.Cos);
        Unary("tan", Math.Tan);
        Unary("asin", Math.Asin);
        Unary("acos", Math.Acos);
        Unary("atan", Math.Atan);
        Unary("exp", Math.Exp);
        Unary("log", Math.Log);
        Unary("log2", d => Math.Log(d) / Math.Log(2));
        Unary("log10", d => Math.Log(d) / Math.Log(10));
        Unary("round", d => Math.Floor(d + 0.5));
        Unary("trunc", Math.Truncate);
        Unary("deg2rad", d => d * Math.PI / 180);
        Unary("rad2deg", d => d * 180 / Math.PI);
        Unary("mantissa", d => Frexp(d).Mantissa);
        Unary("exponent", d => Frexp(d).Exponent);
        r.Add("atan2", ["y", "x"], (ev, a) => ev.Number(Math.Atan2(Num(ev, a, 0, "atan2"), Num(ev, a, 1, "atan2")), null));
        r.Add("hypot", ["a", "b"], (ev, a) => ev.Number(Math.Sqrt((Num(ev, a, 0, "hypot") * Num(ev, a, 0, "hypot")) + (Num(ev, a, 1, "hypot") * Num(ev, a, 1, "hypot"))), null));
        r.Add("pow", ["x", "n"], (ev, a) => ev.Number(Math.Pow(Num(ev, a, 0, "pow"), Num(ev, a, 1, "pow")), null));
        r.Add("max", ["a", "b"], (ev, a) => N(Math.Max(Num(ev, a, 0, "max"), Num(ev, a, 1, "max"))));
        r.Add("min", ["a", "b"], (ev, a) => N(Math.Min(Num(ev, a, 0, "min"), Num(ev, a, 1, "min"))));
        r.Add("clamp", ["x", "minVal", "maxVal"], (ev, a) =>
        {
            var x = Num(ev, a, 0, "clamp");
            var lo = Num(ev, a, 1, "clamp");
            var hi = Num(ev, a, 2, "clamp");
            return N(x < lo ? lo : x > hi ? hi : x);
        });
        r.Add("isEven", ["x"], (ev, a) => BoolValue.Of(Math.Truncate(Num(ev, a, 0, "isEven")) % 2 == 0));
        r.Add("isOdd", ["x"], (ev, a) => BoolValue.Of(Math.Abs(Math.Truncate(Num(ev, a, 0, "isOdd")) % 2) == 1));
        r.Add("isInteger", ["x"], (ev, a) => BoolValue.Of(Num(ev, a, 0, "isInteger") is var d && d == Math.Floor(d)));
        r.Add("isDecimal", ["x"], (ev, a) => BoolValue.Of(Num(ev, a, 0, "isDecimal") is var d && d != Math.Floor(d)));
        Func<Evaluator, Thunk?[], Value> mod = (ev, a) =>
        {
            var x = Arg(a, 0);
            var y = Arg(a, 1);
            if (x is not (NumberValue or StringValue))
            {
                throw ev.Error($"Operator % cannot be used on types {x.TypeName} and {y.TypeName}.", null);
            }
            return ev.Binary(Syntax.BinaryOp.Mod, x, y, null);
        };
        r.Add("mod", ["a", "b"], mod);
        r.Add("modulo", ["x", "y"], (ev, a) =>
        {
            var x = Num(ev, a, 0, "modulo");
            var y = Num(ev, a, 1, "modulo");
            if (y == 0)
            {
                throw ev.Error("division by zero.", null);
            }
            return ev.Number(x % y, null);
        });
    }

    private static (double Mantissa, double Exponent) Frexp(double d)
    {
        if (d == 0 || double.IsNaN(d) || double.IsInfinity(d))
        {
            return (d, 0);
        }
        var exp = (int)Math.Floor(Math.Log2(Math.Abs(d))) + 1;
        var m = d / Math.Pow(2, exp);
        // Correct for rounding at exact powers of two.
        if (Math.Abs(m) >= 1)
        {
            m /= 2;
            exp++;
        }
        else if (Math.Abs(m) < 0.5)
        {
            m *= 2;
            exp--;
        }
        return (m, exp);
    }

    private static void RegisterStrings(Registry r)
    {
        r.Add("toString", ["a"], (ev, a) => S(ev.ToStringValue(Arg(a, 0), null)));
        r.Add("codepoint", ["str"], (ev, a) =>
        {
            var v = Arg(a, 0);
            if (v is not StringValue s || StringOps.CodepointLength(s.Value) != 1)
            {
                if (v is StringValue)
                {
                    throw ev.Error("codepoint takes a string of length 1", null);
                }
                throw TypeError(ev, "codepoint", "string", v);
            }
            return N(char.ConvertToUtf32(s.Value, 0));
        });
        r.Add("char", ["n"], (ev, a) =>
        {
            var d = Num(ev, a, 0, "char");
            if (d < 0 || d > 0x10FFFF || (d >= 0xD800 && d < 0xE000))
            {
                throw ev.Error($"Invalid unicode codepoint, got {Format.Number(d)}", null);
            }
            return S(StringOps.FromCodepoint((int)d));
        });
        r.Add("substr", ["str", "from", "len"], (ev, a) =>
        {
            var s = Arg(a, 0) is StringValue sv ? sv.Value : throw ev.Error($"substr first parameter should be a string, got {Arg(a, 0).TypeName}", null);
            var from = Arg(a, 1) is NumberValue fv ? fv.Value : throw ev.Error($"substr second parameter should be a number, got {Arg(a, 1).TypeName}", null);
            var len = Arg(a, 2) is NumberValue lv ? lv.Value : throw ev.Error($"substr third parameter should be a number, got {Arg(a, 2).TypeName}", null);
            if (len < 0)
            {
                throw ev.Error($"substr third parameter should be greater than zero, got {Format.Number(len)}", null);
            }
            if (from < 0)
            {
                throw ev.Error($"substr second parameter should be greater than zero, got {Format.Number(from)}", null);
            }
            return S(StringOps.Substring(s, (int)Math.Min(from, int.MaxValue), (int)Math.Min(len, int.MaxValue)));
        });
        r.Add("findSubstr", ["pat", "str"], (ev, a) =>
        {
            var pat = StringOps.Codepoints(Str(ev, a, 0, "findSubstr"));
            var str = StringOps.Codepoints(Str(ev, a, 1, "findSubstr"));
            var result = new List<Thunk>();
            if (pat.Length == 0)
            {
                return ArrayValue.Empty;
            }
            for (var i = 0; i + pat.Length <= str.Length; i++)
            {
                if (str.AsSpan(i, pat.Length).SequenceEqual(pat))
                {
                    result.Add(N(i));
                }
            }
            return A(result);
        });
        r.Add("startsWith", ["a", "b"], (ev, a) => BoolValue.Of(Str(ev, a, 0, "startsWith").StartsWith(Str(ev, a, 1, "startsWith"), StringComparison.Ordinal)));
        r.Add("endsWith", ["a", "b"], (ev, a) => BoolValue.Of(Str(ev, a, 0, "endsWith").EndsWith(Str(ev, a, 1, "endsWith"), StringComparison.Ordinal)));
        r.Add("stripChars", ["str", "chars"], (ev, a) => S(Strip(Str(ev, a, 0, "stripChars"), Str(ev, a, 1, "stripChars"), true, true)));
        r.Add("lstripChars", ["str", "chars"], (ev, a) => S(Strip(Str(ev, a, 0, "lstripChars"), Str(ev, a, 1, "lstripChars"), true, false)));
        r.Add("rstripChars", ["str", "chars"], (ev, a) => S(Strip(Str(ev, a, 0, "rstripChars"), Str(ev, a, 1, "rstripChars"), false, true)));
        r.Add("trim", ["str"], (ev, a) => S(Strip(Str(ev, a, 0, "trim"), " \t\n\f\r\u0085\u00A0", true, true)));
        r.Add("split", ["str", "c"], (ev, a) => Split(ev, Str(ev, a, 0, "split"), Str(ev, a, 1, "split"), -1, false));
        r.Add("splitLimit", ["str", "c", "maxsplits"], (ev, a) => Split(ev, Str(ev, a, 0, "splitLimit"), Str(ev, a, 1, "splitLimit"), Num(ev, a, 2, "splitLimit"), false));
        r.Add("splitLimitR", ["str", "c", "maxsplits"], (ev, a) => Split(ev, Str(ev, a, 0, "splitLimitR"), Str(ev, a, 1, "splitLimitR"), Num(ev, a, 2, "splitLimitR"), true));
        r.Add("strReplace", ["str", "from", "to"], (ev, a) =>
        {
            var from = Str(ev, a, 1, "strReplace");
            if (from.Length == 0)
            {
                throw ev.Error("'from' string must not be zero length.", null);
            }
            var result = Str(ev, a, 0, "strReplace").Replace(from, Str(ev, a, 2, "strReplace"), StringComparison.Ordinal);
            ev.Charge(result.Length);
            return S(result);
        });
        r.Add("isEmpty", ["str"], (ev, a) => BoolValue.Of(Str(ev, a, 0, "isEmpty").Length == 0));
        r.Add("asciiUpper", ["str"], (ev, a) => S(AsciiCase(Str(ev, a, 0, "asciiUpper"), true)));
        r.Add("asciiLower", ["str"], (ev, a) => S(AsciiCase(Str(ev, a, 0, "asciiLower"), false)));
        r.Add("equalsIgnoreCase", ["str1", "str2"], (ev, a) => BoolValue.Of(AsciiCase(Str(ev, a, 0, "equalsIgnoreCase"), false) == AsciiCase(Str(ev, a, 1, "equalsIgnoreCase"), false)));
        r.Add("stringChars", ["str"], (ev, a) => A(StringOps.Codepoints(Str(ev, a, 0, "stringChars")).Select(cp => (Value)S(StringOps.FromCodepoint(cp)))));
        r.Add("format", ["str", "vals"], (ev, a) => S(StringFormatter.Format(ev, Str(ev, a, 0, "format"), Arg(a, 1), null)));
        r.Add("escapeStringJson", ["str_"], (ev, a) => S(StringOps.EscapeJson(ev.ToStringValue(Arg(a, 0), null))));
        r.Add("escapeStringPython", ["str"], (ev, a) => S(StringOps.EscapeJson(ev.ToStringValue(Arg(a, 0), null))));
        r.Add("escapeStringBash", ["str_"], (ev, a) => S("'" + ev.ToStringValue(Arg(a, 0), null).Replace("'", "'\"'\"'", StringComparison.Ordinal) + "'"));
        r.Add("escapeStringDollars", ["str_"], (ev, a) => S(ev.ToStringValue(Arg(a, 0), null).Replace("$", "$$", StringComparison.Ordinal)));
        Func<Evaluator, Thunk?[], Value> xml = (ev, a) =>
        {
            var s = ev.ToStringValue(Arg(a, 0), null);
            var sb = new StringBuilder(s.Length);
            foreach (var c in s)
            {
                sb.Append(c switch
                {
                    '<' => "&lt;",
                    '>' => "&gt;",
                    '&' => "&amp;",
                    '"' => "&quot;",
                    '\'' => "&apos;",
                    _ => c.ToString(),
                });
            }
            return S(sb.ToString());
        };
        r.Add("escapeStringXML", ["str_"], xml);
        r.Add("escapeStringXml", ["str_"], xml);
        r.Add("parseInt", ["str"], (ev, a) => ParseInteger(ev, Str(ev, a, 0, "parseInt"), 10, "parseInt"));
        r.Add("parseOctal", ["str"], (ev, a) => ParseInteger(ev, Str(ev, a, 0, "parseOctal"), 8, "parseOctal"));
        r.Add("parseHex", ["str"], (ev, a) => ParseInteger(ev, Str(ev, a, 0, "parseHex"), 16, "parseHex"));
        r.Add("encodeUTF8", ["str"], (ev, a) =>
        {
            var bytes = Encoding.UTF8.GetBytes(Str(ev, a, 0, "encodeUTF8"));
            var items = new Thunk[bytes.Length];
            for (var i = 0; i < bytes.Length; i++)
            {
                items[i] = N(bytes[i]);
            }
            return new ArrayValue(items);
        });
        r.Add("decodeUTF8", ["arr"], (ev, a) =>
        {
            var arr = Arr(ev, a, 0, "decodeUTF8");
            var bytes = new byte[arr.Length];
            for (var i = 0; i < bytes.Length; i++)
            {
                var v = arr.Items[i].Force();
                if (v is not NumberValue n)
                {
                    throw ev.Error($"Element {i} of the provided array was not a number", null);
                }
                if (n.Value != Math.Floor(n.Value) || n.Value < 0 || n.Value > 255)
                {
                    throw ev.Error($"Element {i} of the provided array was not an integer in range [0,255]", null);
                }
                bytes[i] = (byte)n.Value;
            }
            return S(new UTF8Encoding(false, false).GetString(bytes));
        });
    }

    private static string AsciiCase(string s, bool upper)
    {
        var chars = s.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            var c = chars[i];
            if (upper && c is >= 'a' and <= 'z')
            {
                chars[i] = (char)(c - 32);
            }
            else if (!upper && c is >= 'A' and <= 'Z')
            {
                chars[i] = (char)(c + 32);
            }
        }
        return new string(chars);
    }

    private static string Strip(string s, string chars, bool left, bool right)
    {
        var set = new HashSet<int>(StringOps.Codepoints(chars));
        var cps = StringOps.Codepoints(s);
        var start = 0;
        var end = cps.Length;
        if (left)
        {
            while (start < end && set.Contains(cps[start]))
            {
                start++;
            }
        }
        if (right)
        {
            while (end > start && set.Contains(cps[end - 1]))
            {
                end--;
            }
        }
        var sb = new StringBuilder();
        for (var i = start; i < end; i++)
        {
            sb.Append(StringOps.FromCodepoint(cps[i]));
        }
        return sb.ToString();
    }

    private static ArrayValue Split(Evaluator ev, string s, string sep, double max, bool fromRight)
    {
        if (sep.Length == 0)
        {
            throw ev.Error("Cannot split by an empty string.", null);
        }
        var parts = new List<string>();
        if (!fromRight)
        {
            var start = 0;
            while (true)
            {
                var idx = max >= 0 && parts.Count >= max ? -1 : s.IndexOf(sep, start, StringComparison.Ordinal);
                if (idx < 0)
                {
                    parts.Add(s[start..]);
                    break;
                }
                parts.Add(s[start..idx]);
                start = idx + sep.Length;
            }
        }
        else
        {
            var end = s.Length;
            while (true)
            {
                var idx = max >= 0 && parts.Count >= max ? -1 : (end - sep.Length < 0 ? -1 : s.LastIndexOf(sep, end - 1, end, StringComparison.Ordinal));
                if (idx < 0)
                {
                    parts.Add(s[..end]);
                    break;
                }
                parts.Add(s[(idx + sep.Length)..end]);
                end = idx;
            }
            parts.Reverse();
        }
        return A(parts.Select(p => (Value)S(p)));
    }

    private static Value ParseInteger(Evaluator ev, string s, int radix, string fn)
    {
        var neg = false;
        var i = 0;
        if (radix == 10 && s.StartsWith('-'))
        {
            neg = true;
            i = 1;
        }
        if (i >= s.Length)
        {
            throw ev.Error(radix switch
            {
                8 => $"{fn}: \"{s}\" is not an octal number.",
                16 => $"{fn}: \"{s}\" is not a hexadecimal number.",
                _ => $"{fn}: \"{s}\" is not a base 10 integer.",
            }, null);
        }
        double value = 0;
        for (; i < s.Length; i++)
        {
            var c = s[i];
            var digit = c is >= '0' and <= '9' ? c - '0' : c is >= 'a' and <= 'f' ? c - 'a' + 10 : c is >= 'A' and <= 'F' ? c - 'A' + 10 : 99;
            if (digit >= radix)
            {
                throw ev.Error(radix switch
                {
                    8 => $"{fn}: \"{s}\" is not an octal number.",
                    16 => $"{fn}: \"{s}\" is not a hexadecimal number.",
                    _ => $"{fn}: \"{s}\" is not a base 10 integer.",
                }, null);
            }
            value = (value * radix) + digit;
        }
        return N(neg ? -value : value);
    }
}
