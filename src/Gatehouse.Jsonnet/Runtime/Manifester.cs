using System.Text;
using Gatehouse.Jsonnet.Syntax;

namespace Gatehouse.Jsonnet.Runtime;

internal enum JsonStyle
{
    /// <summary>The CLI's output: three-space indent, empty containers as "[ ]" and "{ }".</summary>
    Pretty,
    /// <summary>std.toString and string concatenation: one line, ", " and ": " separators.</summary>
    Inline,
    /// <summary>std.manifestJsonEx with caller-given indent, newline and key separator.</summary>
    Custom,
}

/// <summary>Turns values into JSON text exactly as the reference implementation prints them.</summary>
internal sealed class Manifester
{
    private readonly Evaluator _ev;
    private readonly StringBuilder _sb = new();
    private readonly JsonStyle _style;
    private readonly string _indent;
    private readonly string _newline;
    private readonly string _keySeparator;
    private readonly long _maxLength;
    private readonly Node? _at;

    private Manifester(Evaluator ev, JsonStyle style, string indent, string newline, string keySeparator, Node? at)
    {
        _ev = ev;
        _style = style;
        _indent = indent;
        _newline = newline;
        _keySeparator = keySeparator;
        _at = at;
        _maxLength = ev.Options.MaxOutputLength <= 0 ? long.MaxValue : ev.Options.MaxOutputLength;
    }

    public static string ToJson(Evaluator ev, Value v, Node? at, JsonStyle style) =>
        ToJson(ev, v, at, style, style == JsonStyle.Pretty ? "   " : "", "\n", ": ");

    public static string ToJson(Evaluator ev, Value v, Node? at, JsonStyle style, string indent, string newline, string keySeparator)
    {
        var m = new Manifester(ev, style, indent, newline, keySeparator, at);
        m.Write(v, "");
        return m._sb.ToString();
    }

    // Output manifestation is a frame of its own, as in the reference; conversions to string (std.toString,
    // string concatenation) are not, but still guard the thread's stack.
    private void Enter()
    {
        if (_style == JsonStyle.Inline)
        {
            _ev.EnsureStack();
        }
        else
        {
            _ev.Push(_at, null, "During manifestation");
        }
    }

    private void Leave()
    {
        if (_style != JsonStyle.Inline)
        {
            _ev.Pop();
        }
    }

    private void CheckSize()
    {
        if (_sb.Length > _maxLength)
        {
            throw _ev.Error($"output exceeds the limit of {_maxLength} characters.", _at);
        }
    }

    private void Write(Value v, string currentIndent)
    {
        // Manifesting counts as work too, so that steps, time limit and cancellation apply to large outputs.
        _ev.Charge(1, _at);
        switch (v)
        {
            case NullValue:
                _sb.Append("null");
                break;
            case BoolValue b:
                _sb.Append(b.Value ? "true" : "false");
                break;
            case NumberValue n:
                _sb.Append(Format.Number(n.Value));
                break;
            case StringValue s:
                StringOps.AppendJsonString(_sb, s.Value);
                CheckSize();
                break;
            case FunctionValue:
                throw _ev.Error("couldn't manifest function as JSON", _at);
            case ArrayValue a:
                WriteArray(a, currentIndent);
                break;
            case ObjectValue o:
                WriteObject(o, currentIndent);
                break;
        }
    }

    private void WriteArray(ArrayValue a, string currentIndent)
    {
        if (a.Length == 0)
        {
            _sb.Append(_style switch
            {
                JsonStyle.Custom => "[" + _newline + _newline + currentIndent + "]",
                _ => "[ ]",
            });
            return;
        }
        Enter();
        var inner = currentIndent + _indent;
        if (_style == JsonStyle.Inline)
        {
            _sb.Append('[');
            for (var i = 0; i < a.Length; i++)
            {
                if (i > 0)
                {
                    _sb.Append(", ");
                }
                Write(a.Items[i].Force(), inner);
            }
            _sb.Append(']');
        }
        else
        {
            _sb.Append('[').Append(_newline);
            for (var i = 0; i < a.Length; i++)
            {
                if (i > 0)
                {
                    _sb.Append(',').Append(_newline);
                }
                _sb.Append(inner);
                Write(a.Items[i].Force(), inner);
            }
            _sb.Append(_newline).Append(currentIndent).Append(']');
        }
        CheckSize();
        Leave();
    }

    private void WriteObject(ObjectValue o, string currentIndent)
    {
        Enter();
        _ev.EnsureAsserts(o, _at);
        Leave();
        var names = o.FieldNames(false);
        if (names.Length == 0)
        {
            _sb.Append(_style switch
            {
                JsonStyle.Custom => "{" + _newline + _newline + currentIndent + "}",
                _ => "{ }",
            });
            return;
        }
        Enter();
        var inner = currentIndent + _indent;
        if (_style == JsonStyle.Inline)
        {
            _sb.Append('{');
            for (var i = 0; i < names.Length; i++)
            {
                if (i > 0)
                {
                    _sb.Append(", ");
                }
                StringOps.AppendJsonString(_sb, names[i]);
                _sb.Append(": ");
                Write(_ev.GetField(o, names[i], _at), inner);
            }
            _sb.Append('}');
        }
        else
        {
            _sb.Append('{').Append(_newline);
            for (var i = 0; i < names.Length; i++)
            {
                if (i > 0)
                {
                    _sb.Append(',').Append(_newline);
                }
                _sb.Append(inner);
                StringOps.AppendJsonString(_sb, names[i]);
                _sb.Append(_keySeparator);
                Write(_ev.GetField(o, names[i], _at), inner);
            }
            _sb.Append(_newline).Append(currentIndent).Append('}');
        }
        CheckSize();
        Leave();
    }
}
