namespace Gatehouse.Jsonnet.Tests.Conformance;

/// <summary>Finds the official test suite kept outside the repository (never copied into it).</summary>
internal static class ConformanceSuite
{
    public static string? Locate()
    {
        var env = Environment.GetEnvironmentVariable("GATEHOUSE_SHARED");
        if (!string.IsNullOrEmpty(env))
        {
            var fromEnv = Path.Combine(env, "conformance", "jsonnet");
            return Directory.Exists(fromEnv) ? fromEnv : null;
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
