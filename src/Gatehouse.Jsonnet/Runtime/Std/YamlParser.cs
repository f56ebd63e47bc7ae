using Gatehouse.Jsonnet.Syntax;
using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Gatehouse.Jsonnet.Runtime;

/// <summary>std.parseYaml: YAML 1.2 core-schema values; several documents give an array.</summary>
internal static class YamlParser
{
    private static readonly Regex s_int = new(@"^[-+]?[0-9]+$", RegexOptions.CultureInvariant);
    private static readonly Regex s_octal = new(@"^0o[0-7]+$", RegexOptions.CultureInvariant);
    private static readonly Regex s_hex = new(@"^0x[0-9a-fA-F]+$", RegexOptions.CultureInvariant);
    private static readonly Regex s_float = new(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$", RegexOptions.CultureInvariant);

    public static Value Parse(Evaluator ev, string text)
    {
        // YamlDotNet builds its node tree recursively; deeply nested hostile input must not overflow the
        // caller's stack, so the YAML is read on a thread of its own with a generous stack.
        if (NestingEstimate(text) > MaxNesting)
        {
            throw ev.Error("YAML error: nesting too deep", null);
        }
        var stream = new YamlStream();
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                stream.Load(new StringReader(text));
            }
            catch (Exception e)
            {
                failure = e;
            }
        }, 256 * 1024 * 1024);
        thread.Start();
        thread.Join();
        switch (failure)
        {
            case null:
                break;
            case YamlException e:
                throw ev.Error($"YAML error: {e.Start.Line}:{e.Start.Column}: ERROR: {e.Message}", null);
            case InsufficientExecutionStackException:
                throw ev.Error("YAML error: nesting too deep", null);
            default:
                throw ev.Error($"YAML error: {failure.Message}", null);
        }
        var docs = stream.Documents.Select(d => Convert(ev, d.RootNode)).ToList();
        if (text.TrimStart().StartsWith("---", StringComparison.Ordinal) && docs.Count == 1 && !MultiDocMarker(text))
        {
            return docs[0];
        }
        return docs.Count switch
        {
            0 => NullValue.Instance,
            1 when !MultiDocMarker(text) => docs[0],
            _ => new ArrayValue(docs.ToArray<Thunk>()),
        };
    }

    private const int MaxNesting = 10_000;

    /// <summary>An upper bound of the nesting depth: open flow brackets, or indentation plus "- " markers on a line.</summary>
    private static int NestingEstimate(string text)
    {
        int depth = 0, max = 0, lineDepth = 0;
        var atLineStart = true;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            switch (c)
            {
                case '[' or '{':
                    max = Math.Max(max, ++depth);
                    atLineStart = false;
                    break;
                case ']' or '}':
                    depth = Math.Max(0, depth - 1);
                    atLineStart = false;
                    break;
                case '\n':
                    atLineStart = true;
                    lineDepth = 0;
                    break;
                case ' ' or '-' or '\t' or '?' or ':' when atLineStart:
                    max = Math.Max(max, ++lineDepth);
                    break;
                default:
                    atLineStart = false;
                    break;
            }
        }
        return max;
    }

    private static bool MultiDocMarker(string text)
    {
        var lines = text.Split('\n');
        var markers = lines.Count(l => l.TrimEnd('\r') == "---" || l.StartsWith("--- ", StringComparison.Ordinal));
        var startsWithMarker = lines.Length > 0 && (lines[0].TrimEnd('\r') == "---" || lines[0].StartsWith("--- ", StringComparison.Ordinal));
        return markers > (startsWithMarker ? 1 : 0);
    }

    private static Value Convert(Evaluator ev, YamlNode node)
    {
        ev.EnsureStack();
        switch (node)
        {
            case YamlMappingNode map:
                return StdLib.MakeObject(map.Children.Select(kv => new KeyValuePair<string, Thunk>(KeyText(kv.Key), Convert(ev, kv.Value))).ToList());
            case YamlSequenceNode seq:
                return new ArrayValue(seq.Children.Select(c => (Thunk)Convert(ev, c)).ToArray());
            case YamlScalarNode scalar:
                return Scalar(scalar);
            default:
                return NullValue.Instance;
        }
    }

    private static string KeyText(YamlNode key) => key is YamlScalarNode s ? s.Value ?? "null" : key.ToString();

    private static Value Scalar(YamlScalarNode s)
    {
        var v = s.Value ?? "";
        if (s.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded)
        {
            return new StringValue(v);
        }
        if (!s.Tag.IsEmpty && !s.Tag.IsNonSpecific && s.Tag.Value == "tag:yaml.org,2002:str")
        {
            return new StringValue(v);
        }
        switch (v)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return NullValue.Instance;
            case "true" or "True" or "TRUE":
                return BoolValue.True;
            case "false" or "False" or "FALSE":
                return BoolValue.False;
            case ".inf" or ".Inf" or ".INF" or "+.inf" or "+.Inf" or "+.INF":
            case "-.inf" or "-.Inf" or "-.INF":
            case ".nan" or ".NaN" or ".NAN":
                return new StringValue(v);
        }
        if (s_int.IsMatch(v) || s_float.IsMatch(v))
        {
            return NumberValue.Of(double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture));
        }
        if (s_octal.IsMatch(v))
        {
            return NumberValue.Of(System.Convert.ToInt64(v[2..], 8));
        }
        if (s_hex.IsMatch(v))
        {
            return NumberValue.Of(long.Parse(v[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        }
        return new StringValue(v);
    }
}
