using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Bench;

/// <summary>A real <c>gatehouse serve</c> process on free loopback ports, with its own temporary config.</summary>
internal sealed class GatehouseProcess : IAsyncDisposable
{
    private readonly Process _process;

    private GatehouseProcess(Process process, Uri admin, Uri @public, string dsn, string provider, string logFile)
    {
        _process = process;
        Admin = admin;
        Public = @public;
        Dsn = dsn;
        Provider = provider;
        LogFile = logFile;
    }

    public Uri Admin { get; }
    public Uri Public { get; }

    /// <summary>The DSN in Gatehouse's (Kratos's) URL form, as written to the config.</summary>
    public string Dsn { get; }
    public int Pid => _process.Id;
    public string Provider { get; }
    public string LogFile { get; }

    public static void BuildRelease(string root)
    {
        Console.Error.WriteLine("building src/Gatehouse (Release) ...");
        var (code, output) = Run(root, "dotnet", ["build", "src/Gatehouse", "-c", "Release", "-nologo", "-v", "q"]);
        if (code != 0) throw new InvalidOperationException("dotnet build failed:\n" + output);
    }

    /// <param name="extraConfig">YAML appended to the generated config (top-level keys other than dsn, serve and log).</param>
    /// <param name="dev">
    /// Serve with <c>--dev</c>: only there does Gatehouse (like Kratos) keep a bcrypt cost below 12 instead of raising it.
    /// </param>
    public static async Task<GatehouseProcess> StartAsync(string root, string work, string? postgresDsn, string? serverDll, string extraConfig = "", bool dev = false)
    {
        var dll = serverDll ?? Path.Combine(root, "src", "Gatehouse", "bin", "Release", "net10.0", "gatehouse.dll");
        if (!File.Exists(dll)) throw new InvalidOperationException($"{dll} is missing; build with: dotnet build src/Gatehouse -c Release");
        var dsn = postgresDsn ?? $"sqlite://{Path.Combine(work, "bench.db")}?_fk=true";
        var (publicPort, adminPort) = (FreePort(), FreePort());
        var config = await WriteConfigAsync(Path.Combine(work, "gatehouse.yml"), dsn, publicPort, adminPort, extraConfig);

        var (code, output) = Run(root, "dotnet", [dll, "migrate", "sql", "--yes", "--config", config]);
        if (code != 0) throw new InvalidOperationException("gatehouse migrate sql failed:\n" + output);

        var logFile = Path.Combine(work, "serve.log");
        var start = new ProcessStartInfo("dotnet", dev ? [dll, "serve", "--dev", "--config", config] : [dll, "serve", "--config", config]) { WorkingDirectory = work };
        var process = StartLogged(start, logFile);
        var admin = new Uri($"http://127.0.0.1:{adminPort}/");
        await WaitReadyAsync(process, new Uri(admin, "admin/health/ready"), logFile);
        return new GatehouseProcess(process, admin, new Uri($"http://127.0.0.1:{publicPort}/"), dsn, postgresDsn is null ? "SQLite" : "PostgreSQL", logFile);
    }

    /// <summary>
    /// Writes the benchmark's config to <paramref name="path"/>: the DSN, both listeners on loopback at the given ports (the
    /// admin API without a key), warnings only, then <paramref name="extraConfig"/>.
    /// </summary>
    public static async Task<string> WriteConfigAsync(string path, string dsn, int publicPort, int adminPort, string extraConfig = "")
    {
        await File.WriteAllTextAsync(path, $"""
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
            """ + "\n" + extraConfig);
        return path;
    }

    /// <summary>
    /// CPUs the servers (Gatehouse and the bare endpoint) are pinned to (<c>--server-cpus</c>, a <c>taskset -c</c> list),
    /// so that on a small machine the driver can run on the other CPUs and not steal the server's time slices.
    /// </summary>
    public static string? ServerCpus { get; set; }

    /// <summary>Starts a process with its stdout and stderr copied to <paramref name="logFile"/>.</summary>
    public static Process StartLogged(ProcessStartInfo start, string logFile)
    {
        if (ServerCpus is not null)
        {
            // taskset execs the command, so the process id (read by the CPU meter) stays the server's.
            start.ArgumentList.Insert(0, start.FileName);
            start.ArgumentList.Insert(0, ServerCpus);
            start.ArgumentList.Insert(0, "-c");
            start.FileName = "taskset";
        }
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        var log = new StreamWriter(logFile) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Polls <paramref name="probeUrl"/> until it answers 2xx (60 s at most).</summary>
    public static async Task WaitReadyAsync(Process process, Uri probeUrl, string logFile)
    {
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"{process.StartInfo.FileName} exited with {process.ExitCode}; see {logFile}");
            try
            {
                using var r = await probe.GetAsync(probeUrl);
                if (r.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            if (deadline.Elapsed > TimeSpan.FromSeconds(60)) throw new InvalidOperationException($"{probeUrl} did not become ready within 60 s");
            await Task.Delay(100);
        }
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

    public static int FreePort()
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
