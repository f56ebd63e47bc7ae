using Gatehouse.Jsonnet.Syntax;

namespace Gatehouse.Jsonnet.Runtime;

/// <summary>A possibly unevaluated value. Values are their own thunks.</summary>
internal abstract class Thunk
{
    public abstract Value Force();
}

internal abstract class Value : Thunk
{
    public sealed override Value Force() => this;

    public abstract string TypeName { get; }
}

internal sealed class NullValue : Value
{
    public static readonly NullValue Instance = new();

    private NullValue()
    {
    }

    public override string TypeName => "null";
}

internal sealed class BoolValue : Value
{
    public static readonly BoolValue True = new(true);
    public static readonly BoolValue False = new(false);

    private BoolValue(bool value)
    {
        Value = value;
    }

    public bool Value { get; }

    public static BoolValue Of(bool b) => b ? True : False;

    public override string TypeName => "boolean";
}

internal sealed class NumberValue : Value
{
    private static readonly NumberValue[] s_small = CreateSmall();

    private NumberValue(double value)
    {
        Value = value;
    }

    public double Value { get; }

    public override string TypeName => "number";

    public static NumberValue Of(double d)
    {
        if (d >= 0 && d < 256 && d == Math.Floor(d) && !(d == 0 && double.IsNegative(d)))
        {
            return s_small[(int)d];
        }
        return new NumberValue(d);
    }

    private static NumberValue[] CreateSmall()
    {
        var a = new NumberValue[256];
        for (var i = 0; i < a.Length; i++)
        {
            a[i] = new NumberValue(i);
        }
        return a;
    }
}

internal sealed class StringValue(string value) : Value
{
    public static readonly StringValue Empty = new("");

    public string Value { get; } = value;

    public override string TypeName => "string";
}

internal sealed class ArrayValue(Thunk[] items) : Value
{
    public static readonly ArrayValue Empty = new([]);

    public Thunk[] Items { get; } = items;

    public int Length => Items.Length;

    public override string TypeName => "array";
}

/// <summary>An unevaluated expression with its environment; evaluated at most once.</summary>
internal sealed class LazyThunk(Evaluator evaluator, Node expr, Env? env, string? name) : Thunk
{
    private Value? _value;
    private Node? _expr = expr;

    public Env? Env { get; set; } = env;

    public string? Name { get; } = name;

    public override Value Force()
    {
        if (_value is not null)
        {
            return _value;
        }
        var v = evaluator.EvalThunk(_expr!, Env!, Name);
        _value = v;
        _expr = null;
        Env = null;
        return v;
    }
}

/// <summary>A deferred computation done by a built-in (e.g. an element of <c>std.makeArray</c>).</summary>
internal sealed class DelegateThunk(Func<Value> compute) : Thunk
{
    private Value? _value;
    private Func<Value>? _compute = compute;

    public override Value Force()
    {
        if (_value is null)
        {
            _value = _compute!();
            _compute = null;
        }
        return _value;
    }
}

/// <summary>A chain of variable bindings plus the current <c>self</c> and super level.</summary>
internal sealed class Env
{
    public Env(string? name, Thunk? value, Env? parent)
    {
        Name = name;
        Value = value;
        Parent = parent;
        Self = parent?.Self;
        SuperLevel = parent?.SuperLevel ?? 0;
    }

    public Env(ObjectValue self, int superLevel, Env? parent)
    {
        Parent = parent;
        Self = self;
        SuperLevel = superLevel;
    }

    public string? Name { get; }

    public Thunk? Value { get; }

    public Env? Parent { get; }

    public ObjectValue? Self { get; }

    public int SuperLevel { get; }

    public Thunk? Lookup(string name)
    {
        for (var e = this; e is not null; e = e.Parent)
        {
            if ((object?)e.Name == name || (e.Name is not null && e.Name.Length == name.Length && string.Equals(e.Name, name, StringComparison.Ordinal)))
            {
                return e.Value;
            }
        }
        return null;
    }
}
