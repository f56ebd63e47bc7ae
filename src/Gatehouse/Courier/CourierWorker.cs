using System.Diagnostics;
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
public sealed partial class CourierWorker
{
    private readonly IServiceScopeFactory _scopes;
    private readonly GatehouseOptions _options;
    private readonly IMessageSender _sender;
    private readonly HttpChannel? _channels;
    private readonly TimeProvider _time;
    private readonly ILogger<CourierWorker> _logger;

    /// <summary>A worker for e-mail only (no <c>courier.channels</c>).</summary>
    public CourierWorker(IServiceScopeFactory scopes, GatehouseOptions options, IMessageSender sender, TimeProvider time, ILogger<CourierWorker> logger)
        : this(scopes, options, sender, null, time, logger)
    {
    }

    /// <summary>A worker sending e-mail through <paramref name="sender"/> and other channels (sms) through <paramref name="channels"/>.</summary>
    [ActivatorUtilitiesConstructor]
    public CourierWorker(IServiceScopeFactory scopes, GatehouseOptions options, IMessageSender sender, HttpChannel? channels, TimeProvider time, ILogger<CourierWorker> logger)
    {
        _scopes = scopes;
        _options = options;
        _sender = sender;
        _channels = channels;
        _time = time;
        _logger = logger;
    }

    /// <summary>The claim owner written to <c>ClaimedBy</c>: host, process and a random part, unique per worker instance.</summary>
    public string Id { get; } = $"{Truncate(Environment.MachineName, 60)}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    /// <summary>How long a claim holds: enough for every message of a batch to time out once, plus a minute.</summary>
    public TimeSpan Lease => TimeSpan.FromSeconds(60 + (30 * Math.Max(1, _options.Courier.Worker.PullCount)));

    /// <summary>Runs until <paramref name="ct"/> is cancelled, polling every <c>pull_wait</c> while the queue has nothing due.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        LogStarted(_logger, Id);
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
                LogPollFailed(_logger, ex.GetType().Name, ex.Message);
            }
            if (processed >= _options.Courier.Worker.PullCount) continue;
            try
            {
                await Task.Delay(_options.Courier.Worker.PullWait, _time, ct);
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
        using var span = CourierTracing.Source.StartActivity(CourierTracing.DispatchQueue);
        List<CourierMessage> batch;
        await using (var scope = _scopes.CreateAsyncScope())
        {
            var queue = scope.ServiceProvider.GetRequiredService<CourierQueue>();
            batch = await queue.ClaimAsync(Id, Math.Max(1, _options.Courier.Worker.PullCount), CourierClock.Now(_time), Lease, ct);
        }
        if (span is not null)
        {
            if (batch.Count == 0) CourierTracing.Discard(span);
            else span.SetTag("messages_count", batch.Count);
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
                await using var scope = _scopes.CreateAsyncScope();
                var rest = batch.Skip(i).Select(m => m.Id).ToList();
                await scope.ServiceProvider.GetRequiredService<CourierQueue>().ReleaseAsync(rest, Id, CourierClock.Now(_time), CancellationToken.None);
                throw;
            }
        }
        return batch.Count;
    }

    private async Task DeliverAsync(CourierMessage message, CancellationToken ct)
    {
        using var span = CourierTracing.Source.StartActivity(CourierTracing.DispatchMessage);
        span?.SetTag("message.id", message.Id.ToString());
        span?.SetTag("message.type", message.Channel);
        span?.SetTag("message.template_type", message.TemplateType);
        span?.SetTag("message.send_count", message.SendCount);
        string? error = null;
        try
        {
            // The HTTP channels (sms; email with courier.delivery_strategy http); other e-mail through SMTP (or the dev mailbox).
            if (_channels is not null && _channels.Has(message.Channel)) await _channels.SendAsync(message, ct);
            else if (message.Channel == "email") await _sender.SendAsync(message, ct);
            else throw new InvalidOperationException($"no courier channel \"{message.Channel}\" is configured (courier.channels)");
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            error = Describe(ex);
            span?.SetStatus(ActivityStatusCode.Error, error);
        }

        var now = CourierClock.Now(_time);
        var attempts = message.SendCount + 1;
        string status;
        var next = message.NextAttemptAt;
        if (error is null) status = CourierMessageStatus.Sent;
        else if (attempts > _options.Courier.MessageRetries) status = CourierMessageStatus.Abandoned;
        else
        {
            status = CourierMessageStatus.Queued;
            next = now + Backoff(attempts);
        }

        await using var scope = _scopes.CreateAsyncScope();
        var recorded = await scope.ServiceProvider.GetRequiredService<CourierQueue>().RecordAttemptAsync(message, Id, status, next, error, now, CancellationToken.None);
        if (!recorded) LogClaimLost(_logger, message.Id);
        else if (status == CourierMessageStatus.Sent) LogSent(_logger, message.Id, message.TemplateType, attempts);
        else if (status == CourierMessageStatus.Abandoned) LogAbandoned(_logger, message.Id, message.TemplateType, attempts, error!);
        else LogRetry(_logger, message.Id, message.TemplateType, attempts, error!, next);
    }

    /// <summary><c>retry_backoff</c> · 2^(attempts−1), capped at <c>retry_backoff_max</c>.</summary>
    public TimeSpan Backoff(int attempts)
    {
        var initial = _options.Courier.Worker.RetryBackoff;
        var max = _options.Courier.Worker.RetryBackoffMax;
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
