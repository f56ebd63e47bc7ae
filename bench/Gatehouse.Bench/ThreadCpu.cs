using System.Globalization;

namespace Gatehouse.Bench;

/// <summary>
/// CPU time of each thread of a process from /proc/&lt;pid&gt;/task/*/stat, to tell the server's request work from the
/// runtime's background work in one phase: .NET's tiered JIT compiler (thread ".NET Tiered Com") keeps recompiling hot
/// methods for a while after a path first runs, and that CPU lands in whatever phase is being measured. Threads that
/// end between two snapshots are lost; their CPU is in the process total but in no thread.
/// </summary>
internal static class ThreadCpu
{
    /// <summary>Thread id → (name, utime + stime in clock ticks).</summary>
    public static Dictionary<int, (string Name, long Ticks)> Snapshot(int pid)
    {
        var result = new Dictionary<int, (string, long)>();
        IEnumerable<string> tasks;
        try
        {
            tasks = Directory.EnumerateDirectories($"/proc/{pid}/task").ToList();
        }
        catch (DirectoryNotFoundException)
        {
            return result;
        }
        foreach (var dir in tasks)
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var open = stat.IndexOf('(', StringComparison.Ordinal);
                var close = stat.LastIndexOf(')');
                var f = stat[(close + 2)..].Split(' ');
                var ticks = long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture);
                result[int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture)] = (stat[(open + 1)..close], ticks);
            }
            catch (IOException)
            {
                // the thread ended while we read
            }
        }
        return result;
    }

    /// <summary>
    /// CPU between two snapshots of the threads whose name starts with <paramref name="prefix"/> (e.g. ".NET Tiered" for
    /// the tiered compiler, ".NET Server GC" / ".NET BGC" for the collector).
    /// </summary>
    public static TimeSpan Between(Dictionary<int, (string Name, long Ticks)> before, Dictionary<int, (string Name, long Ticks)> after, string prefix)
    {
        long ticks = 0;
        foreach (var (tid, (name, t)) in after)
        {
            if (!name.StartsWith(prefix, StringComparison.Ordinal)) continue;
            ticks += t - (before.TryGetValue(tid, out var b) ? b.Ticks : 0);
        }
        return TimeSpan.FromMilliseconds(ticks * 10.0);
    }

    /// <summary>
    /// Waits until the process's tiered JIT compiler has used no CPU for a whole second (at most <paramref name="limit"/>):
    /// after a warm-up its backlog of recompilations can take seconds on a busy machine, and would land in the next phase.
    /// </summary>
    public static async Task WaitForJitQuietAsync(int pid, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        var last = Jit(pid);
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            var now = Jit(pid);
            if (now == last) return;
            last = now;
        }
    }

    /// <summary>
    /// Runs <paramref name="load"/> in slices of <paramref name="slice"/>, each after a pause without load, until one pause
    /// and slice pass with the tiered JIT compiler using under 1 ms of CPU (at most <paramref name="limit"/>); the time it
    /// took (with <paramref name="quietSlices"/>, that many such slices in a row). A fixed warm-up followed by
    /// <see cref="WaitForJitQuietAsync"/> did not reach the steady state: the runtime
    /// counts calls for promotion only once no new tier-0 code has appeared for 100 ms (<c>TC_CallCountingDelayMs</c>;
    /// ten times that in a process that sees one CPU, as the server pinned by <c>--server-cpus 0</c> does), dynamic PGO
    /// promotes a hot method twice (tier 0 or ReadyToRun, instrumented, tier 1), and under a steady load the promotions
    /// kept waiting. The idle wait then let them through, and the JIT compiled the phase's path in the measured phase
    /// (<c>DOTNET_JitStdOutFile</c> listed 600–1,000 tier-1 compilations there, every method of the introspection path
    /// among them), which so ran tier-0 and instrumented code with the JIT beside it. The pauses here let the delay expire
    /// during the warm-up; a pause and slice without JIT CPU is the steady state.
    /// </summary>
    public static async Task<TimeSpan> WarmUntilJitQuietAsync(int pid, Func<TimeSpan, Task> load, TimeSpan slice, TimeSpan limit, int quietSlices = 1)
    {
        var started = DateTime.UtcNow;
        var quiet = 0;
        while (DateTime.UtcNow - started < limit)
        {
            // Measured over the pause too: promotions queued under load may be compiled only once the load stops.
            await using var jit = JitMeter.Start(pid);
            await Task.Delay(TimeSpan.FromMilliseconds(1500));
            await load(slice);
            var jitMs = (await jit.StopAsync()).TotalMilliseconds;
            Console.Error.WriteLine($"    warm-up slice: JIT thread {jitMs:0.0} ms");
            quiet = jitMs < 1 ? quiet + 1 : 0;
            if (quiet >= quietSlices) break;
        }
        return DateTime.UtcNow - started;
    }

    /// <summary>
    /// CPU of each of the JIT compiler's threads in nanoseconds (thread id → ns), from <c>schedstat</c>: <c>stat</c>'s clock
    /// ticks showed 0 for slices in which it compiled hundreds of methods (its short bursts fall between ticks).
    /// </summary>
    public static Dictionary<int, long> JitNs(int pid)
    {
        var result = new Dictionary<int, long>();
        foreach (var (tid, (name, _)) in Snapshot(pid))
        {
            if (!name.StartsWith(".NET Tiered", StringComparison.Ordinal)) continue;
            try
            {
                var text = File.ReadAllText($"/proc/{pid}/task/{tid}/schedstat");
                result[tid] = long.Parse(text.AsSpan(0, text.IndexOf(' ', StringComparison.Ordinal)), CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // the thread ended while we read
            }
        }
        return result;
    }

    private static long Jit(int pid) => Snapshot(pid).Values.Where(t => t.Name.StartsWith(".NET Tiered", StringComparison.Ordinal)).Sum(t => t.Ticks);
}

/// <summary>
/// The JIT compiler's CPU over a phase, from <c>schedstat</c>, polled every 200 ms: the runtime's tiered-compilation worker
/// exits after a few seconds without work and a new one starts when there is some, so two snapshots alone would lose the
/// CPU of a worker that ended in between (and a plain sum over the live threads can even go down).
/// </summary>
internal sealed class JitMeter : IAsyncDisposable
{
    private readonly int _pid;
    private readonly Dictionary<int, long> _first;
    private readonly Dictionary<int, long> _last;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _poll;

    private JitMeter(int pid)
    {
        _pid = pid;
        _first = ThreadCpu.JitNs(pid);
        _last = new Dictionary<int, long>(_first);
        _poll = PollAsync();
    }

    public static JitMeter Start(int pid) => new(pid);

    private async Task PollAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                await Task.Delay(200, _stop.Token);
                Sample();
            }
        }
        catch (OperationCanceledException)
        {
            // stopped
        }
    }

    private void Sample()
    {
        foreach (var (tid, ns) in ThreadCpu.JitNs(_pid))
        {
            lock (_last) _last[tid] = ns;
        }
    }

    /// <summary>The JIT threads' CPU since <see cref="Start"/>.</summary>
    public async Task<TimeSpan> StopAsync()
    {
        await _stop.CancelAsync();
        await _poll;
        Sample();
        long ns = 0;
        lock (_last)
        {
            foreach (var (tid, last) in _last) ns += last - _first.GetValueOrDefault(tid);
        }
        return TimeSpan.FromMilliseconds(ns / 1e6);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested) await StopAsync();
        _stop.Dispose();
    }
}
