using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>
/// Test servers report a request that is still running after <see cref="Threshold"/> (on standard error: the request,
/// how long, and the thread pool's state), so that a browser test's 30-second timeout says which request stalled and
/// whether the pool was starved. With <c>GATEHOUSE_TEST_STACKS_ON_SLOW</c> naming a directory, the first stall in each
/// 60 seconds also saves every managed thread's stack there (<c>dotnet-stack report</c>, when that tool is installed).
/// </summary>
internal sealed class SlowRequestLog : IStartupFilter
{
    public static readonly TimeSpan Threshold = TimeSpan.FromSeconds(8);

    private static readonly string? StackDirectory = Environment.GetEnvironmentVariable("GATEHOUSE_TEST_STACKS_ON_SLOW") is { Length: > 0 } d ? d : null;

    private static long _lastStacks;

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, following) =>
        {
            var started = Stopwatch.GetTimestamp();
            var request = following(context);
            if (await Task.WhenAny(request, Task.Delay(Threshold)) != request)
            {
                Report("still running", context, started);
                SaveStacks();
            }
            try
            {
                await request;
            }
            finally
            {
                if (Stopwatch.GetElapsedTime(started) >= Threshold) Report($"finished ({context.Response.StatusCode})", context, started);
            }
        });
        next(app);
    };

    private static void Report(string state, HttpContext context, long started) =>
        Console.Error.WriteLine(
            $"{DateTime.UtcNow:HH:mm:ss.fff} slow request {state} after {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F0} ms: " +
            $"{context.Request.Method} {context.Request.Host}{context.Request.Path}{context.Request.QueryString}; thread pool: " +
            $"{ThreadPool.ThreadCount} threads, {ThreadPool.PendingWorkItemCount} queued");

    private static void SaveStacks()
    {
        if (StackDirectory is null) return;
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastStacks);
        if (last != 0 && now - last < 60_000 || Interlocked.CompareExchange(ref _lastStacks, now, last) != last) return;
        var tool = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools", "dotnet-stack");
        if (!File.Exists(tool)) return;
        Directory.CreateDirectory(StackDirectory);
        var file = Path.Combine(StackDirectory, $"stacks-{DateTime.UtcNow:HHmmss-fff}.txt");
        var start = new ProcessStartInfo(tool, ["report", "-p", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        _ = Task.Run(async () =>
        {
            using var process = Process.Start(start)!;
            var output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            await File.WriteAllTextAsync(file, output);
            Console.Error.WriteLine($"slow request: stacks saved to {file}");
        });
    }
}
