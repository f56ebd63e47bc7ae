using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Gatehouse.Jsonnet.Runtime;
using Gatehouse.Jsonnet.Syntax;

namespace Gatehouse.Jsonnet;

/// <summary>
/// Evaluates Jsonnet. Thread-safe; keep one instance to benefit from its cache of parsed programs.
/// </summary>
public sealed class JsonnetEngine
{
    private const int MaxCachedPrograms = 1024;
    private readonly ConcurrentDictionary<(string File, string Text), Node> _programs = new();

    /// <summary>A shared engine for callers that do not need their own cache.</summary>
    public static JsonnetEngine Shared { get; } = new();

    /// <summary>Evaluates <paramref name="snippet"/> and returns the JSON the reference CLI prints (3-space indent, no final newline).</summary>
    /// <param name="snippet">The Jsonnet source.</param>
    /// <param name="fileName">The name used in errors, <c>std.thisFile</c> and to resolve relative imports.</param>
    /// <param name="options">Variables, import resolver and limits; defaults when null.</param>
    /// <param name="cancellationToken">Stops the evaluation with an error.</param>
    /// <exception cref="JsonnetException">The program is invalid or its evaluation failed.</exception>
    public string Evaluate(string snippet, string fileName = "<snippet>", JsonnetEvaluationOptions? options = null, CancellationToken cancellationToken = default) =>
        Run(snippet, fileName, options ?? new JsonnetEvaluationOptions(), cancellationToken, JsonStyle.Pretty);

    /// <summary>Evaluates a file read from disk. Imports still go through <see cref="JsonnetEvaluationOptions.ImportResolver"/>.</summary>
    public string EvaluateFile(string path, JsonnetEvaluationOptions? options = null, CancellationToken cancellationToken = default) =>
        Evaluate(File.ReadAllText(path), path, options, cancellationToken);

    /// <summary>Evaluates <paramref name="snippet"/> to a <see cref="JsonNode"/> (null for JSON null).</summary>
    public JsonNode? EvaluateToNode(string snippet, string fileName = "<snippet>", JsonnetEvaluationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var json = EvaluateMinified(snippet, fileName, options, cancellationToken);
        return JsonNode.Parse(json);
    }

    /// <summary>Evaluates to minified JSON (no whitespace), numbers and strings formatted as in the reference output.</summary>
    public string EvaluateMinified(string snippet, string fileName = "<snippet>", JsonnetEvaluationOptions? options = null, CancellationToken cancellationToken = default) =>
        Run(snippet, fileName, options ?? new JsonnetEvaluationOptions(), cancellationToken, JsonStyle.Custom);

    /// <summary>
    /// Parses and checks a program once, for hosts that evaluate the same template many times
    /// (a server compiles its configured templates at start-up and reports their errors early).
    /// </summary>
    /// <exception cref="JsonnetException">The program does not parse or refers to unknown variables.</exception>
    public JsonnetProgram Compile(string snippet, string fileName = "<snippet>") => new(this, ParseCached(fileName, snippet), fileName);

    /// <summary>Parses and statically checks a program without evaluating it (cached).</summary>
    /// <exception cref="JsonnetException">The program does not parse or refers to unknown variables.</exception>
    public void Check(string snippet, string fileName = "<snippet>") => ParseCached(fileName, snippet);

    internal Node ParseCached(string file, string text)
    {
        if (_programs.TryGetValue((file, text), out var cached))
        {
            return cached;
        }
        var node = Parser.Parse(file, text);
        Analyzer.Check(node);
        if (_programs.Count >= MaxCachedPrograms)
        {
            _programs.Clear();
        }
        _programs[(file, text)] = node;
        return node;
    }

    private string Run(string snippet, string fileName, JsonnetEvaluationOptions options, CancellationToken cancellationToken, JsonStyle style) =>
        Run(ParseCached(fileName, snippet), fileName, options, cancellationToken, style);

    internal string Run(Node program, string fileName, JsonnetEvaluationOptions options, CancellationToken cancellationToken, JsonStyle style)
    {
        var ev = new Evaluator(this, options, cancellationToken);
        try
        {
            var value = ev.Eval(program, ev.RootEnv(fileName));
            if (value is FunctionValue fn)
            {
                value = CallTopLevel(ev, fn, options);
            }
            return style == JsonStyle.Pretty
                ? Manifester.ToJson(ev, value, null, JsonStyle.Pretty)
                : Manifester.ToJson(ev, value, null, JsonStyle.Custom, "", "", ":");
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException or InvalidOperationException
            or IndexOutOfRangeException or InvalidCastException or NullReferenceException or KeyNotFoundException)
        {
            // An engine defect must still reach the host as an evaluation error, never as an arbitrary exception.
            throw new JsonnetException($"internal error: {e.GetType().Name}: {e.Message}", e);
        }
        finally
        {
            ev.ResetStack();
        }
    }

    private static Value CallTopLevel(Evaluator ev, FunctionValue fn, JsonnetEvaluationOptions options)
    {
        var named = options.TopLevelArgs.Select(kv => (kv.Key, ev.MakeExternal(kv.Key, kv.Value, "tla"))).ToArray();
        ev.Push(null, null, "Top-level function");
        var result = ev.Call(fn, [], named, null, "top_level");
        ev.Pop();
        return result;
    }
}
