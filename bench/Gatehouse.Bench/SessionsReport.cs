using System.Globalization;
using System.Text;

namespace Gatehouse.Bench;

internal sealed class SessionsReport(string provider, BenchOptions options)
{
    public const double WhoamiRatioTarget = 0.5;
    public const double WhoamiP99TargetMs = 2.0;
    public const double AuthRatioTarget = 0.9;

    public TimeSpan ImportTime { get; set; }
    public TimeSpan InsertTime { get; set; }
    public LoadResult? FirstPass { get; set; }
    public List<(LoadResult Bare, LoadResult Gatehouse)> Closed { get; } = [];
    public OpenLoopResult? OpenBare { get; set; }
    public OpenLoopResult? OpenGatehouse { get; set; }
    public OpenLoopResult? OpenGatehouseUnderFlood { get; set; }
    public OpenLoopResult? Flood { get; set; }

    /// <summary>The server's threads' CPU and the driver's during the flood, as one line.</summary>
    public string? FloodThreads { get; set; }
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, int> _floodAnswers = new();

    public void CountFloodAnswer(int status) => _floodAnswers.AddOrUpdate(status, 1, (_, n) => n + 1);
    public List<LoadResult> Hasher { get; } = [];
    public LoadResult? Login { get; set; }
    public LoadResult? Registration { get; set; }
    public string LoadAtStart { get; } = Report.LoadAverage();
    public string LoadAtEnd { get; set; } = "";

    private static double Rate(IEnumerable<LoadResult> runs) => runs.Sum(r => r.Ok) / runs.Sum(r => r.Wall.TotalSeconds);

    public string ToMarkdown()
    {
        var c = CultureInfo.InvariantCulture;
        var s = new StringBuilder();
        string Met(bool ok) => ok ? "met" : "**missed**";
        string Cpu(LoadResult r) => r.DatabaseCpu > TimeSpan.Zero
            ? string.Create(c, $"{r.ServerCpu.TotalMilliseconds * 1000 / Math.Max(1, r.Ok):0} + {r.DatabaseCpu.TotalMilliseconds * 1000 / Math.Max(1, r.Ok):0} µs")
            : string.Create(c, $"{r.ServerCpuMicros:0} µs");
        s.AppendLine(c, $"### {provider}: whoami with {options.Sessions:N0} sessions, login and registration ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC)");
        s.AppendLine();
        s.AppendLine(c, $"Load average (1/5/15 min) at start: {LoadAtStart}; at end: {LoadAtEnd}. {options.Count:N0} identities imported in {ImportTime.TotalSeconds:0.0} s; {options.Sessions:N0} sessions (+ one device each) inserted in {InsertTime.TotalSeconds:0.0} s. bcrypt cost {options.BcryptCost}. whoami cache (`session.whoami.cache.enabled`): {(options.WhoamiCache ? "on" : "off")}. Rate limits (`gatehouse.rate_limits.enabled`): {(options.RateLimits ? "on" : "off")}.{(options.MfaShare > 0 ? string.Create(c, $" Second factors: {options.MfaShare:P0} of the identities have TOTP and aal2 sessions; `session.whoami.required_aal: highest_available`, so every whoami checks the AAL.") : "")}");
        s.AppendLine();
        s.AppendLine(c, $"whoami, closed loop ({options.Concurrency} keep-alive clients, {options.Seconds} s per run, random token of {options.Sessions:N0} per request; server CPU per request = the serving process, + PostgreSQL's; driver CPU = the load driver's, shared machine):");
        s.AppendLine();
        s.AppendLine("| run | requests/s | p50 | p99 | server CPU / request | driver CPU / request | errors |");
        s.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var (b, g) in Closed)
        {
            foreach (var r in new[] { b, g })
                s.AppendLine(c, $"| {r.Name} | {r.PerSecond:N0} | {r.Latency.P50:0.00} ms | {r.Latency.P99:0.00} ms | {Cpu(r)} | {r.DriverCpu.TotalMilliseconds * 1000 / Math.Max(1, r.Ok):0} µs | {r.Failed} |");
        }
        if (FirstPass is { } first)
        {
            s.AppendLine();
            s.AppendLine(c, $"Before these loops, every session's first whoami (a database read{(options.WhoamiCache ? ", which also fills the cache" : "")}), {options.Concurrency} clients, each of the {options.Sessions:N0} tokens once in random order: **{first.PerSecond:N0} requests/s**, p50 {first.Latency.P50:0.00} ms, p99 {first.Latency.P99:0.00} ms, server CPU {Cpu(first)} per request, {first.Failed} errors.");
        }
        s.AppendLine();
        s.AppendLine("| measure | result | target | |");
        s.AppendLine("|---|---|---|---|");
        if (Closed.Count > 0)
        {
            var bare = Rate(Closed.Select(p => p.Bare));
            var gh = Rate(Closed.Select(p => p.Gatehouse));
            s.AppendLine(c, $"| whoami closed-loop throughput / bare endpoint's (all rounds) | **{gh / bare:0%}** ({gh:N0} vs {bare:N0} requests/s) | ≥ {WhoamiRatioTarget:0%} | {Met(gh / bare >= WhoamiRatioTarget)} |");
            var cpuBare = Closed.Average(p => p.Bare.ServerCpuMicros);
            var cpuGh = Closed.Average(p => p.Gatehouse.ServerCpuMicros);
            s.AppendLine(c, $"| … server CPU per request, gatehouse (+ database) / bare | {cpuGh:0} µs / {cpuBare:0} µs = {cpuGh / cpuBare:0.0}× | | |");
        }
        foreach (var o in new[] { OpenBare, OpenGatehouse })
        {
            if (o is null) continue;
            var target = ReferenceEquals(o, OpenGatehouse);
            s.AppendLine(c, $"| {o.Name}, open loop at {o.TargetRate:N0}/s ({o.Ok:N0} answered, {o.Failed} errors, {o.PerSecond:N0}/s achieved) | **p50 {o.Latency.P50:0.000} ms, p99 {o.Latency.P99:0.000} ms**, p90 {o.Latency.P90:0.000} ms, max {o.Latency.Max:0.0} ms; from the scheduled send time: p50 {o.FromSchedule.P50:0.000} ms, p99 {o.FromSchedule.P99:0.000} ms; server CPU {(o.ServerCpu + o.DatabaseCpu).TotalMilliseconds * 1000 / Math.Max(1, o.Ok):0} µs/request | {(target ? "p99 < 2 ms" : "")} | {(target ? Met(o.Latency.P99 < WhoamiP99TargetMs) : "")} |");
        }
        if (OpenGatehouseUnderFlood is { } w && Flood is { } f)
        {
            var answers = string.Join(", ", _floodAnswers.OrderBy(a => a.Key).Select(a => string.Create(c, $"{a.Value:N0} × {a.Key}")));
            // Both loops ran at once, so the server CPU of either is the CPU of both: shown once, per second of the flood.
            var serverCores = (f.ServerCpu + f.DatabaseCpu).TotalSeconds / f.Wall.TotalSeconds;
            s.AppendLine(c, $"| {f.Name}, open loop at {f.TargetRate:N0}/s ({f.PerSecond:N0}/s achieved; answers: {answers}) | p50 {f.Latency.P50:0.000} ms, p99 {f.Latency.P99:0.000} ms; server busy {serverCores:0.00} cores while the flood and whoami ran; p99 per second of the flood: {f.P99BySecond} ms | | |");
            s.AppendLine(c, $"| {w.Name}, open loop at {w.TargetRate:N0}/s ({w.Ok:N0} answered, {w.Failed} errors) | **p50 {w.Latency.P50:0.000} ms, p99 {w.Latency.P99:0.000} ms**, max {w.Latency.Max:0.0} ms; from the scheduled send time: p99 {w.FromSchedule.P99:0.000} ms; p99 per second: {w.P99BySecond} ms | p99 < 5 ms | {Met(w.Latency.P99 < 5.0)} |");
            if (FloodThreads is not null) s.AppendLine(c, $"| … {FloodThreads} | | | |");
        }
        foreach (var h in Hasher)
            s.AppendLine(c, $"| {h.Name}, {options.AuthConcurrency} threads in-process{(GatehouseProcess.ServerCpus is { } cpus ? $" on the server's CPUs {cpus}" : "")} | {h.PerSecond:0.00}/s; {h.Latency.P50:0} ms per call (p50); {h.ServerCpu.TotalMilliseconds / Math.Max(1, h.Ok):0} ms CPU per call | | |");
        void Auth(LoadResult? r, string verb)
        {
            if (r is null) return;
            var ceilings = Hasher.Where(h => h.Name.Contains(verb, StringComparison.Ordinal)).ToList();
            var ceiling = ceilings.Count == 0 ? double.NaN : ceilings.Average(h => h.PerSecond);
            var ratio = r.PerSecond / ceiling;
            s.AppendLine(c, $"| {r.Name}, {options.AuthConcurrency} clients, {options.AuthSeconds} s | **{r.PerSecond:0.00}/s** ({r.Ok} ok, {r.Failed} failed); p50 {r.Latency.P50:0} ms, p99 {r.Latency.P99:0} ms; server CPU {(r.ServerCpu + r.DatabaseCpu).TotalMilliseconds / Math.Max(1, r.Ok):0} ms each | | |");
            s.AppendLine(c, $"| … / hasher `{verb}` rate (mean of before and after: {ceiling:0.00}/s) | **{ratio:0%}** | ≥ {AuthRatioTarget:0%} | {Met(ratio >= AuthRatioTarget)} |");
            // The same comparison in CPU time, which the neighbours hardly change: hasher CPU per call / server CPU per operation.
            var hasherCpu = ceilings.Sum(h => h.ServerCpu.TotalMilliseconds) / Math.Max(1, ceilings.Sum(h => h.Ok));
            var serverCpu = (r.ServerCpu + r.DatabaseCpu).TotalMilliseconds / Math.Max(1, r.Ok);
            s.AppendLine(c, $"| … hasher CPU per call / server CPU per {verb switch { "Verify" => "login", _ => "registration" }} | {hasherCpu:0} ms / {serverCpu:0} ms = **{hasherCpu / serverCpu:0%}** | | |");
        }
        Auth(Login, "Verify");
        Auth(Registration, "Hash");
        return s.ToString();
    }
}
