using Gatehouse.Jsonnet.Syntax;
using System.Text;
using System.Text.RegularExpressions;

namespace Gatehouse.Jsonnet.Runtime;

internal static partial class StdLib
{
    private static void RegisterManifest(Registry r)
    {
        r.Add("manifestJsonEx", ["value", "indent", "newline", "key_val_sep"], 2, (ev, a) =>
        {
            var indent = Str(ev, a, 1, "manifestJsonEx");
            var newline = a[2] is null ? "\n" : Str(ev, a, 2, "manifestJsonEx");
            var sep = a[3] is null ? ": " : Str(ev, a, 3, "manifestJsonEx");
            return S(Manifester.ToJson(ev, Arg(a, 0), null, JsonStyle.Custom, indent, newline, sep));
        });
        r.Add("manifestJson", ["value"], (ev, a) => S(Manifester.ToJson(ev, Arg(a, 0), null, JsonStyle.Custom, "    ", "\n", ": ")));
        r.Add("manifestJsonMinified", ["value"], (ev, a) => S(Manifester.ToJson(ev, Arg(a, 0), null, JsonStyle.Custom, "", "", ":")));
        r.Add("manifestYamlDoc", ["value", "indent_array_in_object", "quote_keys"], 1, (ev, a) =>
        {
            var indentArray = a[1] is not null && Bool(ev, a, 1, "manifestYamlDoc");
            var quoteKeys = a[2] is null || Bool(ev, a, 2, "manifestYamlDoc");
            var sb = new StringBuilder();
            Yaml(ev, sb, Arg(a, 0), "", indentArray, quoteKeys, []);
            return S(sb.ToString());
        });
        r.Add("manifestYamlStream", ["value", "indent_array_in_object", "c_document_end", "quote_keys"], 1, (ev, a) =>
        {
            var v = Arg(a, 0);
            if (v is not ArrayValue arr)
            {
                throw ev.Error($"manifestYamlStream only takes arrays, got {v.TypeName}", null);
            }
            var indentArray = a[1] is not null && Bool(ev, a, 1, "manifestYamlStream");
            var docEnd = a[2] is null || Bool(ev, a, 2, "manifestYamlStream");
            var quoteKeys = a[3] is null || Bool(ev, a, 3, "manifestYamlStream");
            var sb = new StringBuilder("---\n");
            for (var i = 0; i < arr.Length; i++)
            {
                if (i > 0)
                {
                    sb.Append("\n---\n");
                }
                Yaml(ev, sb, arr.Items[i].Force(), "", indentArray, quoteKeys, [i]);
            }
            sb.Append(docEnd ? "\n...\n" : "\n");
            return S(sb.ToString());
        });
        r.Add("manifestIni", ["ini"], (ev, a) =>
        {
            var ini = Obj(ev, a, 0, "manifestIni");
            var lines = new List<string>();
            void Body(ObjectValue body)
            {
                foreach (var k in body.FieldNames(false))
                {
                    var v = ev.GetField(body, k, null);
                    if (v is ArrayValue arr)
                    {
                        foreach (var e in arr.Items)
                        {
                            lines.Add($"{k} = {ev.ToStringValue(e.Force(), null)}");
                        }
                    }
                    else
                    {
                        lines.Add($"{k} = {ev.ToStringValue(v, null)}");
                    }
                }
            }
            if (ini.HasField("main", false))
            {
                Body(AsObject(ev, ev.GetField(ini, "main", null), "manifestIni"));
            }
            if (ini.HasField("sections", false))
            {
                var sections = AsObject(ev, ev.GetField(ini, "sections", null), "manifestIni");
                foreach (var s in sections.FieldNames(false))
                {
                    lines.Add($"[{s}]");
                    Body(AsObject(ev, ev.GetField(sections, s, null), "manifestIni"));
                }
            }
            lines.Add("");
            return S(string.Join("\n", lines));
        });
        r.Add("manifestPython", ["v"], (ev, a) => S(Python(ev, Arg(a, 0))));
        r.Add("manifestPythonVars", ["conf"], (ev, a) =>
        {
            var conf = Obj(ev, a, 0, "manifestPythonVars");
            var sb = new StringBuilder();
            foreach (var k in conf.FieldNames(false))
            {
                sb.Append(k).Append(" = ").Append(Python(ev, ev.GetField(conf, k, null))).Append('\n');
            }
            return S(sb.ToString());
        });
        r.Add("manifestXmlJsonml", ["value"], (ev, a) =>
        {
            var sb = new StringBuilder();
            Xml(ev, sb, Arg(a, 0));
            return S(sb.ToString());
        });
        r.Add("manifestTomlEx", ["value", "indent"], (ev, a) =>
        {
            var v = Arg(a, 0);
            if (v is not ObjectValue o)
            {
                throw ev.Error($"TOML body must be an object. Got {v.TypeName}", null);
            }
            var indent = Str(ev, a, 1, "manifestTomlEx");
            return S(new TomlWriter(ev, indent).TableInternal(o, [], [], ""));
        });
        r.Add("manifestToml", ["value"], (ev, a) =>
        {
            var v = Arg(a, 0);
            if (v is not ObjectValue o)
            {
                throw ev.Error($"TOML body must be an object. Got {v.TypeName}", null);
            }
            return S(new TomlWriter(ev, "  ").TableInternal(o, [], [], ""));
        });
    }

    private static ObjectValue AsObject(Evaluator ev, Value v, string fn) => v as ObjectValue ?? throw TypeError(ev, fn, "object", v);

    private static string Python(Evaluator ev, Value v)
    {
        ev.EnsureStack();
        switch (v)
        {
            case ObjectValue o:
                return "{" + string.Join(", ", o.FieldNames(false).Select(k => StringOps.EscapeJson(k) + ": " + Python(ev, ev.GetField(o, k, null)))) + "}";
            case ArrayValue arr:
                return "[" + string.Join(", ", arr.Items.Select(e => Python(ev, e.Force()))) + "]";
            case StringValue s:
                return StringOps.EscapeJson(s.Value);
            case FunctionValue:
                throw ev.Error("cannot manifest function", null);
            case NumberValue n:
                return Format.Number(n.Value);
            case BoolValue b:
                return b.Value ? "True" : "False";
            default:
                return "None";
        }
    }

    private static void Xml(Evaluator ev, StringBuilder sb, Value v)
    {
        ev.EnsureStack();
        if (v is StringValue s)
        {
            sb.Append(s.Value);
            return;
        }
        if (v is not ArrayValue arr || arr.Length == 0)
        {
            throw ev.Error($"Expected a JSONML value (an array or string), got {v.TypeName}", null);
        }
        var tag = ev.ToStringValue(arr.Items[0].Force(), null);
        var hasAttrs = arr.Length > 1 && arr.Items[1].Force() is ObjectValue;
        sb.Append('<').Append(tag);
        if (hasAttrs)
        {
            var attrs = (ObjectValue)arr.Items[1].Force();
            foreach (var k in attrs.FieldNames(false))
            {
                sb.Append(' ').Append(k).Append("=\"").Append(ev.ToStringValue(ev.GetField(attrs, k, null), null)).Append('"');
            }
        }
        sb.Append('>');
        for (var i = hasAttrs ? 2 : 1; i < arr.Length; i++)
        {
            Xml(ev, sb, arr.Items[i].Force());
        }
        sb.Append("</").Append(tag).Append('>');
    }

    private static readonly HashSet<string> s_yamlReserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~",
    };

    private static readonly Regex s_yamlNumberLike = new(
        @"^(?:[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+|[-+]?0b[01_]+|[-+]?0o[0-7_]+|[-+]?(?:\.[0-9_]+|[0-9_]+\.[0-9_]*|[0-9_]+)(?:[eE][-+]?[0-9_]+)?|[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*)$",
        RegexOptions.CultureInvariant);

    private static bool YamlBareSafe(string key)
    {
        if (key.Length == 0 || s_yamlReserved.Contains(key))
        {
            return false;
        }
        foreach (var c in key)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or '/'))
            {
                return false;
            }
        }
        if (key[0] == '-' && (key.Length == 1 || key[1] == '-'))
        {
            return false;
        }
        return !s_yamlNumberLike.IsMatch(key);
    }

    private static string YamlKey(string k, bool quoteKeys) => quoteKeys || !YamlBareSafe(k) ? StringOps.EscapeJson(k) : k;

    private static void Yaml(Evaluator ev, StringBuilder sb, Value v, string cindent, bool indentArray, bool quoteKeys, List<object> path)
    {
        ev.EnsureStack();
        switch (v)
        {
            case BoolValue b:
                sb.Append(b.Value ? "true" : "false");
                return;
            case NullValue:
                sb.Append("null");
                return;
            case NumberValue n:
                sb.Append(Format.Number(n.Value));
                return;
            case StringValue s:
            {
                var str = s.Value;
                if (str.Length == 0)
                {
                    sb.Append("\"\"");
                }
                else if (str[^1] == '\n')
                {
                    var lines = str.Split('\n');
                    sb.Append('|');
                    for (var i = 0; i < lines.Length - 1; i++)
                    {
                        sb.Append('\n').Append(cindent).Append("  ").Append(lines[i]);
                    }
                }
                else
                {
                    sb.Append(StringOps.EscapeJson(str));
                }
                return;
            }
            case FunctionValue:
                throw ev.Error("Tried to manifest function at " + PathText(path), null);
            case ArrayValue arr:
            {
                if (arr.Length == 0)
                {
                    sb.Append("[]");
                    return;
                }
                for (var i = 0; i < arr.Length; i++)
                {
                    if (i > 0)
                    {
                        sb.Append('\n').Append(cindent);
                    }
                    var e = arr.Items[i].Force();
                    string newIndent;
                    sb.Append('-');
                    if (e is ArrayValue ea && ea.Length > 0)
                    {
                        newIndent = cindent + "  ";
                        sb.Append('\n').Append(newIndent);
                    }
                    else if (e is ObjectValue eo && eo.FieldNames(false).Length > 0)
                    {
                        newIndent = cindent + "  ";
                        sb.Append(' ');
                    }
                    else
                    {
                        newIndent = cindent;
                        sb.Append(' ');
                    }
                    Yaml(ev, sb, e, newIndent, indentArray, quoteKeys, [.. path, i]);
                }
                return;
            }
            case ObjectValue o:
            {
                var names = o.FieldNames(false);
                if (names.Length == 0)
                {
                    sb.Append("{}");
                    return;
                }
                for (var i = 0; i < names.Length; i++)
                {
                    if (i > 0)
                    {
                        sb.Append('\n').Append(cindent);
                    }
                    var k = names[i];
                    var e = ev.GetField(o, k, null);
                    sb.Append(YamlKey(k, quoteKeys)).Append(':');
                    string newIndent;
                    if (e is ArrayValue ea && ea.Length > 0)
                    {
                        newIndent = indentArray ? cindent + "  " : cindent;
                        sb.Append('\n').Append(newIndent);
                    }
                    else if (e is ObjectValue eo && eo.FieldNames(false).Length > 0)
                    {
                        newIndent = cindent + "  ";
                        sb.Append('\n').Append(newIndent);
                    }
                    else
                    {
                        newIndent = cindent;
                        sb.Append(' ');
                    }
                    Yaml(ev, sb, e, newIndent, indentArray, quoteKeys, [.. path, k]);
                }
                return;
            }
        }
    }

    private static string PathText(List<object> path) =>
        "[" + string.Join(", ", path.Select(p => p is string s ? StringOps.EscapeJson(s) : p.ToString())) + "]";

    private sealed class TomlWriter(Evaluator ev, string indent)
    {
        private static string Key(string key)
        {
            foreach (var c in key)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
                {
                    return StringOps.EscapeJson(key);
                }
            }
            return key.Length == 0 ? "\"\"" : key;
        }

        private static bool IsTableArray(Value v) => v is ArrayValue a && a.Length > 0 && a.Items.All(t => t.Force() is ObjectValue);

        private static bool IsSection(Value v) => v is ObjectValue || IsTableArray(v);

        private string RenderValue(Value v, List<object> path, bool inline, string cindent)
        {
            ev.EnsureStack();
            switch (v)
            {
                case BoolValue b:
                    return b.Value ? "true" : "false";
                case NullValue:
                    throw ev.Error("Tried to manifest \"null\" at " + PathText(path), null);
                case NumberValue n:
                    return Format.Number(n.Value);
                case StringValue s:
                    return StringOps.EscapeJson(s.Value);
                case FunctionValue:
                    throw ev.Error("Tried to manifest function at " + PathText(path), null);
                case ArrayValue arr:
                {
                    if (arr.Length == 0)
                    {
                        return "[]";
                    }
                    var newIndent = inline ? "" : cindent + indent;
                    var sep = inline ? " " : "\n";
                    var parts = new List<string>();
                    for (var i = 0; i < arr.Length; i++)
                    {
                        parts.Add(newIndent + RenderValue(arr.Items[i].Force(), [.. path, i], true, ""));
                    }
                    return "[" + sep + string.Join("," + sep, parts) + sep + (inline ? "" : cindent) + "]";
                }
                case ObjectValue o:
                {
                    var parts = o.FieldNames(false).Select(k => Key(k) + " = " + RenderValue(ev.GetField(o, k, null), [.. path, k], true, ""));
                    return "{ " + string.Join(", ", parts) + " }";
                }
                default:
                    return "";
            }
        }

        public string TableInternal(ObjectValue v, List<string> path, List<object> indexedPath, string cindent)
        {
            ev.EnsureStack();
            var kvp = new List<string>();
            var sections = new List<string>();
            foreach (var k in v.FieldNames(false))
            {
                var fv = ev.GetField(v, k, null);
                if (!IsSection(fv))
                {
                    kvp.Add(cindent + Key(k) + " = " + RenderValue(fv, [.. indexedPath, k], false, cindent));
                }
            }
            sections.Add(string.Join("\n", kvp));
            foreach (var k in v.FieldNames(false))
            {
                var fv = ev.GetField(v, k, null);
                if (fv is ObjectValue fo)
                {
                    sections.Add(Table(fo, [.. path, k], [.. indexedPath, k], cindent));
                }
                else if (IsTableArray(fv))
                {
                    sections.Add(TableArray((ArrayValue)fv, [.. path, k], [.. indexedPath, k], cindent));
                }
            }
            return string.Join("\n\n", sections);
        }

        private string Table(ObjectValue v, List<string> path, List<object> indexedPath, string cindent)
        {
            var header = cindent + "[" + string.Join(".", path.Select(Key)) + "]";
            var empty = v.FieldNames(false).Length == 0;
            return header + (empty ? "" : "\n") + TableInternal(v, path, indexedPath, cindent + indent);
        }

        private string TableArray(ArrayValue v, List<string> path, List<object> indexedPath, string cindent)
        {
            var sections = new List<string>();
            for (var i = 0; i < v.Length; i++)
            {
                var o = (ObjectValue)v.Items[i].Force();
                var empty = o.FieldNames(false).Length == 0;
                sections.Add(cindent + "[[" + string.Join(".", path.Select(Key)) + "]]" + (empty ? "" : "\n") + TableInternal(o, path, [.. indexedPath, i], cindent + indent));
            }
            return string.Join("\n\n", sections);
        }
    }
}
