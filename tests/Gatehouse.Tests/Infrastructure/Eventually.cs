namespace Gatehouse.Tests.Infrastructure;

/// <summary>
/// Waits for something that happens outside the test's control flow (a PostgreSQL notification, a background worker,
/// a server process closing its connections) by polling a condition until a deadline. It never stands in for time
/// passing: tests that need time to pass advance a fake <see cref="TimeProvider"/>.
/// </summary>
public static class Eventually
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);

    /// <summary>Whether <paramref name="condition"/> became true within <paramref name="within"/>.</summary>
    public static async Task<bool> HoldsAsync(Func<Task<bool>> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (!await condition())
        {
            if (DateTime.UtcNow >= deadline) return false;
            await Task.Delay(Poll);
        }
        return true;
    }

    public static Task<bool> HoldsAsync(Func<bool> condition, TimeSpan within) => HoldsAsync(() => Task.FromResult(condition()), within);

    /// <summary>Fails the test with <paramref name="failure"/> unless <paramref name="condition"/> becomes true in time.</summary>
    public static async Task AssertAsync(Func<Task<bool>> condition, TimeSpan within, string failure) =>
        Assert.True(await HoldsAsync(condition, within), failure);

    public static Task AssertAsync(Func<bool> condition, TimeSpan within, string failure) =>
        AssertAsync(() => Task.FromResult(condition()), within, failure);
}
