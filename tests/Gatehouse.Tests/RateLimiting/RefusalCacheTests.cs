using Gatehouse.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.RateLimiting;

public sealed class RefusalCacheTests
{
    [Fact]
    public void A_remembered_refusal_holds_until_its_time_and_no_longer()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var cache = new RefusalCache(clock);
        Assert.Null(cache.Refused("k"));
        cache.Remember("k", TimeSpan.FromSeconds(30));
        Assert.Equal(TimeSpan.FromSeconds(30), cache.Refused("k"));
        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(TimeSpan.FromSeconds(1), cache.Refused("k"));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(cache.Refused("k")); // the database decides again
    }

    [Fact]
    public void A_reset_counter_forgets_its_refusal()
    {
        var cache = new RefusalCache(new FakeTimeProvider(DateTimeOffset.UtcNow));
        cache.Remember("k", TimeSpan.FromMinutes(5));
        cache.Forget("k");
        Assert.Null(cache.Refused("k"));
    }
}
