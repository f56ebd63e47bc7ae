using System.Text;

namespace Gatehouse.Jsonnet.Tests.Conformance;

internal sealed record CaseResult(string Name, bool IsErrorCase, bool Passed, bool FirstLineMatches, string Detail, bool FullTextMatches = false);

/// <summary>Runs one case the way the reference runner does (see the suite's README).</summary>
internal static class ConformanceRunner
{
    private static readonly JsonnetEngine s_engine = new();

    public static CaseResult Run(string suiteDir, string fileName)
    {
        var text = File.ReadAllText(Path.Combine(suiteDir, fileName));
        var isError = fileName.StartsWith("error.", StringComparison.Ordinal);
        var goldenPath = Path.Combine(suiteDir, fileName + ".golden");
        var golden = File.Exists(goldenPath) ? File.ReadAllText(goldenPath) : "true";
        var traces = new List<string>();
        var vars = new Dictionary<string, ExternalValue>(StringComparer.Ordinal)
        {
            ["var1"] = ExternalValue.String("test"),
            ["var2"] = ExternalValue.Code("{x:1,y:2}"),
        };
        var isTla = fileName.StartsWith("tla.", StringComparison.Ordinal);
        var options = new JsonnetEvaluationOptions
        {
            ExtVars = isTla ? new Dictionary<string, ExternalValue>() : vars,
            TopLevelArgs = isTla ? vars : new Dictionary<string, ExternalValue>(),
            ImportResolver = new FileSystemImportResolver(workingDirectory: suiteDir),
            Trace = traces.Add,
            Timeout = TimeSpan.FromSeconds(20),
        };
        string actual;
        bool failed;
        try
        {
            actual = s_engine.Evaluate(text, fileName, options);
            failed = false;
        }
        catch (JsonnetException e)
        {
            actual = e.Formatted;
            failed = true;
        }
        catch (Exception e)
        {
            // Anything but a JsonnetException is an engine bug: report it, never count it as an expected error.
            return new CaseResult(fileName, isError, false, false, "engine crashed: " + e.GetType().Name + ": " + e.Message + " " + e.StackTrace?.Split('\n').FirstOrDefault());
        }
        if (traces.Count > 0)
        {
            var sb = new StringBuilder();
            foreach (var t in traces)
            {
                sb.Append(t).Append('\n');
            }
            actual = sb.Append(actual).ToString();
        }
        var expected = golden.TrimEnd('\n');
        var firstLine = FirstLine(expected) == FirstLine(actual);
        if (isError)
        {
            return new CaseResult(fileName, true, failed, firstLine, failed ? (firstLine ? "" : $"first line differs: {FirstLine(actual)} / expected {FirstLine(expected)}") : "evaluation succeeded: " + Truncate(actual), failed && actual == expected);
        }
        var passed = !failed && actual == expected;
        return new CaseResult(fileName, false, passed, firstLine, passed ? "" : Truncate(actual));
    }

    private static string FirstLine(string s)
    {
        var i = s.IndexOf('\n', StringComparison.Ordinal);
        return i < 0 ? s : s[..i];
    }

    private static string Truncate(string s) => s.Length > 300 ? s[..300] + "..." : s;
}
