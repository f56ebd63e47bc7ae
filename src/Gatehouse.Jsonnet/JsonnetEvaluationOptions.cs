namespace Gatehouse.Jsonnet;

/// <summary>Inputs and limits of one evaluation. The defaults suit hostile templates in a server.</summary>
public sealed class JsonnetEvaluationOptions
{
    /// <summary>External variables, read with <c>std.extVar</c>.</summary>
    public IDictionary<string, ExternalValue> ExtVars { get; init; } = new Dictionary<string, ExternalValue>(StringComparer.Ordinal);

    /// <summary>Top-level arguments, passed when the program evaluates to a function.</summary>
    public IDictionary<string, ExternalValue> TopLevelArgs { get; init; } = new Dictionary<string, ExternalValue>(StringComparer.Ordinal);

    /// <summary>Who may satisfy imports; null (the default) makes every import fail.</summary>
    public IJsonnetImportResolver? ImportResolver { get; init; }

    /// <summary>Functions reachable through <c>std.native</c>.</summary>
    public IReadOnlyDictionary<string, JsonnetNativeFunction> NativeFunctions { get; init; } = new Dictionary<string, JsonnetNativeFunction>(StringComparer.Ordinal);

    /// <summary>Maximum depth of calls, thunks and field evaluations (the reference's <c>--max-stack</c>, default 500).</summary>
    public int MaxStackFrames { get; init; } = 500;

    /// <summary>Maximum number of evaluation steps (a measure of work); 0 for no limit.</summary>
    public long MaxSteps { get; init; } = 200_000_000;

    /// <summary>Maximum number of characters of output; 0 for no limit.</summary>
    public long MaxOutputLength { get; init; } = 64 * 1024 * 1024;

    /// <summary>Largest string (characters) or array (elements) a single operation may build; 0 for no limit.</summary>
    public long MaxValueLength { get; init; } = 16 * 1024 * 1024;

    /// <summary>
    /// Bytes the evaluation may allocate in total (measured on the evaluating thread, checked periodically);
    /// 0 for no limit. A bound on work and memory together: live memory never exceeds it.
    /// </summary>
    public long MaxAllocatedBytes { get; init; } = 1024L * 1024 * 1024;

    /// <summary>Wall-clock limit for the evaluation; null for none.</summary>
    public TimeSpan? Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Receives <c>std.trace</c> lines (<c>TRACE: file:line message</c>); null discards them.</summary>
    public Action<string>? Trace { get; init; }
}
