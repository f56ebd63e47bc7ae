using Gatehouse.Config;
using Gatehouse.Persistence;
using Gatehouse.Sessions;

namespace Gatehouse.Tests.Sessions;

/// <summary><c>session.whoami.cache.max_bytes</c>: the cache is bounded by the approximate memory of its answers.</summary>
public sealed class WhoamiCacheSizeTests
{
    private static (byte[] Hash, Session Session) NewSession()
    {
        var hash = SessionTokens.Hash(SessionTokens.NewSessionToken());
        return (hash, new Session { Id = Guid.CreateVersion7(), IdentityId = Guid.CreateVersion7(), TokenHash = hash, ExpiresAt = DateTime.UtcNow.AddHours(1) });
    }

    [Fact]
    public void Large_answers_are_bounded_by_bytes_not_by_count()
    {
        var options = new GatehouseOptions();
        options.Session.Whoami.Cache.MaxEntries = 100_000;
        options.Session.Whoami.Cache.MaxBytes = 10 * WhoamiCache.SizeOf(100_000);
        using var cache = new WhoamiCache(options, Dsn.Parse("memory"), TimeProvider.System);
        for (var i = 0; i < 50; i++)
        {
            var (hash, session) = NewSession();
            cache.Add(hash, session, new byte[100_000], cache.Begin());
        }
        // Past the budget an insert is refused and the oldest quarter is dropped in the background.
        Assert.InRange(cache.Count, 1, 10);

        // Small answers still fit by the thousand in the same budget.
        var small = new GatehouseOptions();
        small.Session.Whoami.Cache.MaxBytes = 10 * WhoamiCache.SizeOf(100_000);
        using var smallCache = new WhoamiCache(small, Dsn.Parse("memory"), TimeProvider.System);
        for (var i = 0; i < 1_000; i++)
        {
            var (hash, session) = NewSession();
            smallCache.Add(hash, session, new byte[500], smallCache.Begin());
        }
        Assert.Equal(1_000, smallCache.Count);
    }

    [Fact]
    public void The_entry_limit_still_holds()
    {
        var options = new GatehouseOptions();
        options.Session.Whoami.Cache.MaxEntries = 5;
        using var cache = new WhoamiCache(options, Dsn.Parse("memory"), TimeProvider.System);
        for (var i = 0; i < 20; i++)
        {
            var (hash, session) = NewSession();
            cache.Add(hash, session, [1, 2, 3], cache.Begin());
        }
        Assert.InRange(cache.Count, 1, 5);
    }
}
