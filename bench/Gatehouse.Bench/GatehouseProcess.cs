using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Bench;

/// <summary>A real <c>gatehouse serve</c> process on free loopback ports, with its own temporary config.</summary>
internal sealed class GatehouseProcess : IAsyncDisposable
{
    private readonly Process _process;

    private GatehouseProcess(Process process, Uri admin, string provider, string logFile)
    {
        _process = process;
        Admin = admin;
        Provider = provider;
        LogFile = logFile;
    }

    public Uri Admin { get; }
    public int Pid => _process.Id;
    public string Provider { get; }
    public string LogFile { get; }

    public static void BuildRelease(string root)
    {
        Console.Error.WriteLine("building src/Gatehouse (Release) ...");
        var (code, output) = Run(root, "dotnet", ["build", "src/Gatehouse", "-c", "Release", "-nologo", "-v", "q"]);
        if (code != 0) throw new InvalidOperationException("dotnet build failed:\n" + output);
    }

    public static async Task<GatehouseProcess> StartAsync(string root, string work, string? postgresDsn, string? serverDll)
    {
        var dll = serverDll ?? Path.Combine(root, "src", "Gatehouse", "bin", "Release", "net10.0", "gatehouse.dll");
        if (!File.Exists(dll)) throw new InvalidOperationException($"{dll} is missing; build with: dotnet build src/Gatehouse -c Release");
        var dsn = postgresDsn ?? $"sqlite://{Path.Combine(work, "bench.db")}?_fk=true";
        var (publicPort, adminPort) = (FreePort(), FreePort());
        var config = Path.Combine(work, "gatehouse.yml");
        await File.WriteAllTextAsync(config, $"""
            dsn: "{dsn}"
            serve:
              public:
                host: 127.0.0.1
                port: {publicPort}
              admin:
                host: 127.0.0.1
                port: {adminPort}
                require_api_key: false
            log:
              level: warning
            """);

        var (code, output) = Run(root, "dotnet", [dll, "migrate", "sql", "--yes", "--config", config]);
        if (code != 0) throw new InvalidOperationException("gatehouse migrate sql failed:\n" + output);

        var logFile = Path.Combine(work, "serve.log");
        var start = new ProcessStartInfo("dotnet", [dll, "serve", "--config", config])
        {
            WorkingDirectory = work,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start gatehouse");
        var log = new StreamWriter(logFile) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var admin = new Uri($"http://127.0.0.1:{adminPort}/");
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"gatehouse serve exited with {process.ExitCode}; see {logFile}");
            try
            {
                using var r = await probe.GetAsync(new Uri(admin, "admin/health/ready"));
                if (r.IsSuccessStatusCode) break;
            }
            catch (HttpRequestException)
            {
            }
            if (deadline.Elapsed > TimeSpan.FromSeconds(60)) throw new InvalidOperationException("gatehouse serve did not become ready within 60 s");
            await Task.Delay(100);
        }
        return new GatehouseProcess(process, admin, postgresDsn is null ? "SQLite" : "PostgreSQL", logFile);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static (int Code, string Output) Run(string cwd, string file, string[] arguments)
    {
        var psi = new ProcessStartInfo(file, arguments) { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr.Result);
    }
}
