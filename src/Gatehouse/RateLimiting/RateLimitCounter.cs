namespace Gatehouse.RateLimiting;

/// <summary>
/// One counter of <c>rate_limit_counters</c>: events of one kind for one subject (an identifier, a client address, a
/// recipient) in the current window. The key holds a keyed hash of the subject, never the subject itself. Rows whose
/// <see cref="ExpiresAt"/> has passed are dead (the next event starts a new window) and may be deleted at any time.
/// </summary>
public sealed class RateLimitCounter
{
    public Guid Nid { get; set; }

    /// <summary><c>&lt;limit name&gt;:&lt;hash of the subject&gt;</c>.</summary>
    public string Key { get; set; } = "";
    public int Count { get; set; }
    public DateTime WindowStart { get; set; }

    /// <summary>When the last event was counted (progressive delays wait from here).</summary>
    public DateTime LastAt { get; set; }

    /// <summary>The end of the window.</summary>
    public DateTime ExpiresAt { get; set; }
}
