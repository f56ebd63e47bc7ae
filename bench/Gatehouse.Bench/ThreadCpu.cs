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

    private static long Jit(int pid) => Snapshot(pid).Values.Where(t => t.Name.StartsWith(".NET Tiered", StringComparison.Ordinal)).Sum(t => t.Ticks);
}
