using Gatehouse.Jsonnet.Syntax;

namespace Gatehouse.Jsonnet;

/// <summary>Which phase of the evaluation failed.</summary>
public enum JsonnetErrorKind
{
    /// <summary>Lexing, parsing or static checking failed; nothing was evaluated.</summary>
    Static,
    /// <summary>Evaluation or manifestation failed.</summary>
    Runtime,
}

/// <summary>
/// A failed evaluation. <see cref="Exception.Message"/> is the bare message; <see cref="Formatted"/>
/// is the text the reference <c>jsonnet</c> CLI prints (header line, then one tab-indented stack line per frame).
/// </summary>
public sealed class JsonnetException : Exception
{
    public JsonnetException()
        : this(JsonnetErrorKind.Runtime, "evaluation failed", null, [])
    {
    }

    public JsonnetException(string message)
        : this(JsonnetErrorKind.Runtime, message, null, [])
    {
    }

    public JsonnetException(string message, Exception innerException)
        : base(message, innerException)
    {
        Kind = JsonnetErrorKind.Runtime;
        JsonnetStackTrace = [];
    }

    public JsonnetException(JsonnetErrorKind kind, string message, SourceLocation? location, IReadOnlyList<string> stackTrace)
        : base(message)
    {
        Kind = kind;
        Location = location;
        JsonnetStackTrace = stackTrace;
    }

    /// <summary>Static (syntax, unknown variable) or runtime.</summary>
    public JsonnetErrorKind Kind { get; }

    /// <summary>Where the error was raised, when known.</summary>
    public SourceLocation? Location { get; }

    /// <summary>Stack lines, innermost first, each <c>file:line:col[-col]\tdescription</c>.</summary>
    public IReadOnlyList<string> JsonnetStackTrace { get; }

    /// <summary>The error as the reference CLI prints it.</summary>
    public string Formatted
    {
        get
        {
            if (Kind == JsonnetErrorKind.Static)
            {
                return Location is { } loc ? $"STATIC ERROR: {loc}: {Message}" : $"STATIC ERROR: {Message}";
            }
            var sb = new System.Text.StringBuilder("RUNTIME ERROR: ").Append(Message);
            foreach (var line in JsonnetStackTrace)
            {
                sb.Append("\n\t").Append(line);
            }
            return sb.ToString();
        }
    }

    internal static JsonnetException Static(SourceLocation location, string message) =>
        new(JsonnetErrorKind.Static, message, location, []);
}
