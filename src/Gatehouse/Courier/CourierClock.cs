namespace Gatehouse.Courier;

internal static class CourierClock
{
    /// <summary>The current UTC time at PostgreSQL's precision (microseconds), so stored and returned values agree.</summary>
    public static DateTime Now(TimeProvider time)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return new DateTime(now.Ticks - (now.Ticks % 10), DateTimeKind.Utc);
    }
}
