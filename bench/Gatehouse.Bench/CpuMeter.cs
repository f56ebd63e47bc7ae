using System.Globalization;

namespace Gatehouse.Bench;

/// <summary>
/// CPU time of the server side from /proc: the gatehouse process and, with PostgreSQL, the cluster serving the
/// benchmark's database (found by the DSN's port): its postmaster and auxiliary processes (checkpointer, WAL writer, …),
/// and the backends and autovacuum workers of that database only. Other databases' backends are left out, so that other
/// users of a shared cluster (test suites creating and dropping their own databases) do not count.
/// </summary>
internal sealed class CpuMeter(int gatehousePid, string? postgresDsn)
{
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    private readonly int? _postgresPort = postgresDsn is null ? null : new Uri(postgresDsn).Port;
    private readonly string? _database = postgresDsn is null ? null : Uri.UnescapeDataString(new Uri(postgresDsn).AbsolutePath.TrimStart('/'));

    public (TimeSpan Gatehouse, TimeSpan Database) Read()
    {
        var gatehouse = Ticks(gatehousePid);
        long database = 0;
        if (_postgresPort is { } port && FindPostmaster(port) is { } postmaster)
        {
            database = Ticks(postmaster);
            foreach (var pid in Pids())
            {
                if (ParentOf(pid) == postmaster && Serves(pid, _database!)) database += Ticks(pid);
            }
        }
        return (TimeSpan.FromSeconds(gatehouse / TicksPerSecond), TimeSpan.FromSeconds(database / TicksPerSecond));
    }

    /// <summary>
    /// PostgreSQL titles its children: "postgres: USER DATABASE HOST(PORT) STATE" for a client backend,
    /// "postgres: autovacuum worker DATABASE", "postgres: checkpointer" and the like for the rest.
    /// </summary>
    private static bool Serves(int pid, string database)
    {
        string title;
        try
        {
            title = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
        const string prefix = "postgres: ";
        if (!title.StartsWith(prefix, StringComparison.Ordinal)) return true;
        var words = title[prefix.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words is ["autovacuum", "worker", var vacuumed, ..]) return vacuumed == database;
        if (words.Length >= 3 && (words[2].Contains('(', StringComparison.Ordinal) || words[2] == "[local]")) return words[1] == database;
        return true;
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
