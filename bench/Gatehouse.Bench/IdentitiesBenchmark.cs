using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Gatehouse.Bench;

/// <summary>
/// Loads <c>--count</c> identities through <c>PATCH /admin/identities</c> and measures import throughput, identifier
/// lookups, first vs deep keyset page, and single creates (last, so the other figures are taken at exactly --count).
/// </summary>
internal sealed class IdentitiesBenchmark(GatehouseProcess server, BenchOptions options)
{
    private readonly CpuMeter _cpu = new(server.Pid, options.PostgresDsn);

    private const string Password = "correct horse battery staple";

    public async Task<Report> RunAsync()
    {
        var report = new Report(server.Provider, options);
        using var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
            MaxConnectionsPerServer = Math.Max(1, options.Concurrency),
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        using var http = new HttpClient(handler) { BaseAddress = server.Admin, Timeout = TimeSpan.FromMinutes(5) };

        // One bcrypt hash, computed once and reused for every identity (import must not hash; it only checks the format).
        var hash = BCrypt.Net.BCrypt.HashPassword(Password, 10);

        await ImportAsync(http, hash, report);
        await LookupAsync(http, report);
        await PagesAsync(http, report);
        await CreatesAsync(http, null, "single", report);
        await CreatesAsync(http, hash, "single-hashed", report);
        report.LoadAtEnd = Report.LoadAverage();
        return report;
    }

    private async Task ImportAsync(HttpClient http, string hash, Report report)
    {
        var batches = (options.Count + options.BatchSize - 1) / options.BatchSize;
        Console.Error.WriteLine($"importing {options.Count} identities in {batches} batches of {options.BatchSize} ...");
        var perBatch = new List<double>();
        var cpuBefore = _cpu.Read();
        var total = Stopwatch.StartNew();
        var requestTime = TimeSpan.Zero;
        for (var b = 0; b < batches; b++)
        {
            var from = b * options.BatchSize;
            var to = Math.Min(options.Count, from + options.BatchSize);
            var body = IdentityImport.BatchBody("user", from, to, hash);
            var sw = Stopwatch.StartNew();
            var bytes = await IdentityImport.SendBatchAsync(http, body, b);
            sw.Stop();
            requestTime += sw.Elapsed;
            perBatch.Add(sw.Elapsed.TotalMilliseconds);
            IdentityImport.CreatedIds(bytes, to - from, b);
            if ((b + 1) % 10 == 0) Console.Error.WriteLine($"  {to} identities, last batch {sw.Elapsed.TotalMilliseconds:0} ms");
        }
        total.Stop();
        var cpuAfter = _cpu.Read();
        var tenth = Math.Max(1, batches / 10);
        double Rate(IEnumerable<double> ms) => options.BatchSize * ms.Count() / (ms.Sum() / 1000);
        report.Import = new ImportResult(
            options.Count, options.BatchSize, total.Elapsed, requestTime, options.Count / requestTime.TotalSeconds,
            Rate(perBatch.Take(tenth)), Rate(perBatch.TakeLast(tenth)), new Stats(perBatch),
            cpuAfter.Gatehouse - cpuBefore.Gatehouse, cpuAfter.Database - cpuBefore.Database);
    }

    private async Task LookupAsync(HttpClient http, Report report)
    {
        Console.Error.WriteLine($"looking up {options.Lookups} identities by credentials_identifier ...");
        var random = new Random(42);
        async Task<double> One(int i)
        {
            var email = IdentityImport.Email("user", i);
            var uri = new Uri("admin/identities?credentials_identifier=" + Uri.EscapeDataString(email), UriKind.Relative);
            var sw = Stopwatch.StartNew();
            using var response = await http.GetAsync(uri);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            sw.Stop();
            using var doc = JsonDocument.Parse(bytes);
            if (response.StatusCode != HttpStatusCode.OK || doc.RootElement.GetArrayLength() != 1
                || doc.RootElement[0].GetProperty("traits").GetProperty("email").GetString() != email)
                throw new InvalidOperationException($"lookup of {email}: HTTP {(int)response.StatusCode}: {Encoding.UTF8.GetString(bytes)}");
            return sw.Elapsed.TotalMilliseconds;
        }
        for (var i = 0; i < options.LookupWarmup; i++) await One(random.Next(options.Count));
        var samples = new List<double>(options.Lookups);
        var cpuBefore = _cpu.Read();
        for (var i = 0; i < options.Lookups; i++) samples.Add(await One(random.Next(options.Count)));
        var cpuAfter = _cpu.Read();
        report.Lookup = new Stats(samples);
        report.LookupCpu = (cpuAfter.Gatehouse - cpuBefore.Gatehouse, cpuAfter.Database - cpuBefore.Database);
    }

    private async Task PagesAsync(HttpClient http, Report report)
    {
        Console.Error.WriteLine($"walking all pages (page_size {options.PageSize}) ...");
        var first = $"admin/identities?page_size={options.PageSize}";
        var tokens = new List<string?> { null };
        var seen = 0;
        var walk = Stopwatch.StartNew();
        var url = first;
        while (true)
        {
            using var response = await http.GetAsync(new Uri(url, UriKind.Relative));
            var bytes = await response.Content.ReadAsByteArrayAsync();
            if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"page {tokens.Count}: HTTP {(int)response.StatusCode}");
            using (var doc = JsonDocument.Parse(bytes)) seen += doc.RootElement.GetArrayLength();
            var next = NextToken(response);
            if (next is null) break;
            tokens.Add(next);
            url = first + "&page_token=" + Uri.EscapeDataString(next);
        }
        walk.Stop();
        if (seen != options.Count) throw new InvalidOperationException($"the walk saw {seen} identities, expected {options.Count}");
        var deepPage = tokens.Count; // the last page: 400 for 100,000 identities at 250 a page
        var deep = first + "&page_token=" + Uri.EscapeDataString(tokens[^1]!);

        async Task<double> Time(string u)
        {
            var sw = Stopwatch.StartNew();
            using var response = await http.GetAsync(new Uri(u, UriKind.Relative));
            var bytes = await response.Content.ReadAsByteArrayAsync();
            sw.Stop();
            if (response.StatusCode != HttpStatusCode.OK || bytes.Length < 100) throw new InvalidOperationException($"{u}: HTTP {(int)response.StatusCode}");
            return sw.Elapsed.TotalMilliseconds;
        }
        for (var i = 0; i < 10; i++)
        {
            await Time(first);
            await Time(deep);
        }
        var firstSamples = new List<double>();
        var deepSamples = new List<double>();
        for (var i = 0; i < options.PageRepeats; i++)
        {
            // Alternate so both see the same machine noise.
            firstSamples.Add(await Time(first));
            deepSamples.Add(await Time(deep));
        }
        report.Pages = new PagesResult(tokens.Count, seen, walk.Elapsed, deepPage, new Stats(firstSamples), new Stats(deepSamples));
    }

    private static string? NextToken(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out var values)) return null;
        foreach (var part in string.Join(",", values).Split(','))
        {
            if (!part.Contains("rel=\"next\"", StringComparison.Ordinal)) continue;
            var start = part.IndexOf('<', StringComparison.Ordinal) + 1;
            var end = part.IndexOf('>', StringComparison.Ordinal);
            var query = new Uri(part[start..end]).Query.TrimStart('?');
            foreach (var kv in query.Split('&'))
            {
                if (kv.StartsWith("page_token=", StringComparison.Ordinal)) return Uri.UnescapeDataString(kv["page_token=".Length..]);
            }
        }
        return null;
    }

    private async Task CreatesAsync(HttpClient http, string? hash, string prefix, Report report)
    {
        Console.Error.WriteLine($"creating {options.Creates} identities one by one ({(hash is null ? "no password" : "pre-hashed password")}, concurrency {options.Concurrency}) ...");
        byte[] Body(int i)
        {
            using var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteString("schema_id", "default");
                w.WriteStartObject("traits");
                w.WriteString("email", IdentityImport.Email(prefix, i));
                w.WriteEndObject();
                if (hash is not null)
                {
                    w.WriteStartObject("credentials");
                    w.WriteStartObject("password");
                    w.WriteStartObject("config");
                    w.WriteString("hashed_password", hash);
                    w.WriteEndObject();
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }
            return buffer.ToArray();
        }
        async Task<double> One(int i)
        {
            using var content = new ByteArrayContent(Body(i));
            content.Headers.ContentType = new("application/json");
            var sw = Stopwatch.StartNew();
            using var response = await http.PostAsync(new Uri("admin/identities", UriKind.Relative), content);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            sw.Stop();
            if (response.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"create {i}: HTTP {(int)response.StatusCode}: {Encoding.UTF8.GetString(bytes)}");
            return sw.Elapsed.TotalMilliseconds;
        }

        var warm = Math.Min(100, options.Creates);
        for (var i = 0; i < warm; i++) await One(options.Creates + i);
        var next = -1;
        var samples = new double[options.Creates];
        var cpuBefore = _cpu.Read();
        var wall = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < options.Creates) samples[i] = await One(i);
        }));
        wall.Stop();
        var cpuAfter = _cpu.Read();
        var result = new CreateResult(hash is not null, options.Creates, options.Concurrency, wall.Elapsed, options.Creates / wall.Elapsed.TotalSeconds, new Stats(samples),
            cpuAfter.Gatehouse - cpuBefore.Gatehouse, cpuAfter.Database - cpuBefore.Database);
        report.Creates.Add(result);
    }
}
