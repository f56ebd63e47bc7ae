using System.Text.Json.Nodes;
using Gatehouse.Jsonnet.Runtime;
using Gatehouse.Jsonnet.Syntax;

namespace Gatehouse.Jsonnet;

/// <summary>A parsed and checked program, ready to be evaluated any number of times (thread-safe).</summary>
public sealed class JsonnetProgram
{
    private readonly JsonnetEngine _engine;
    private readonly Node _root;

    internal JsonnetProgram(JsonnetEngine engine, Node root, string fileName)
    {
        _engine = engine;
        _root = root;
        FileName = fileName;
    }

    /// <summary>The name used in errors, <c>std.thisFile</c> and to resolve relative imports.</summary>
    public string FileName { get; }

    /// <summary>Evaluates to the JSON the reference CLI prints (3-space indent, no final newline).</summary>
    /// <exception cref="JsonnetException">The evaluation failed.</exception>
    public string Evaluate(JsonnetEvaluationOptions? options = null, CancellationToken cancellationToken = default) =>
        _engine.Run(_root, FileName, options ?? new JsonnetEvaluationOptions(), cancellationToken, JsonStyle.Pretty);

    /// <summary>Evaluates to minified JSON.</summary>
    /// <exception cref="JsonnetException">The evaluation failed.</exception>
    public string EvaluateMinified(JsonnetEvaluationOptions? options = null, CancellationToken cancellationToken = default) =>
        _engine.Run(_root, FileName, options ?? new JsonnetEvaluationOptions(), cancellationToken, JsonStyle.Custom);

    /// <summary>Evaluates to a <see cref="JsonNode"/> (null for JSON null).</summary>
    /// <exception cref="JsonnetException">The evaluation failed.</exception>
    public JsonNode? EvaluateToNode(JsonnetEvaluationOptions? options = null, CancellationToken cancellationToken = default) =>
        JsonNode.Parse(EvaluateMinified(options, cancellationToken));
}
