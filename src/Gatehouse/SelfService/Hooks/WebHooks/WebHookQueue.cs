using System.Threading.Channels;
using Gatehouse.Http.Outbound;

namespace Gatehouse.SelfService.Hooks.WebHooks;

/// <summary>A web hook call with <c>response.ignore</c>, waiting to be sent off the request path.</summary>
public sealed record WebHookDelivery(WebHookConfig Config, string? Body, string RequestId, string TriggerId);

/// <summary>
/// The queue of ignored (fire-and-forget) web hook calls. Bounded: when it is full a call is dropped and logged
/// rather than letting a dead receiver pile up memory.
/// </summary>
public sealed partial class WebHookQueue(ILogger<WebHookQueue> logger)
{
    public const int Capacity = 10_000;

    private readonly Channel<WebHookDelivery> _channel = Channel.CreateBounded<WebHookDelivery>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });

    public ChannelReader<WebHookDelivery> Reader => _channel.Reader;

    public void Enqueue(WebHookDelivery delivery)
    {
        if (!_channel.Writer.TryWrite(delivery)) LogDropped(logger, delivery.Config.Url, delivery.RequestId, Capacity);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "web_hook {Url} (request {RequestId}) dropped: {Capacity} ignored calls are already waiting")]
    private static partial void LogDropped(ILogger logger, LoggedUrl url, string requestId, int capacity);
}

/// <summary>
/// Sends queued ignored web hook calls, several at a time, each with up to <c>retries</c> further attempts
/// (exponential back-off from 250 ms) on a network failure, a time-out, 429 or 5xx.
/// </summary>
public sealed partial class WebHookDispatcher(WebHookQueue queue, WebHookSender sender, ILogger<WebHookDispatcher> logger) : BackgroundService
{
    private const int MaxConcurrent = 16;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var slots = new SemaphoreSlim(MaxConcurrent);
        var running = new List<Task>();
        try
        {
            await foreach (var delivery in queue.Reader.ReadAllAsync(stoppingToken))
            {
                await slots.WaitAsync(stoppingToken);
                running.RemoveAll(t => t.IsCompleted);
                running.Add(Task.Run(async () =>
                {
                    try
                    {
                        await DeliverAsync(delivery, stoppingToken);
                    }
                    finally
                    {
                        slots.Release();
                    }
                }, CancellationToken.None));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: calls still queued are not sent (they were fire-and-forget).
        }
        await Task.WhenAll(running);
    }

    /// <summary>Sends one ignored call with its retries; never throws.</summary>
    public async Task DeliverAsync(WebHookDelivery delivery, CancellationToken ct)
    {
        var attempts = 1 + delivery.Config.Retries;
        for (var attempt = 1; attempt <= attempts; attempt++)
        {
            string failure;
            try
            {
                var answer = await sender.SendAsync(delivery.Config, delivery.Body, delivery.RequestId, delivery.TriggerId, ct);
                if (answer.Status < 400) return;
                failure = $"status code {answer.Status}";
                if (answer.Status != 429 && answer.Status < 500)
                {
                    LogGaveUp(logger, delivery.Config.Url, delivery.RequestId, attempt, failure);
                    return;
                }
            }
            catch (WebHookCallFailed e)
            {
                failure = e.Message;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // Fire-and-forget: an unexpected failure must be logged, never lost in an unobserved task.
            catch (Exception e)
#pragma warning restore CA1031
            {
                // Only the type: an unexpected exception's message may quote the request it was building.
                LogFailed(logger, delivery.Config.Url, delivery.RequestId, attempt, e.GetType().FullName ?? e.GetType().Name);
                return;
            }
            if (attempt == attempts)
            {
                LogGaveUp(logger, delivery.Config.Url, delivery.RequestId, attempt, failure);
                return;
            }
            LogRetrying(logger, delivery.Config.Url, delivery.RequestId, attempt, failure);
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250 * Math.Pow(2, attempt - 1)), ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "ignored web_hook {Url} (request {RequestId}) attempt {Attempt} failed ({Failure}); retrying")]
    private static partial void LogRetrying(ILogger logger, LoggedUrl url, string requestId, int attempt, string failure);

    [LoggerMessage(Level = LogLevel.Warning, Message = "ignored web_hook {Url} (request {RequestId}) attempt {Attempt} failed unexpectedly ({Exception}); not retried")]
    private static partial void LogFailed(ILogger logger, LoggedUrl url, string requestId, int attempt, string exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "ignored web_hook {Url} (request {RequestId}) given up after {Attempt} attempt(s): {Failure}")]
    private static partial void LogGaveUp(ILogger logger, LoggedUrl url, string requestId, int attempt, string failure);
}
