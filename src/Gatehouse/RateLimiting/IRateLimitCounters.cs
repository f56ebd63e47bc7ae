namespace Gatehouse.RateLimiting;

/// <summary>The outcome of counting an event: allowed (and counted), or refused until <see cref="RetryAfter"/> has passed.</summary>
public readonly record struct RateLimitDecision(bool Allowed, int Count, TimeSpan RetryAfter)
{
    public static RateLimitDecision Allow(int count) => new(true, count, TimeSpan.Zero);
    public static RateLimitDecision Refuse(TimeSpan retryAfter) => new(false, 0, retryAfter);
}

/// <summary>
/// Rate-limit counters in the database, shared by every process on it. Each operation is atomic on its own (a
/// compare-and-swap on the row), so concurrent requests, in one process or many, never count past a limit.
/// </summary>
public interface IRateLimitCounters
{
    /// <summary>
    /// Counts one event under <paramref name="key"/> unless the counter is over <paramref name="limit"/>: then nothing is
    /// counted and the decision says how long to wait.
    /// </summary>
    Task<RateLimitDecision> TryCountAsync(string key, int limit, TimeSpan window, TimeSpan progressiveDelay, CancellationToken ct);

    /// <summary>Whether an event under <paramref name="key"/> would be refused now, without counting one.</summary>
    Task<RateLimitDecision> PeekAsync(string key, int limit, TimeSpan window, TimeSpan progressiveDelay, CancellationToken ct);

    /// <summary>Takes one counted event back (a login that turned out to succeed).</summary>
    Task UncountAsync(string key, CancellationToken ct);

    /// <summary>Forgets the counter (a successful login clears the identifier's failures).</summary>
    Task ResetAsync(string key, CancellationToken ct);
}
