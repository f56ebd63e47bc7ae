namespace Gatehouse.Courier;

/// <summary>Runs the <see cref="CourierWorker"/> inside a host (<c>serve --watch-courier</c>, <c>courier watch</c>).</summary>
public sealed class CourierWorkerService(CourierWorker worker) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => worker.RunAsync(stoppingToken);
}
