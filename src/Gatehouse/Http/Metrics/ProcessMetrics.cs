using Prometheus;

namespace Gatehouse.Http.Metrics;

/// <summary>
/// The process metrics every Prometheus client publishes under these names on Linux, and Kratos's (the Go client's
/// process collector) among them, that the library's <see cref="DotNetStats"/> names otherwise or leaves out:
/// <c>process_resident_memory_bytes</c>, <c>process_open_fds</c> and <c>process_max_fds</c>. Read from <c>/proc</c> at
/// each scrape; on a system without it they are not published.
/// </summary>
internal static class ProcessMetrics
{
    public static void Register(CollectorRegistry registry)
    {
        if (!Directory.Exists("/proc/self/fd")) return;
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        var resident = factory.CreateGauge("process_resident_memory_bytes", "Resident memory size in bytes.");
        var openFds = factory.CreateGauge("process_open_fds", "Number of open file descriptors.");
        var maxFds = factory.CreateGauge("process_max_fds", "Maximum number of open file descriptors.");
        registry.AddBeforeCollectCallback(() =>
        {
            resident.Set(Environment.WorkingSet);
            try
            {
                openFds.Set(Directory.EnumerateFileSystemEntries("/proc/self/fd").Count());
                if (MaxOpenFiles() is { } max) maxFds.Set(max);
            }
            catch (IOException)
            {
                // /proc went away under us (a container being torn down): keep the last values.
            }
            catch (UnauthorizedAccessException)
            {
            }
        });
    }

    /// <summary>The soft limit on open files: the "Max open files" line of <c>/proc/self/limits</c>.</summary>
    private static double? MaxOpenFiles()
    {
        foreach (var line in File.ReadLines("/proc/self/limits"))
        {
            if (!line.StartsWith("Max open files", StringComparison.Ordinal)) continue;
            var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return fields.Length > 0 && double.TryParse(fields[0], System.Globalization.CultureInfo.InvariantCulture, out var soft) ? soft : null;
        }
        return null;
    }
}
