using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.SelfService.Strategies.LookupSecret;
using Gatehouse.SelfService.Strategies.Totp;
using OtpNet;

namespace Gatehouse.Bench;

/// <summary>
/// Server CPU of one second-factor verification, in process (no server, no database), on one thread timed by its own CPU
/// clock: a TOTP code (<see cref="TotpKey.Parse"/> of the stored <c>totp_url</c>, then <see cref="TotpKey.Match"/>, as
/// the totp strategy does per submit) and a recovery code (parse the stored config of 12 hashed codes, compare the code
/// with every hash as <c>LookupSecretStrategy</c> does, mark the match used and serialise the new config). What the
/// request adds around it (HTTP, flow and credential reads, the compare-and-swap write, the session) is not included.
/// </summary>
internal static class MfaVerificationBenchmark
{
    public static string Run(int count)
    {
        // TOTP: one key; codes computed beforehand for consecutive windows, so each verification matches.
        var key = TotpKey.Generate("Bench", "someone@example.com");
        var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var totp = new Totp(Base32Encoding.ToBytes(key.Base32Secret));
        var cases = Enumerable.Range(0, count).Select(i => (Now: start.AddSeconds(30.0 * i), Code: totp.ComputeTotp(start.AddSeconds(30.0 * i)))).ToArray();

        // Recovery codes: 12 hashed codes in the stored config shape; each verification uses one (the last, the worst case).
        var options = new GatehouseOptions();
        options.Secrets.Default = ["a-bench-default-secret-32-chars!"];
        var hasher = new RecoveryCodeHasher(options);
        var identityId = Guid.CreateVersion7();
        var codes = Enumerable.Range(0, 12).Select(_ => LookupSecretStrategy.NewCode()).ToList();
        var stored = new JsonObject { [LookupSecretCredentials.CodesKey] = new JsonArray([.. codes.Select(c => (JsonNode)LookupSecretCredentials.Entry(hasher.Hash(identityId, c), null))]) }.ToJsonString();

        // Warm-up (JIT), then the measured loops.
        for (var i = 0; i < Math.Min(500, count); i++)
        {
            _ = TotpKey.Parse(key.Url)!.Match(cases[i].Code, cases[i].Now);
            _ = VerifyLookup(hasher, identityId, stored, codes[^1]);
        }

        var (totpCpu, totpWall) = Measure(() =>
        {
            for (var i = 0; i < count; i++)
            {
                if (TotpKey.Parse(key.Url)!.Match(cases[i].Code, cases[i].Now) is null) throw new InvalidOperationException($"TOTP verification {i} failed");
            }
        });
        var (lookupCpu, lookupWall) = Measure(() =>
        {
            for (var i = 0; i < count; i++)
            {
                if (VerifyLookup(hasher, identityId, stored, codes[^1]) is null) throw new InvalidOperationException($"recovery-code verification {i} failed");
            }
        });

        string Ms(TimeSpan total) => (total.TotalMilliseconds / count).ToString("0.0000", CultureInfo.InvariantCulture) + " ms";
        var md = new StringBuilder();
        md.AppendLine("| measure | CPU per verification (thread CPU clock, mean) | wall per verification (mean) |").AppendLine("|---|---|---|");
        md.AppendLine(CultureInfo.InvariantCulture, $"| TOTP (parse totp_url + match, {count}×) | {Ms(totpCpu)} | {Ms(totpWall)} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| recovery code (12 hashes compared, marked used, {count}×) | {Ms(lookupCpu)} | {Ms(lookupWall)} |");
        return md.ToString();
    }

    /// <summary>As <c>LookupSecretStrategy.SpendAsync</c> without the write: every entry compared, the match marked used.</summary>
    private static string? VerifyLookup(RecoveryCodeHasher hasher, Guid identityId, string storedConfig, string code)
    {
        var config = JsonNode.Parse(storedConfig)!.AsObject();
        JsonObject? match = null;
        foreach (var entry in (config[LookupSecretCredentials.CodesKey] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (hasher.Matches(identityId, code, entry[LookupSecretCredentials.HashKey]?.GetValue<string>())) match ??= entry;
        }
        if (match is null || LookupSecretCredentials.IsUsed(match)) return null;
        match[LookupSecretCredentials.UsedAtKey] = "2026-01-01T00:00:00Z";
        return config.ToJsonString();
    }

    private static (TimeSpan Cpu, TimeSpan Wall) Measure(Action loop)
    {
        var cpu = ThreadCpu();
        var wall = Stopwatch.StartNew();
        loop();
        wall.Stop();
        return (ThreadCpu() - cpu, wall.Elapsed);
    }

    // The calling thread's CPU time (Linux: /proc/thread-self/stat, utime + stime in 10 ms ticks, so the loops are long).
    private static TimeSpan ThreadCpu()
    {
        var stat = File.ReadAllText("/proc/thread-self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return TimeSpan.FromMilliseconds((long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * 10);
    }
}
