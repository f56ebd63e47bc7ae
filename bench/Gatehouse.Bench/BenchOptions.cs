namespace Gatehouse.Bench;

internal sealed class BenchOptions
{
    public int Count { get; set; } = 100_000;
    public string? PostgresDsn { get; set; }
    public string? Out { get; set; }
    public string? ServerDll { get; set; }
    public bool Build { get; set; } = true;
    public bool Keep { get; set; }
    public int BatchSize { get; set; } = 1000;
    public int Lookups { get; set; } = 2000;
    public int LookupWarmup { get; set; } = 200;
    public int PageRepeats { get; set; } = 100;
    public int PageSize { get; set; } = 250;
    public int Creates { get; set; } = 5000;
    public int Concurrency { get; set; } = 8;

    /// <summary>Warm-up operations before a measured phase (code-login); null: the scenario's default.</summary>
    public int? WarmUp { get; set; }

    // sessions
    public int Sessions { get; set; } = 100_000;
    public int Seconds { get; set; } = 10;
    public int Rounds { get; set; } = 2;
    public double Rate { get; set; } = 1000;
    public int AuthConcurrency { get; set; } = 4;
    public int AuthSeconds { get; set; } = 20;
    public int BcryptCost { get; set; } = 12;
    public bool WhoamiCache { get; set; } = true;

    /// <summary>
    /// Share of the identities (0–1) imported with a TOTP second factor, whose sessions are then aal2 (password + totp);
    /// above 0 the server runs with <c>session.whoami.required_aal: highest_available</c>, so every whoami checks the AAL.
    /// </summary>
    public double MfaShare { get; set; }

    /// <summary>Whether identity <paramref name="i"/> has a second factor (spread evenly over the index range).</summary>
    public bool HasSecondFactor(int i) => MfaShare > 0 && (int)((i + 1) * MfaShare) > (int)(i * MfaShare);

    /// <summary>Rate limits on (their defaults; the baseline run turns them off to show what they cost).</summary>
    public bool RateLimits { get; set; } = true;

    /// <summary>Whether the server traces every request to an in-process OTLP sink (<c>--tracing otlp</c>) or not at all.</summary>
    public bool TracingOtlp { get; set; }

    /// <summary>Wrong-password logins per second against one account while whoami runs at <see cref="Rate"/> (0: no flood).</summary>
    public double FloodRate { get; set; } = 1000;
}

internal static class RepoRoot
{
    public static string Find()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Gatehouse.slnx"))) return dir.FullName;
        }
        throw new InvalidOperationException("run from inside the Gatehouse repository (no Gatehouse.slnx found above the current directory)");
    }
}
