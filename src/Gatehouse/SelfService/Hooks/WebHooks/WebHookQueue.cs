using System.Threading.Channels;
using Gatehouse.Http.Outbound;

namespace Gatehouse.SelfService.Hooks.WebHooks;

/// <summary>A web hook call with <c>response.ignore</c>, waiting to be sent off the request path.</summary>
/// <param name="Trace">With tracing on: the hook's span, the parent of the delivery's <c>selfservice.webhook</c> span.</param>
public sealed record WebHookDelivery(WebHookConfig Config, string? Body, string RequestId, string TriggerId, WebHookTrace? Trace = null);

/// <summary>Where an ignored web hook's delivery span goes, and the identity it names.</summary>
public sealed record WebHookTrace(System.Diagnostics.ActivityContext Parent, Guid? IdentityId, Guid? IdentityNid);

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
        using var span = delivery.Trace is { } trace ? WebHookTracing.StartRequest(delivery.Config, trace.Parent, trace.IdentityId, trace.IdentityNid) : null;
        var failure = await DeliverWithRetriesAsync(delivery, span, ct);
        if (failure is not null && span is { IsAllDataRequested: true }) span.SetStatus(System.Diagnostics.ActivityStatusCode.Error, failure);
    }

    /// <summary>The attempts of one ignored call; the last failure, or null when it was delivered (or given up on shutdown).</summary>
    private async Task<string?> DeliverWithRetriesAsync(WebHookDelivery delivery, System.Diagnostics.Activity? span, CancellationToken ct)
    {
        var attempts = 1 + delivery.Config.Retries;
        for (var attempt = 1; attempt <= attempts; attempt++)
        {
            string failure;
            try
            {
                var answer = await sender.SendAsync(delivery.Config, delivery.Body, delivery.RequestId, delivery.TriggerId, ct);
                WebHookTracing.Answered(span, answer.Status);
                if (answer.Status < 400) return null;
                failure = $"status code {answer.Status}";
                if (answer.Status != 429 && answer.Status < 500)
                {
                    LogGaveUp(logger, delivery.Config.Url, delivery.RequestId, attempt, failure);
                    return failure;
                }
            }
            catch (WebHookCallFailed e)
            {
                failure = e.Message;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return null;
            }
#pragma warning disable CA1031 // Fire-and-forget: an unexpected failure must be logged, never lost in an unobserved task.
            catch (Exception e)
#pragma warning restore CA1031
            {
                // Only the type: an unexpected exception's message may quote the request it was building.
                LogFailed(logger, delivery.Config.Url, delivery.RequestId, attempt, e.GetType().FullName ?? e.GetType().Name);
                return e.GetType().FullName ?? e.GetType().Name;
            }
            if (attempt == attempts)
            {
                LogGaveUp(logger, delivery.Config.Url, delivery.RequestId, attempt, failure);
                return failure;
            }
            LogRetrying(logger, delivery.Config.Url, delivery.RequestId, attempt, failure);
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250 * Math.Pow(2, attempt - 1)), ct);
            }
            catch (OperationCanceledException)
            {
                return null;
            }
        }
        return null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "ignored web_hook {Url} (request {RequestId}) attempt {Attempt} failed ({Failure}); retrying")]
    private static partial void LogRetrying(ILogger logger, LoggedUrl url, string requestId, int attempt, string failure);

    [LoggerMessage(Level = LogLevel.Warning, Message = "ignored web_hook {Url} (request {RequestId}) attempt {Attempt} failed unexpectedly ({Exception}); not retried")]
    private static partial void LogFailed(ILogger logger, LoggedUrl url, string requestId, int attempt, string exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "ignored web_hook {Url} (request {RequestId}) given up after {Attempt} attempt(s): {Failure}")]
    private static partial void LogGaveUp(ILogger logger, LoggedUrl url, string requestId, int attempt, string failure);
}
