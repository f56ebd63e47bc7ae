namespace Gatehouse.RateLimiting;

/// <summary>The rule every counter follows, written once for every store.</summary>
public static class RateLimitWindow
{
    /// <summary>
    /// Until when a live counter (its window has not ended) refuses further events; null when it allows them. Below the
    /// limit: allowed. At or over it: refused until the window ends (lockout) or, with a progressive delay, until
    /// <c>delay × 2^(count − limit)</c> after the last event — never beyond the window's end.
    /// </summary>
    public static DateTime? BlockedUntil(int count, DateTime lastAt, DateTime expiresAt, int limit, TimeSpan progressiveDelay)
    {
        if (count < limit) return null;
        if (progressiveDelay <= TimeSpan.Zero) return expiresAt;
        var doublings = Math.Min(count - limit, 30);
        var delayTicks = Math.Min(progressiveDelay.Ticks * (1L << doublings), (expiresAt - lastAt).Ticks);
        return lastAt.AddTicks(Math.Max(delayTicks, 0));
    }

    /// <summary>Whole seconds to announce in <c>Retry-After</c> (at least 1, rounded up).</summary>
    public static int Seconds(TimeSpan wait) => (int)Math.Clamp(Math.Ceiling(wait.TotalSeconds), 1, int.MaxValue);
}
