using System.Globalization;
using System.Text;

namespace Gatehouse.Bench;

internal sealed record ImportResult(int Count, int BatchSize, TimeSpan Wall, TimeSpan Requests, double PerSecond, double FirstTenthPerSecond, double LastTenthPerSecond, Stats BatchLatency, TimeSpan GatehouseCpu, TimeSpan DatabaseCpu)
{
    /// <summary>Identities per second of server CPU (gatehouse + database): what the server costs, whatever the neighbours do.</summary>
    public double PerCpuSecond => Count / (GatehouseCpu + DatabaseCpu).TotalSeconds;
}

internal sealed record PagesResult(int Pages, int Identities, TimeSpan Walk, int DeepPage, Stats First, Stats Deep)
{
    public double Ratio => Deep.P50 / First.P50;
}

internal sealed record CreateResult(bool Hashed, int Count, int Concurrency, TimeSpan Wall, double PerSecond, Stats Latency, TimeSpan GatehouseCpu, TimeSpan DatabaseCpu)
{
    public double PerCpuSecond => Count / (GatehouseCpu + DatabaseCpu).TotalSeconds;
}

internal sealed class Report(string provider, BenchOptions options)
{
    public const double ImportTarget = 5000;
    public const double LookupTargetMs = 1.0;
    public const double DeepPageTarget = 1.2;

    public ImportResult? Import { get; set; }
    public Stats? Lookup { get; set; }
    public (TimeSpan Gatehouse, TimeSpan Database) LookupCpu { get; set; }
    public PagesResult? Pages { get; set; }
    public List<CreateResult> Creates { get; } = [];

    /// <summary>/proc/loadavg at the start and end of the run: the machine is shared, so say how busy it was.</summary>
    public string LoadAtStart { get; } = LoadAverage();
    public string LoadAtEnd { get; set; } = "";

    public static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    public string ToMarkdown()
    {
        var c = CultureInfo.InvariantCulture;
        var s = new StringBuilder();
        string Met(bool ok) => ok ? "met" : "**missed**";
        s.AppendLine(c, $"### {provider}, {options.Count:N0} identities ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC)");
        s.AppendLine();
        s.AppendLine(c, $"Load average (1/5/15 min) at start: {LoadAtStart}; at end: {LoadAtEnd}.");
        s.AppendLine();
        s.AppendLine("| measure | result | target | |");
        s.AppendLine("|---|---|---|---|");
        if (Import is { } i)
        {
            s.AppendLine(c, $"| (a) batch import, {i.BatchSize} per request, sequential | **{i.PerSecond:N0} identities/s** ({i.Count:N0} in {i.Requests.TotalSeconds:0.0} s of requests; {i.Wall.TotalSeconds:0.0} s with building the bodies) | ≥ {ImportTarget:N0}/s | {Met(i.PerSecond >= ImportTarget)} |");
            s.AppendLine(c, $"| (a) … first 10% / last 10% of batches | {i.FirstTenthPerSecond:N0}/s / {i.LastTenthPerSecond:N0}/s | | |");
            s.AppendLine(c, $"| (a) … per-request latency | p50 {i.BatchLatency.P50:0} ms, p99 {i.BatchLatency.P99:0} ms | | |");
            s.AppendLine(c, $"| (a) … server CPU (gatehouse + database) | {i.GatehouseCpu.TotalSeconds:0.0} s + {i.DatabaseCpu.TotalSeconds:0.0} s = **{i.PerCpuSecond:N0} identities per CPU-second** | | |");
        }
        foreach (var cr in Creates)
        {
            s.AppendLine(c, $"| (b) single create `POST`, {(cr.Hashed ? "pre-hashed password" : "no password")}, {cr.Concurrency} concurrent | **{cr.PerSecond:N0} identities/s** ({cr.Count:N0} in {cr.Wall.TotalSeconds:0.0} s); p50 {cr.Latency.P50:0.00} ms, p99 {cr.Latency.P99:0.00} ms | — | |");
            s.AppendLine(c, $"| (b) … server CPU (gatehouse + database) | {cr.GatehouseCpu.TotalSeconds:0.0} s + {cr.DatabaseCpu.TotalSeconds:0.0} s = {cr.PerCpuSecond:N0} identities per CPU-second | | |");
        }
        if (Lookup is { } l)
        {
            s.AppendLine(c, $"| (c) `credentials_identifier` lookup, sequential, warm connection, after {options.LookupWarmup:N0} warm-up lookups | **p50 {l.P50:0.000} ms**, p90 {l.P90:0.000} ms, p99 {l.P99:0.000} ms (n={l.Count}) | < {LookupTargetMs:0} ms | p50 {Met(l.P50 < LookupTargetMs)}, p99 {Met(l.P99 < LookupTargetMs)} |");
            s.AppendLine(c, $"| (c) … server CPU per lookup (gatehouse + database) | {LookupCpu.Gatehouse.TotalMilliseconds * 1000 / l.Count:0} µs + {LookupCpu.Database.TotalMilliseconds * 1000 / l.Count:0} µs | | |");
        }
        if (Pages is { } p)
        {
            s.AppendLine(c, $"| (d) first page (page_size {options.PageSize}) | p50 {p.First.P50:0.00} ms, p99 {p.First.P99:0.00} ms (n={p.First.Count}) | | |");
            s.AppendLine(c, $"| (d) page {p.DeepPage} (via page_token) | p50 {p.Deep.P50:0.00} ms, p99 {p.Deep.P99:0.00} ms (n={p.Deep.Count}) | | |");
            s.AppendLine(c, $"| (d) deep / first (p50) | **{p.Ratio:0.00}×** | ≤ {DeepPageTarget:0.0}× | {Met(p.Ratio <= DeepPageTarget)} |");
            s.AppendLine(c, $"| (d) … walk of all {p.Pages} pages ({p.Identities:N0} identities) | {p.Walk.TotalSeconds:0.0} s ({p.Walk.TotalMilliseconds / p.Pages:0.0} ms/page) | | |");
        }
        return s.ToString();
    }
}
