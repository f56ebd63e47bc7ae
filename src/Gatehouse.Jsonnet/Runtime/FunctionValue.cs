using Gatehouse.Jsonnet.Syntax;

namespace Gatehouse.Jsonnet.Runtime;

internal abstract class FunctionValue : Value
{
    public override string TypeName => "function";

    public abstract string Name { get; }

    public abstract int ParameterCount { get; }

    public abstract string ParameterName(int index);

    public abstract bool HasDefault(int index);
}

internal sealed class ClosureValue(FunctionNode node, Env env) : FunctionValue
{
    public FunctionNode Node { get; } = node;

    public Env Env { get; } = env;

    public override string Name => Node.Name ?? "anonymous";

    public override int ParameterCount => Node.Parameters.Length;

    public override string ParameterName(int index) => Node.Parameters[index].Name;

    public override bool HasDefault(int index) => Node.Parameters[index].Default is not null;
}

/// <summary>A native function; missing optional arguments arrive as null.</summary>
internal sealed class BuiltinFunction(string name, string[] parameters, int required, Func<Evaluator, Thunk?[], Value> body) : FunctionValue
{
    public override string Name => name;

    public string[] Parameters { get; } = parameters;

    public int Required { get; } = required;

    public Func<Evaluator, Thunk?[], Value> Body { get; } = body;

    public override int ParameterCount => Parameters.Length;

    public override string ParameterName(int index) => Parameters[index];

    public override bool HasDefault(int index) => index >= Required;
}
