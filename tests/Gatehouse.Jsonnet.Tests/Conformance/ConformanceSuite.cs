namespace Gatehouse.Jsonnet.Tests.Conformance;

/// <summary>Finds the official test suite kept outside the repository (never copied into it).</summary>
internal static class ConformanceSuite
{
    public static string? Locate()
    {
        var env = Environment.GetEnvironmentVariable("GATEHOUSE_SHARED");
        if (!string.IsNullOrEmpty(env))
        {
            // GATEHOUSE_SHARED names the shared folder; accept the suite folder itself as well.
            var fromEnv = Path.Combine(env, "conformance", "jsonnet");
            if (Directory.Exists(fromEnv))
            {
                return fromEnv;
            }
            return File.Exists(Path.Combine(env, "error.01.jsonnet")) ? env : null;
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "conformance", "jsonnet");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }
}
