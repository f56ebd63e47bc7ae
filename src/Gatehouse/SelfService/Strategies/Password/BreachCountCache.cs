namespace Gatehouse.SelfService.Strategies.Password;

/// <summary>
/// Have I Been Pwned breach counts by password SHA-1, bounded in size and time: at most <c>capacity</c> entries (the
/// oldest is dropped first) and each for <c>lifetime</c>, so neither many distinct passwords nor a long uptime grows
/// memory and a password that becomes breached is noticed.
/// </summary>
public sealed class BreachCountCache(int capacity, TimeSpan lifetime, TimeProvider time)
{
    private readonly Dictionary<string, (long Count, DateTimeOffset Expires)> _entries = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();
    private readonly Lock _lock = new();

    public int Count
    {
        get
        {
            lock (_lock) return _entries.Count;
        }
    }

    public bool TryGet(string hash, out long count)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(hash, out var entry) && entry.Expires > time.GetUtcNow())
            {
                count = entry.Count;
                return true;
            }
        }
        count = 0;
        return false;
    }

    public void Set(string hash, long count)
    {
        lock (_lock)
        {
            // The queue holds each key once, in insertion order (a refreshed entry keeps its place: dropped early at worst).
            if (!_entries.ContainsKey(hash)) _order.Enqueue(hash);
            _entries[hash] = (count, time.GetUtcNow() + lifetime);
            while (_entries.Count > capacity && _order.TryDequeue(out var oldest)) _entries.Remove(oldest);
        }
    }
}
