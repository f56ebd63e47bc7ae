using System.Collections.Concurrent;

namespace Gatehouse.RateLimiting;

/// <summary>
/// Remembers, in this process, until when the database refused a key, so that a flood against one account or from one
/// address is refused without a database read. It only ever refuses what the shared counter refused, until the time
/// the counter itself gave; allowing is always decided by the database. Bounded: when full it is cleared.
/// </summary>
public sealed class RefusalCache(TimeProvider time)
{
    private const int MaxEntries = 10_000;
    private readonly ConcurrentDictionary<string, DateTime> _until = new(StringComparer.Ordinal);

    /// <summary>Whether nothing is remembered (the usual case: then no key needs computing).</summary>
    public bool IsEmpty => _until.IsEmpty;

    /// <summary>How long <paramref name="key"/> is still refused, or null when the database must decide.</summary>
    public TimeSpan? Refused(string key)
    {
        if (!_until.TryGetValue(key, out var until)) return null;
        var left = until - time.GetUtcNow().UtcDateTime;
        if (left > TimeSpan.Zero) return left;
        _until.TryRemove(new KeyValuePair<string, DateTime>(key, until));
        return null;
    }

    public void Remember(string key, TimeSpan retryAfter)
    {
        if (_until.Count >= MaxEntries) _until.Clear();
        _until[key] = time.GetUtcNow().UtcDateTime + retryAfter;
    }

    /// <summary>The counter was reset or lowered here: refusals remembered for it no longer hold.</summary>
    public void Forget(string key) => _until.TryRemove(key, out _);
}
