using System.Globalization;
using System.Text;

namespace Gatehouse.Jsonnet.Runtime;

/// <summary>String helpers that treat strings as sequences of Unicode code points, as Jsonnet does.</summary>
internal static class StringOps
{
    public static readonly IComparer<string> CodepointComparer = Comparer<string>.Create(CompareCodepoints);

    public static int CompareCodepoints(string a, string b)
    {
        var n = Math.Min(a.Length, b.Length);
        for (var i = 0; i < n; i++)
        {
            var ca = a[i];
            var cb = b[i];
            if (ca == cb)
            {
                continue;
            }
            // Surrogates encode code points above every BMP character.
            var sa = char.IsSurrogate(ca);
            var sb = char.IsSurrogate(cb);
            if (sa != sb)
            {
                return sa ? 1 : -1;
            }
            return ca < cb ? -1 : 1;
        }
        return a.Length.CompareTo(b.Length);
    }

    public static bool HasSurrogates(string s)
    {
        foreach (var c in s)
        {
            if (char.IsSurrogate(c))
            {
                return true;
            }
        }
        return false;
    }

    public static int CodepointLength(string s)
    {
        if (!HasSurrogates(s))
        {
            return s.Length;
        }
        var n = 0;
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
            }
            n++;
        }
        return n;
    }

    public static int[] Codepoints(string s)
    {
        var result = new List<int>(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                result.Add(char.ConvertToUtf32(s[i], s[i + 1]));
                i++;
            }
            else
            {
                result.Add(s[i]);
            }
        }
        return result.ToArray();
    }

    public static string FromCodepoint(int cp) => cp < 0x10000 ? ((char)cp).ToString() : char.ConvertFromUtf32(cp);

    public static string CodepointAt(string s, int index)
    {
        if (!HasSurrogates(s))
        {
            return s[index].ToString();
        }
        return FromCodepoint(Codepoints(s)[index]);
    }

    /// <summary>Substring by code points.</summary>
    public static string Substring(string s, int start, int length)
    {
        if (!HasSurrogates(s))
        {
            if (start >= s.Length)
            {
                return "";
            }
            return s.Substring(start, Math.Min(length, s.Length - start));
        }
        var cps = Codepoints(s);
        var sb = new StringBuilder();
        for (var i = start; i < cps.Length && i < start + length; i++)
        {
            sb.Append(FromCodepoint(cps[i]));
        }
        return sb.ToString();
    }

    public static string EscapeJson(string s)
    {
        var sb = new StringBuilder(s.Length + 2);
        AppendJsonString(sb, s);
        return sb.ToString();
    }

    /// <summary>Appends a JSON string literal escaped as the reference does.</summary>
    public static void AppendJsonString(StringBuilder sb, string s)
    {
        sb.Append('"');
        var start = 0;
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c >= 0x20 && c != '"' && c != '\\' && !(c >= 0x7f && c <= 0x9f))
            {
                continue;
            }
            sb.Append(s, start, i - start);
            start = i + 1;
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
            }
        }
        sb.Append(s, start, s.Length - start);
        sb.Append('"');
    }

    /// <summary>Escapes for embedding in an error message between double quotes.</summary>
    public static string EscapeForError(string s)
    {
        var j = EscapeJson(s);
        return j[1..^1];
    }
}
