using System.Globalization;

namespace Gatehouse.Bench;

/// <summary>
/// CPU time used by the server side (the gatehouse process and, for PostgreSQL, the cluster's processes), read from
/// /proc. The machine is shared and busy, so wall-clock throughput depends on the neighbours; CPU time per identity
/// hardly does, and says what the server itself costs.
/// </summary>
internal sealed class CpuMeter(int gatehousePid, int? postgresPort)
{
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    public (TimeSpan Gatehouse, TimeSpan Database) Read()
    {
        var gatehouse = Ticks(gatehousePid);
        long database = 0;
        if (postgresPort is { } port && FindPostmaster(port) is { } postmaster)
        {
            database = Ticks(postmaster);
            foreach (var pid in Pids())
            {
                if (ParentOf(pid) == postmaster) database += Ticks(pid);
            }
        }
        return (TimeSpan.FromSeconds(gatehouse / TicksPerSecond), TimeSpan.FromSeconds(database / TicksPerSecond));
    }

    private static IEnumerable<int> Pids() =>
        Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit)).Select(n => int.Parse(n!, CultureInfo.InvariantCulture));

    private static string[]? Stat(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the command name, which is in parentheses and may contain spaces.
            return text[(text.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    // stat fields (1-based): 4 ppid, 14 utime, 15 stime; after the command name the array starts at field 3.
    private static long Ticks(int pid) => Stat(pid) is { } f ? long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture) : 0;

    private static int ParentOf(int pid) => Stat(pid) is { } f ? int.Parse(f[1], CultureInfo.InvariantCulture) : -1;

    private static int? FindPostmaster(int port)
    {
        foreach (var pid in Pids())
        {
            try
            {
                var args = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
                if (!args[0].EndsWith("postgres", StringComparison.Ordinal)) continue;
                var p = Array.IndexOf(args, "-p");
                if (p >= 0 && p + 1 < args.Length && args[p + 1] == port.ToString(CultureInfo.InvariantCulture)) return pid;
                if (args.Any(a => a.Contains($"-p {port} ", StringComparison.Ordinal) || a.EndsWith($"-p {port}", StringComparison.Ordinal))) return pid;
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return null;
    }
}
