using Gatehouse.Config;

namespace Gatehouse.Persistence.Cleanup;

/// <summary>
/// <c>database.cleanup.janitor</c>: runs the cleanup inside <c>serve</c> every interval. Safe with several replicas on
/// one database — each delete is by primary key of rows that are already expired, so overlapping runs only find less.
/// A failed run (e.g. the database is down) logs one warning and waits for the next interval.
/// </summary>
public sealed class CleanupJanitor(DatabaseCleanup cleanup, GatehouseOptions options, TimeProvider time, ILogger<CleanupJanitor> logger) : BackgroundService
{
    // Started with the host (not when ExecuteAsync gets to run on its background task), so the first interval counts
    // from start-up on the host's clock whatever the scheduling.
    private PeriodicTimer? _timer;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _timer = new PeriodicTimer(options.Database.Cleanup.Janitor.Interval, time);
        return base.StartAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _timer?.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Database.Cleanup;
        var timer = _timer ?? throw new InvalidOperationException("The janitor was not started.");
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
