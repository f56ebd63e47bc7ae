using Gatehouse.Jsonnet.Syntax;

namespace Gatehouse.Jsonnet.Runtime;

/// <summary>The standard library object <c>std</c>: native implementations of the reference's functions.</summary>
internal static partial class StdLib
{
    private static readonly Lazy<ObjectValue> s_std = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The std object, built once per process; its fields are constants shared by all evaluations.</summary>
    public static ObjectValue Shared => s_std.Value;

    private sealed class Registry
    {
        public Dictionary<string, ObjectField> Fields { get; } = new(StringComparer.Ordinal);

        public void Add(string name, string[] parameters, Func<Evaluator, Thunk?[], Value> body) =>
            Add(name, parameters, parameters.Length, body);

        public void Add(string name, string[] parameters, int required, Func<Evaluator, Thunk?[], Value> body) =>
            Fields[name] = new ObjectField(name, FieldVisibility.Hidden, false, null, null, new BuiltinFunction(name, parameters, required, body));

        public void Value(string name, Value value) =>
            Fields[name] = new ObjectField(name, FieldVisibility.Hidden, false, null, null, value);
    }

    private static ObjectValue Build()
    {
        var r = new Registry();
        RegisterTypes(r);
        RegisterMath(r);
        RegisterStrings(r);
        RegisterArrays(r);
        RegisterObjects(r);
        RegisterManifest(r);
        RegisterEncoding(r);
        return new ObjectValue([ObjectLayer.Constant(r.Fields)]);
    }

    // ---------------------------------------------------------------- argument helpers

    private static JsonnetException TypeError(Evaluator ev, string fn, string expected, Value got) =>
        ev.Error($"Builtin function {fn} expected ({expected}) but got ({got.TypeName})", null);

    private static Value Arg(Thunk?[] a, int i) => a[i]!.Force();

    private static double Num(Evaluator ev, Thunk?[] a, int i, string fn) =>
        Arg(a, i) is NumberValue n ? n.Value : throw TypeError(ev, fn, "number", Arg(a, i));

    private static string Str(Evaluator ev, Thunk?[] a, int i, string fn) =>
        Arg(a, i) is StringValue s ? s.Value : throw TypeError(ev, fn, "string", Arg(a, i));

    private static bool Bool(Evaluator ev, Thunk?[] a, int i, string fn) =>
        Arg(a, i) is BoolValue b ? b.Value : throw TypeError(ev, fn, "boolean", Arg(a, i));

    private static ArrayValue Arr(Evaluator ev, Thunk?[] a, int i, string fn) =>
        Arg(a, i) is ArrayValue v ? v : throw TypeError(ev, fn, "array", Arg(a, i));

    private static ObjectValue Obj(Evaluator ev, Thunk?[] a, int i, string fn) =>
        Arg(a, i) is ObjectValue v ? v : throw TypeError(ev, fn, "object", Arg(a, i));

    private static FunctionValue Fn(Evaluator ev, Thunk?[] a, int i, string fn) =>
        Arg(a, i) is FunctionValue v ? v : throw TypeError(ev, fn, "function", Arg(a, i));

    private static FunctionValue? OptFn(Evaluator ev, Thunk?[] a, int i, string fn) =>
        a[i] is null ? null : Arg(a, i) is FunctionValue f ? f : Arg(a, i) is NullValue ? null : throw TypeError(ev, fn, "function", Arg(a, i));

    private static int Int(Evaluator ev, Thunk?[] a, int i, string fn)
    {
        var d = Num(ev, a, i, fn);
        if (d != Math.Floor(d))
        {
            throw ev.Error($"{fn}: expected an integer, got {Format.Number(d)}", null);
        }
        return (int)Math.Clamp(d, int.MinValue, int.MaxValue);
    }

    private static NumberValue N(double d) => NumberValue.Of(d);

    private static StringValue S(string s) => s.Length == 0 ? StringValue.Empty : new StringValue(s);

    private static ArrayValue A(IEnumerable<Value> items) => new(items.ToArray<Thunk>());

    private static ArrayValue A(List<Thunk> items) => new(items.ToArray());
}
