namespace Gatehouse.Http;

/// <summary>
/// UUIDv7 keys that grow strictly within this process (RFC 9562 §6.2, method 3: the timestamp is moved on by a millisecond
/// when it would repeat). <see cref="Guid.CreateVersion7()"/> orders keys only to the millisecond — two made in the same
/// millisecond compare at random — so a store that keeps "the newest N rows" by key needs these.
/// </summary>
public static class MonotonicUuid
{
    private static long _lastMs;

    public static Guid Next()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        long last, next;
        do
        {
            last = Volatile.Read(ref _lastMs);
            next = Math.Max(now, last + 1);
        }
        while (Interlocked.CompareExchange(ref _lastMs, next, last) != last);
        return Guid.CreateVersion7(DateTimeOffset.FromUnixTimeMilliseconds(next));
    }
}
