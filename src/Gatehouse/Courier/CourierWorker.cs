using Gatehouse.Config;
using MailKit;
using MailKit.Net.Smtp;

namespace Gatehouse.Courier;

/// <summary>
/// Delivers queued messages: claims a batch (<c>courier.worker.pull_count</c>), sends each through the
/// <see cref="IMessageSender"/>, records a dispatch per attempt. A failure puts the message back to <c>queued</c>
/// with an exponential back-off (<c>retry_backoff</c> · 2^(attempts−1), at most <c>retry_backoff_max</c>); after
/// <c>courier.message_retries</c> retries it is <c>abandoned</c>. Logs never contain bodies, subjects or codes.
/// </summary>
public sealed partial class CourierWorker(IServiceScopeFactory scopes, GatehouseOptions options, IMessageSender sender, TimeProvider time, ILogger<CourierWorker> logger)
{
    /// <summary>The claim owner written to <c>ClaimedBy</c>: host, process and a random part, unique per worker instance.</summary>
    public string Id { get; } = $"{Truncate(Environment.MachineName, 60)}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    /// <summary>How long a claim holds: enough for every message of a batch to time out once, plus a minute.</summary>
    public TimeSpan Lease => TimeSpan.FromSeconds(60 + (30 * Math.Max(1, options.Courier.Worker.PullCount)));

    /// <summary>Runs until <paramref name="ct"/> is cancelled, polling every <c>pull_wait</c> while the queue has nothing due.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        LogStarted(logger, Id);
        while (!ct.IsCancellationRequested)
        {
            var processed = 0;
            try
            {
                processed = await ProcessBatchAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                LogPollFailed(logger, ex.GetType().Name, ex.Message);
            }
            if (processed >= options.Courier.Worker.PullCount) continue;
            try
            {
                await Task.Delay(options.Courier.Worker.PullWait, time, ct);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>Claims one batch and tries each message once; returns how many messages were claimed.</summary>
    public async Task<int> ProcessBatchAsync(CancellationToken ct)
    {
        List<CourierMessage> batch;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var queue = scope.ServiceProvider.GetRequiredService<CourierQueue>();
            batch = await queue.ClaimAsync(Id, Math.Max(1, options.Courier.Worker.PullCount), CourierClock.Now(time), Lease, ct);
        }
        for (var i = 0; i < batch.Count; i++)
        {
            try
            {
                await DeliverAsync(batch[i], ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Shutting down: hand the rest of the batch back instead of letting the claims lapse.
                await using var scope = scopes.CreateAsyncScope();
                var rest = batch.Skip(i).Select(m => m.Id).ToList();
                await scope.ServiceProvider.GetRequiredService<CourierQueue>().ReleaseAsync(rest, Id, CourierClock.Now(time), CancellationToken.None);
                throw;
            }
        }
        return batch.Count;
    }

    private async Task DeliverAsync(CourierMessage message, CancellationToken ct)
    {
        string? error = null;
        try
        {
            await sender.SendAsync(message, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            error = Describe(ex);
        }

        var now = CourierClock.Now(time);
        var attempts = message.SendCount + 1;
        string status;
        var next = message.NextAttemptAt;
        if (error is null) status = CourierMessageStatus.Sent;
        else if (attempts > options.Courier.MessageRetries) status = CourierMessageStatus.Abandoned;
        else
        {
            status = CourierMessageStatus.Queued;
            next = now + Backoff(attempts);
        }

        await using var scope = scopes.CreateAsyncScope();
        var recorded = await scope.ServiceProvider.GetRequiredService<CourierQueue>().RecordAttemptAsync(message, Id, status, next, error, now, CancellationToken.None);
        if (!recorded) LogClaimLost(logger, message.Id);
        else if (status == CourierMessageStatus.Sent) LogSent(logger, message.Id, message.TemplateType, attempts);
        else if (status == CourierMessageStatus.Abandoned) LogAbandoned(logger, message.Id, message.TemplateType, attempts, error!);
        else LogRetry(logger, message.Id, message.TemplateType, attempts, error!, next);
    }

    /// <summary><c>retry_backoff</c> · 2^(attempts−1), capped at <c>retry_backoff_max</c>.</summary>
    public TimeSpan Backoff(int attempts)
    {
        var initial = options.Courier.Worker.RetryBackoff;
        var max = options.Courier.Worker.RetryBackoffMax;
        var factor = Math.Pow(2, Math.Clamp(attempts - 1, 0, 30));
        var ticks = initial.Ticks * factor;
        return ticks >= max.Ticks ? max : TimeSpan.FromTicks((long)ticks);
    }

    // Exception messages of the network and SMTP layers name hosts and status codes, never message content.
    private static string Describe(Exception ex) => ex switch
    {
        SmtpCommandException smtp => $"SMTP {(int)smtp.StatusCode} {smtp.ErrorCode}: {smtp.Message}",
        SmtpProtocolException or ServiceNotConnectedException or ServiceNotAuthenticatedException => $"SMTP: {ex.Message}",
        _ => $"{ex.GetType().Name}: {ex.Message}",
    };

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];

    [LoggerMessage(Level = LogLevel.Information, Message = "courier worker {WorkerId} started")]
    private static partial void LogStarted(ILogger logger, string workerId);

    [LoggerMessage(Level = LogLevel.Error, Message = "courier worker could not poll the queue: {ErrorType}: {Error}")]
    private static partial void LogPollFailed(ILogger logger, string errorType, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "courier message {MessageId} ({TemplateType}) sent on attempt {Attempt}")]
    private static partial void LogSent(ILogger logger, Guid messageId, string templateType, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "courier message {MessageId} ({TemplateType}) failed on attempt {Attempt}: {Error}; next attempt at {NextAttemptAt:O}")]
    private static partial void LogRetry(ILogger logger, Guid messageId, string templateType, int attempt, string error, DateTime nextAttemptAt);

    [LoggerMessage(Level = LogLevel.Error, Message = "courier message {MessageId} ({TemplateType}) abandoned after {Attempt} attempts: {Error}")]
    private static partial void LogAbandoned(ILogger logger, Guid messageId, string templateType, int attempt, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "courier message {MessageId}: the claim lapsed and another worker took it over; this attempt is not recorded")]
    private static partial void LogClaimLost(ILogger logger, Guid messageId);
}
