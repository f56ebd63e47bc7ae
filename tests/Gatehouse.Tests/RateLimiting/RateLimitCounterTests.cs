using Gatehouse.RateLimiting;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.RateLimiting;

/// <summary>The database counters behind every limit, on each provider: windows, lockout, progressive delay, races.</summary>
public sealed class RateLimitCounterTests
{
    private static async Task<(TestServer Server, FakeTimeProvider Clock)> StartAsync(string db)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero));
        var server = await TestServer.StartAsync(db, configureServices: s => s.AddSingleton<TimeProvider>(clock));
        return (server, clock);
    }

    private static async Task<RateLimitDecision> Count(TestServer s, string key, int limit, TimeSpan window, TimeSpan delay = default)
    {
        await using var scope = s.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IRateLimitCounters>().TryCountAsync(key, limit, window, delay, CancellationToken.None);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Over_the_limit_an_event_is_refused_until_the_window_ends_then_a_new_window_starts(string db)
    {
        var (s, clock) = await StartAsync(db);
        await using var _ = s;
        var window = TimeSpan.FromMinutes(10);
        for (var i = 1; i <= 3; i++) Assert.Equal(new RateLimitDecision(true, i, TimeSpan.Zero), await Count(s, "t:lockout", 3, window));

        clock.Advance(TimeSpan.FromMinutes(4));
        var refused = await Count(s, "t:lockout", 3, window);
        Assert.False(refused.Allowed);
        Assert.Equal(TimeSpan.FromMinutes(6), refused.RetryAfter);
        Assert.True((await Count(s, "t:other", 3, window)).Allowed); // another subject has its own counter

        clock.Advance(TimeSpan.FromMinutes(6));
        Assert.Equal(new RateLimitDecision(true, 1, TimeSpan.Zero), await Count(s, "t:lockout", 3, window));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_progressive_delay_doubles_after_each_event_over_the_limit(string db)
    {
        var (s, clock) = await StartAsync(db);
        await using var _ = s;
        var window = TimeSpan.FromHours(1);
        var delay = TimeSpan.FromSeconds(1);
        Assert.True((await Count(s, "t:progressive", 2, window, delay)).Allowed);
        Assert.True((await Count(s, "t:progressive", 2, window, delay)).Allowed);
        foreach (var expected in new[] { 1, 2, 4, 8 })
        {
            var refused = await Count(s, "t:progressive", 2, window, delay);
            Assert.False(refused.Allowed);
            Assert.Equal(TimeSpan.FromSeconds(expected), refused.RetryAfter);
            clock.Advance(TimeSpan.FromSeconds(expected));
            Assert.True((await Count(s, "t:progressive", 2, window, delay)).Allowed);
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Concurrent_events_never_pass_the_limit(string db)
    {
        var (s, _) = await StartAsync(db);
        await using var server = s;
        var decisions = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => Task.Run(() => Count(s, "t:race", 7, TimeSpan.FromHours(1)))));
        Assert.Equal(7, decisions.Count(d => d.Allowed));
        Assert.Equal(Enumerable.Range(1, 7), decisions.Where(d => d.Allowed).Select(d => d.Count).Order());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Uncount_and_reset_give_events_back(string db)
    {
        var (s, _) = await StartAsync(db);
        await using var server = s;
        var window = TimeSpan.FromHours(1);
        Assert.True((await Count(s, "t:undo", 2, window)).Allowed);
        Assert.True((await Count(s, "t:undo", 2, window)).Allowed);
        Assert.False((await Count(s, "t:undo", 2, window)).Allowed);
        await using (var scope = s.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<IRateLimitCounters>().UncountAsync("t:undo", CancellationToken.None);
        Assert.Equal(2, (await Count(s, "t:undo", 2, window)).Count);
        await using (var scope = s.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<IRateLimitCounters>().ResetAsync("t:undo", CancellationToken.None);
        Assert.Equal(1, (await Count(s, "t:undo", 2, window)).Count);
    }
}
