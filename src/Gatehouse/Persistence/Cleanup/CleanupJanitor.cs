using Gatehouse.Config;

namespace Gatehouse.Persistence.Cleanup;

/// <summary>
/// <c>database.cleanup.janitor</c>: runs the cleanup inside <c>serve</c> every interval. Safe with several replicas on
/// one database — each delete is by primary key of rows that are already expired, so overlapping runs only find less.
/// A failed run (e.g. the database is down) logs one warning and waits for the next interval.
/// </summary>
public sealed class CleanupJanitor(DatabaseCleanup cleanup, GatehouseOptions options, TimeProvider time, ILogger<CleanupJanitor> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Database.Cleanup;
        using var timer = new PeriodicTimer(settings.Janitor.Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var result = await cleanup.RunAsync(settings.Janitor.KeepLast, settings.BatchSize, settings.Sleep.Tables, null, stoppingToken);
                if (result.Total > 0) logger.LogInformation("Cleanup janitor deleted {Count} expired rows", result.Total);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Cleanup janitor run failed, retrying in {Interval}: {Message}", settings.Janitor.Interval, ex.Message);
            }
        }
    }
}
