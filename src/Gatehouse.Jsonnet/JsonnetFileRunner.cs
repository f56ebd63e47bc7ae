namespace Gatehouse.Jsonnet;

/// <summary>
/// Evaluates a file the way the reference <c>jsonnet</c> command does: imports relative to the importing file,
/// then the library folders (<c>-J</c>, right-most first, then <c>JSONNET_PATH</c>); the result and a newline on
/// standard output; on failure the error on standard error and exit code 1.
/// </summary>
public static class JsonnetFileRunner
{
    /// <summary>Runs the evaluation and returns the process exit code.</summary>
    /// <param name="file">The file to evaluate, as the user wrote it (errors show it that way).</param>
    /// <param name="request">External variables, top-level arguments and library folders.</param>
    /// <param name="stdout">Receives the JSON.</param>
    /// <param name="stderr">Receives errors and <c>std.trace</c> output.</param>
    public static int Run(string file, JsonnetRunRequest request, TextWriter stdout, TextWriter stderr) =>
        Run(file, request, Console.In, stdout, stderr);

    /// <summary>As <see cref="Run(string, JsonnetRunRequest, TextWriter, TextWriter)"/>; <paramref name="file"/> "-" reads <paramref name="stdin"/>.</summary>
    public static int Run(string file, JsonnetRunRequest request, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        string text;
        try
        {
            text = file == "-" ? stdin.ReadToEnd() : File.ReadAllText(file);
            if (file == "-")
            {
                file = "<stdin>";
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"ERROR: opening input file: {file}: {e.Message}");
            return 1;
        }
        var libraryPaths = new List<string>();
        var envPath = Environment.GetEnvironmentVariable("JSONNET_PATH");
        if (!string.IsNullOrEmpty(envPath))
        {
            // JSONNET_PATH: the left-most entry wins, and -J flags win over all of it.
            libraryPaths.AddRange(envPath.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Reverse());
        }
        libraryPaths.AddRange(request.LibraryPaths);
        try
        {
            var options = new JsonnetEvaluationOptions
            {
                ExtVars = Parse(request.ExtStr, request.ExtCode, "ext"),
                TopLevelArgs = Parse(request.TlaStr, request.TlaCode, "tla"),
                ImportResolver = new FileSystemImportResolver(libraryPaths),
                Trace = line => stderr.WriteLine(line),
                MaxStackFrames = request.MaxStackFrames,
                Timeout = null,
                MaxSteps = 0,
                MaxOutputLength = 0,
                MaxValueLength = 0,
                MaxAllocatedBytes = 0,
            };
            // The reference allows 500 nested frames; a thread with a large stack lets that limit, not the
            // thread's stack, decide (the stack is reserved, not committed).
            string? output = null;
            JsonnetException? failure = null;
            var thread = new Thread(() =>
            {
                try
                {
                    output = new JsonnetEngine().Evaluate(text, file, options);
                }
                catch (JsonnetException e)
                {
                    failure = e;
                }
            }, 512 * 1024 * 1024);
            thread.Start();
            thread.Join();
            if (failure is not null)
            {
                throw failure;
            }
            stdout.Write(output);
            stdout.Write('\n');
            return 0;
        }
        catch (JsonnetException e)
        {
            stderr.WriteLine(e.Formatted);
            return 1;
        }
        catch (ArgumentException e)
        {
            stderr.WriteLine("ERROR: " + e.Message);
            return 1;
        }
    }

    private static Dictionary<string, ExternalValue> Parse(IEnumerable<string> strings, IEnumerable<string> codes, string kind)
    {
        var result = new Dictionary<string, ExternalValue>(StringComparer.Ordinal);
        foreach (var (spec, isCode) in strings.Select(s => (s, false)).Concat(codes.Select(c => (c, true))))
        {
            var eq = spec.IndexOf('=', StringComparison.Ordinal);
            string name;
            string value;
            if (eq < 0)
            {
                // "--ext-str NAME" takes the value from the environment variable NAME, as the reference does.
                name = spec;
                value = Environment.GetEnvironmentVariable(spec) ?? throw new ArgumentException($"environment variable {spec} was undefined.");
            }
            else
            {
                name = spec[..eq];
                value = spec[(eq + 1)..];
            }
            if (name.Length == 0)
            {
                throw new ArgumentException($"--{kind}-{(isCode ? "code" : "str")} needs NAME=VALUE, got \"{spec}\"");
            }
            result[name] = isCode ? ExternalValue.Code(value) : ExternalValue.String(value);
        }
        return result;
    }
}
