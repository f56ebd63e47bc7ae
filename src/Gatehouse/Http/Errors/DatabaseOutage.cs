namespace Gatehouse.Http.Errors;

/// <summary>
/// Keeps the log of a database outage to one warning line: the first failing request of an outage logs it, the
/// following ones (every request fails while the database is down) only at debug level. An outage is over when no
/// request has failed for <see cref="QuietPeriod"/>; the next failure after that logs a new warning.
/// </summary>
public sealed class DatabaseOutage(TimeProvider time)
{
    /// <summary>What clients are told to wait (<c>Retry-After</c>, seconds): about as long as a database restart takes.</summary>
    public const int RetryAfterSeconds = 5;

    public static readonly TimeSpan QuietPeriod = TimeSpan.FromMinutes(1);

    /// <summary>The answer to a request that needed the unavailable database: 503 in the envelope, with <c>Retry-After</c>.</summary>
    public static GatehouseError Error() =>
        new(503, "The database is temporarily unavailable. Please try again later.") { RetryAfter = TimeSpan.FromSeconds(RetryAfterSeconds) };

    private long _lastFailureTicks = long.MinValue;

    /// <summary>Records a failure; true when it starts a new outage (so the caller logs the warning).</summary>
    public bool RecordFailure()
    {
        var now = time.GetUtcNow().UtcTicks;
        var last = Interlocked.Exchange(ref _lastFailureTicks, now);
        return last == long.MinValue || now - last >= QuietPeriod.Ticks;
    }
}
