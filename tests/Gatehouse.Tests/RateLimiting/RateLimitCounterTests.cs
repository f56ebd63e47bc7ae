using Gatehouse.RateLimiting;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
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
    /// <summary>
    /// The one-statement count (<c>EfRateLimitCounters</c>'s upsert) compares the stored window end with its own parameter
    /// inside the database; on SQLite both are TEXT, so the comparison is only right if EF and the upsert write DateTime in
    /// the same text format. A row written by EF is counted by the upsert on both sides of its window's end: one tick of
    /// the database's precision before it the count goes on, at it a new window starts.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_counter_written_by_EF_is_counted_by_the_upsert_across_its_windows_end(string db)
    {
        var (s, clock) = await StartAsync(db);
        await using var _ = s;
        var window = TimeSpan.FromMinutes(10);
        // Window ends with a fraction (EF's SQLite text drops the fraction's trailing zeros) at microsecond precision
        // (PostgreSQL's), and on a whole second (no fraction at all in the text).
        foreach (var (key, fraction) in new[] { ("t:format-fraction", 5_000_010L), ("t:format-whole", 0L) })
        {
            var now = clock.GetUtcNow().UtcDateTime;
            var expiresAt = new DateTime(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc).AddMinutes(10).AddTicks(fraction);
            await using (var scope = s.Services.CreateAsyncScope())
            {
                var ef = scope.ServiceProvider.GetRequiredService<Gatehouse.Persistence.GatehouseDbContext>();
                ef.RateLimitCounters.Add(new RateLimitCounter { Nid = ef.Nid, Key = key, Count = 3, WindowStart = expiresAt - window, LastAt = expiresAt - window, ExpiresAt = expiresAt });
                await ef.SaveChangesAsync(TestContext.Current.CancellationToken);
            }
            clock.SetUtcNow(new DateTimeOffset(expiresAt.AddTicks(-10), TimeSpan.Zero)); // 1 µs before the end: the same window
            Assert.Equal(new RateLimitDecision(true, 4, TimeSpan.Zero), await Count(s, key, 10, window));
            clock.SetUtcNow(new DateTimeOffset(expiresAt, TimeSpan.Zero)); // at the end: a new window
            Assert.Equal(new RateLimitDecision(true, 1, TimeSpan.Zero), await Count(s, key, 10, window));
            clock.SetUtcNow(new DateTimeOffset(expiresAt + window - TimeSpan.FromTicks(10), TimeSpan.Zero)); // the new window's last µs
            Assert.Equal(new RateLimitDecision(true, 2, TimeSpan.Zero), await Count(s, key, 10, window));
        }
        if (db == Db.Sqlite)
        {
            // Both writers' text: 'yyyy-MM-dd HH:mm:ss' with an optional fraction of up to 7 digits, no 'T', no zone.
            await using var scope = s.Services.CreateAsyncScope();
            var connection = scope.ServiceProvider.GetRequiredService<Gatehouse.Persistence.GatehouseDbContext>().Database.GetDbConnection();
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = """SELECT typeof("ExpiresAt"), "ExpiresAt", typeof("LastAt"), "LastAt" FROM rate_limit_counters WHERE "Key" LIKE 't:format-%' """;
            await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
            var rows = 0;
            while (await reader.ReadAsync(TestContext.Current.CancellationToken))
            {
                rows++;
                Assert.Equal("text", reader.GetString(0));
                Assert.Equal("text", reader.GetString(2));
                Assert.Matches(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,7})?$", reader.GetString(1));
                Assert.Matches(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,7})?$", reader.GetString(3));
            }
            Assert.Equal(2, rows);
        }
    }
}
