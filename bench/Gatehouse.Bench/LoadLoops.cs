using System.Diagnostics;
using System.Net;

namespace Gatehouse.Bench;

/// <summary>What one load phase measured: completed operations, failures, wall time, latencies and the CPU it cost.</summary>
internal sealed record LoadResult(string Name, int Ok, int Failed, TimeSpan Wall, Stats Latency, TimeSpan ServerCpu, TimeSpan DatabaseCpu, TimeSpan DriverCpu)
{
    public double PerSecond => Ok / Wall.TotalSeconds;

    /// <summary>Server-side CPU (server process + database processes) per completed operation, in µs.</summary>
    public double ServerCpuMicros => (ServerCpu + DatabaseCpu).TotalMilliseconds * 1000 / Math.Max(1, Ok);
}

/// <summary>Open-loop result: latency from the actual send and from the scheduled send time (no coordinated omission).</summary>
internal sealed record OpenLoopResult(string Name, double TargetRate, int Ok, int Failed, TimeSpan Wall, Stats Latency, Stats FromSchedule, TimeSpan ServerCpu, TimeSpan DatabaseCpu, IReadOnlyList<Stats> BySecond)
{
    public double PerSecond => Ok / Wall.TotalSeconds;

    /// <summary>p99 of the requests scheduled in each second of the run, e.g. "0.9 / 1.2 / …" ms: shows whether a tail is one burst or steady.</summary>
    public string P99BySecond => string.Join(" / ", BySecond.Select(b => b.P99.ToString(b.P99 < 10 ? "0.0" : "0", System.Globalization.CultureInfo.InvariantCulture)));
}

/// <summary>Closed- and open-loop HTTP load over keep-alive connections, and a CPU-time reader for the driver itself.</summary>
internal static class LoadLoops
{
    public static HttpClient Client(Uri baseAddress, int maxConnections) => new(new SocketsHttpHandler
    {
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
        MaxConnectionsPerServer = Math.Max(1, maxConnections),
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
    }) { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(2) };

    public static TimeSpan DriverCpu() => Process.GetCurrentProcess().TotalProcessorTime;

    /// <summary>
    /// <paramref name="clients"/> workers each run <paramref name="operation"/> back to back for <paramref name="duration"/>
    /// (closed loop: the maximum throughput). The operation gets the worker index and a per-worker random and returns
    /// whether it succeeded.
    /// </summary>
    public static Task<LoadResult> ClosedAsync(string name, int clients, TimeSpan duration, Func<int, Random, Task<bool>> operation, CpuMeter cpu) =>
        WorkersAsync(name, clients, cpu, (w, random, wall) => wall.Elapsed < duration ? () => operation(w, random) : null);

    /// <summary>
    /// <paramref name="clients"/> workers share the items 0 … <paramref name="items"/> − 1 and run
    /// <paramref name="operation"/> once for each, back to back (closed loop over a fixed set, e.g. every session once).
    /// </summary>
    public static Task<LoadResult> PassAsync(string name, int clients, int items, Func<int, Task<bool>> operation, CpuMeter cpu)
    {
        var next = -1;
        return WorkersAsync(name, clients, cpu, (_, _, _) => Interlocked.Increment(ref next) is var i && i < items ? () => operation(i) : null);
    }

    /// <summary>
    /// Runs <paramref name="clients"/> workers, each asking <paramref name="next"/> (worker index, its own random, the
    /// run's stopwatch) for its next operation until it answers null, and times every operation.
    /// </summary>
    private static async Task<LoadResult> WorkersAsync(string name, int clients, CpuMeter cpu, Func<int, Random, Stopwatch, Func<Task<bool>>?> next)
    {
        var latencies = new List<double>[clients];
        var failed = 0;
        var cpuBefore = cpu.Read();
        var driverBefore = DriverCpu();
        var wall = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(w => Task.Run(async () =>
        {
            var random = new Random(1000 + w);
            var mine = latencies[w] = new List<double>(4096);
            while (next(w, random, wall) is { } operation)
            {
                var start = Stopwatch.GetTimestamp();
                if (await operation()) mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                else Interlocked.Increment(ref failed);
            }
        })));
        wall.Stop();
        var cpuAfter = cpu.Read();
        var all = latencies.SelectMany(l => l).ToList();
        return new LoadResult(name, all.Count, failed, wall.Elapsed, new Stats(all),
            cpuAfter.Gatehouse - cpuBefore.Gatehouse, cpuAfter.Database - cpuBefore.Database, DriverCpu() - driverBefore);
    }

    /// <summary>
    /// Sends at a fixed <paramref name="rate"/> per second for <paramref name="duration"/>, whether or not earlier requests
    /// have answered (open loop), and records each latency from its actual send and from its scheduled send time.
    /// </summary>
    public static async Task<OpenLoopResult> OpenAsync(string name, double rate, TimeSpan duration, Func<Random, Task<bool>> operation, CpuMeter cpu)
    {
        var total = (int)(rate * duration.TotalSeconds);
        var latency = new double[total];
        var fromSchedule = new double[total];
        var ok = new bool[total];
        var sentAt = new long[total];
        var tasks = new List<Task>(total);
        var random = new Random(7);
        var cpuBefore = cpu.Read();
        var wall = Stopwatch.StartNew();
        var sent = 0;
        while (sent < total)
        {
            var due = Math.Min(total, (int)(wall.Elapsed.TotalSeconds * rate) + 1);
            for (; sent < due; sent++)
            {
                var i = sent;
                var scheduledMs = i * 1000.0 / rate;
                var r = new Random(random.Next());
                tasks.Add(Task.Run(async () =>
                {
                    var start = wall.Elapsed.TotalMilliseconds;
                    sentAt[i] = Stopwatch.GetTimestamp();
                    ok[i] = await operation(r);
                    var end = wall.Elapsed.TotalMilliseconds;
                    latency[i] = end - start;
                    fromSchedule[i] = end - scheduledMs;
                }));
            }
            await Task.Delay(1);
        }
        await Task.WhenAll(tasks);
        wall.Stop();
        var cpuAfter = cpu.Read();
        // Diagnostics: with GATEHOUSE_BENCH_TRACE_DIR set, every request's send time (CLOCK_MONOTONIC, ns) and latency
        // are written there, to line up a slow request with a `perf sched record -k CLOCK_MONOTONIC` trace.
        if (Environment.GetEnvironmentVariable("GATEHOUSE_BENCH_TRACE_DIR") is { Length: > 0 } traceDir)
        {
            var file = Path.Combine(traceDir, string.Concat(name.Split(Path.GetInvalidFileNameChars())).Replace(' ', '-') + ".tsv");
            File.WriteAllLines(file, Enumerable.Range(0, total).Select(i =>
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{(double)sentAt[i] * 1e9 / Stopwatch.Frequency:F0}\t{latency[i]:F3}\t{ok[i]}")));
        }
        var good = Enumerable.Range(0, total).Where(i => ok[i]).ToList();
        var bySecond = good.GroupBy(i => (int)(i / rate)).OrderBy(g => g.Key).Select(g => new Stats(g.Select(i => latency[i]))).ToList();
        return new OpenLoopResult(name, rate, good.Count, total - good.Count, wall.Elapsed,
            new Stats(good.Select(i => latency[i])), new Stats(good.Select(i => fromSchedule[i])),
            cpuAfter.Gatehouse - cpuBefore.Gatehouse, cpuAfter.Database - cpuBefore.Database, bySecond);
    }

    /// <summary>
    /// <paramref name="threads"/> dedicated threads each run <paramref name="operation"/> back to back for
    /// <paramref name="duration"/>, in this process (the hasher's own rate), on the servers' CPUs when
    /// <c>--server-cpus</c> pins them. CPU is this process's.
    /// </summary>
    public static LoadResult Threads(string name, int threads, TimeSpan duration, Action operation)
    {
        var counts = new int[threads];
        var latencies = new List<double>[threads];
        var driverBefore = DriverCpu();
        var wall = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            // With --server-cpus, the baseline runs on the servers' CPUs, as the server it is compared with does.
            CpuAffinity.PinToServerCpus();
            var mine = latencies[t] = [];
            while (wall.Elapsed < duration)
            {
                var start = Stopwatch.GetTimestamp();
                operation();
                mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        }) { IsBackground = true }).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        wall.Stop();
        var cpu = DriverCpu() - driverBefore;
        var all = latencies.SelectMany(l => l).ToList();
        return new LoadResult(name, all.Count, 0, wall.Elapsed, new Stats(all), cpu, TimeSpan.Zero, cpu);
    }
}
