using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Gatehouse.Bench;

/// <summary>
/// Start-up: how long a fresh <c>gatehouse serve</c> takes from its process start until its first answer
/// (<c>GET /health/alive</c> on the public listener, polled every 5 ms), and the CPU it has used by then, against the
/// bare ASP.NET endpoint's process started the same way. The rounds alternate the servers so that each sees the same
/// machine noise; <c>--compare-dll</c> adds another build (e.g. an older commit's) to the rotation.
/// </summary>
internal static class StartupBenchmark
{
    public static async Task<string> RunAsync(string root, string work, BenchOptions options, string? compareDll, int rounds)
    {
        var dll = options.ServerDll ?? Path.Combine(root, "src", "Gatehouse", "bin", "Release", "net10.0", "gatehouse.dll");
        var dsn = options.PostgresDsn ?? $"sqlite://{Path.Combine(work, "bench.db")}?_fk=true";
        var servers = new List<(string Name, Func<Task<(double Wall, double Cpu)>> Start)>
        {
            ("gatehouse serve", () => StartGatehouseAsync(dll, work, dsn)),
        };
        if (compareDll is not null) servers.Add(($"gatehouse serve ({compareDll})", () => StartGatehouseAsync(compareDll, work, dsn)));
        servers.Add(("bare ASP.NET endpoint", () => StartBareAsync(work)));

        // One migration up front: each round then starts on the same migrated database, as an operator's restart does.
        var config = await GatehouseProcess.WriteConfigAsync(Path.Combine(work, "startup.yml"), dsn, GatehouseProcess.FreePort(), GatehouseProcess.FreePort());
        var (code, output) = await RunToEndAsync("dotnet", [dll, "migrate", "sql", "--yes", "--config", config]);
        if (code != 0) throw new InvalidOperationException("gatehouse migrate sql failed:\n" + output);

        var samples = servers.ToDictionary(s => s.Name, _ => new List<(double Wall, double Cpu)>());
        var load0 = File.ReadAllText("/proc/loadavg").Split(' ')[0];
        // One unmeasured round first: the file system cache and the shared framework's pages.
        foreach (var (_, start) in servers) await start();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var (name, start) in servers) samples[name].Add(await start());
        }
        var load1 = File.ReadAllText("/proc/loadavg").Split(' ')[0];

        var bare = samples["bare ASP.NET endpoint"];
        var bareWall = Median(bare.Select(s => s.Wall));
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# Start-up to the first answer ({(options.PostgresDsn is null ? "SQLite" : "PostgreSQL")}, {rounds} rounds, load average {load0} → {load1})");
        md.AppendLine();
        md.AppendLine("| server | wall to first answer, median (min–max) | process CPU by then, median | wall vs bare |");
        md.AppendLine("|---|---|---|---|");
        foreach (var (name, _) in servers)
        {
            var s = samples[name];
            var wall = Median(s.Select(x => x.Wall));
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {name} | {wall:0} ms ({s.Min(x => x.Wall):0}–{s.Max(x => x.Wall):0}) | {Median(s.Select(x => x.Cpu)):0} ms | {wall / bareWall:0.00}× |");
        }
        return md.ToString();
    }

    private static async Task<(double Wall, double Cpu)> StartGatehouseAsync(string dll, string work, string dsn)
    {
        var (publicPort, adminPort) = (GatehouseProcess.FreePort(), GatehouseProcess.FreePort());
        var config = await GatehouseProcess.WriteConfigAsync(Path.Combine(work, "startup.yml"), dsn, publicPort, adminPort);
        return await TimeFirstAnswerAsync(new ProcessStartInfo("dotnet", [dll, "serve", "--config", config]) { WorkingDirectory = work },
            new Uri($"http://127.0.0.1:{publicPort}/health/alive"), Path.Combine(work, "serve.log"));
    }

    private static Task<(double Wall, double Cpu)> StartBareAsync(string work)
    {
        var port = GatehouseProcess.FreePort();
        var start = new ProcessStartInfo("dotnet", [typeof(BareEndpoint).Assembly.Location, "bare-endpoint", port.ToString(CultureInfo.InvariantCulture)]);
        start.Environment["DOTNET_gcServer"] = "1";
        return TimeFirstAnswerAsync(start, new Uri($"http://127.0.0.1:{port}{BareEndpoint.Path}"), Path.Combine(work, "bare.log"));
    }

    private static async Task<(double Wall, double Cpu)> TimeFirstAnswerAsync(ProcessStartInfo start, Uri probe, string logFile)
    {
        using var client = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(1) }) { Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        using var process = GatehouseProcess.StartLogged(start, logFile);
        try
        {
            while (true)
            {
                if (process.HasExited) throw new InvalidOperationException($"{start.FileName} {string.Join(' ', start.ArgumentList)} exited with {process.ExitCode}; see {logFile}");
                try
                {
                    using var answer = await client.GetAsync(probe);
                    if (answer.IsSuccessStatusCode) break;
                }
                catch (HttpRequestException)
                {
                }
                if (clock.Elapsed > TimeSpan.FromSeconds(60)) throw new InvalidOperationException($"{probe} did not answer within 60 s; see {logFile}");
                await Task.Delay(5);
            }
            var wall = clock.Elapsed.TotalMilliseconds;
            var cpu = new CpuMeter(process.Id, null).Read().Gatehouse.TotalMilliseconds;
            return (wall, cpu);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    private static async Task<(int Code, string Output)> RunToEndAsync(string file, string[] arguments)
    {
        var psi = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await stdout + await stderr);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
