using System.Diagnostics;

namespace Gatehouse.Tests.Cli;

/// <summary>Runs the real <c>gatehouse</c> executable (copied next to the tests) as a child process.</summary>
public static class CliProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static async Task<Result> RunAsync(IEnumerable<string> args, IDictionary<string, string>? env = null, string? workingDirectory = null, string? stdin = null)
    {
        var psi = StartInfo(args, env, workingDirectory);
        psi.RedirectStandardInput = true;
        using var p = Process.Start(psi)!;
        if (stdin is not null) await p.StandardInput.WriteAsync(stdin);
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(cts.Token);
        return new Result(p.ExitCode, await stdout, await stderr);
    }

    /// <summary><c>dotnet gatehouse.dll</c> with <paramref name="args"/>, its output redirected.</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args, IDictionary<string, string>? env = null, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "gatehouse.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        // Keep the child's configuration to what the test says.
        foreach (var key in new[] { "DSN", "SERVE_PUBLIC_PORT", "SERVE_ADMIN_PORT", "LOG_LEVEL" }) psi.Environment.Remove(key);
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        return psi;
    }
}

/// <summary>A running <c>gatehouse serve</c> child process; disposing it kills the process if it still runs.</summary>
public sealed class ServeProcess : IAsyncDisposable
{
    private ServeProcess(Process process)
    {
        Process = process;
        Stdout = process.StandardOutput.ReadToEndAsync();
        Stderr = process.StandardError.ReadToEndAsync();
    }

    public Process Process { get; }

    /// <summary>Everything the process wrote, once it has ended.</summary>
    public Task<string> Stdout { get; }

    public Task<string> Stderr { get; }

    public static ServeProcess Start(IEnumerable<string> args, IDictionary<string, string>? env = null, string? workingDirectory = null) =>
        new(Process.Start(CliProcess.StartInfo(args, env, workingDirectory))!);

    /// <summary>Waits until <c>/health/ready</c> on the public port answers 200: up to a minute, since a fresh process on a busy machine can be slow to start.</summary>
    public async Task WaitUntilReadyAsync(int publicPort)
    {
        using var http = new HttpClient();
        for (var i = 0; i < 600; i++)
        {
            try
            {
                if ((await http.GetAsync($"http://127.0.0.1:{publicPort}/health/ready")).StatusCode == System.Net.HttpStatusCode.OK) return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(100);
        }
        Assert.Fail($"gatehouse serve did not become ready on port {publicPort}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!Process.HasExited) Process.Kill(entireProcessTree: true);
        await Process.WaitForExitAsync();
        Process.Dispose();
    }
}
