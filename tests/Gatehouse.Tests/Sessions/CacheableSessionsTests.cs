using System.Globalization;
using System.Net;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.Sessions.SessionFixtures;

namespace Gatehouse.Tests.Sessions;

/// <summary>
/// Kratos's <c>feature_flags.cacheable_sessions</c> and <c>cacheable_sessions_max_age</c>: whoami's
/// <c>Ory-Session-Cache-For</c> header for an edge cache (session/handler.go <c>whoami</c>).
/// </summary>
public sealed class CacheableSessionsTests
{
    private const string Header = "Ory-Session-Cache-For";

    [Fact]
    public async Task Whoami_says_how_long_its_answer_may_be_cached_capped_by_the_max_age_and_a_minute_for_no_credentials()
    {
        await using var s = await TestServer.StartAsync(Db.Sqlite, o =>
        {
            o.FeatureFlags.CacheableSessions = true;
            o.FeatureFlags.CacheableSessionsMaxAge = TimeSpan.FromHours(1);
        });
        var (_, issued) = await IdentityWithSession(s);
        using var client = Client(s.PublicUrl);

        // The first answer is read from the database, the second from the whoami cache: both say the capped hour.
        foreach (var _ in new[] { 1, 2 })
        {
            var ok = await client.SendAsync(Get("/sessions/whoami", token: issued.Token));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("3600", Assert.Single(ok.Headers.GetValues(Header)));
        }

        // No credentials at all: the 401 may be cached for a minute; its body is the usual envelope.
        var none = await client.SendAsync(Get("/sessions/whoami"));
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("60", Assert.Single(none.Headers.GetValues(Header)));
        Assert.Contains("No valid session credentials found in the request.", await none.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Credentials that do not name a session: not cacheable (the next request may carry a fresh one).
        var unknown = await client.SendAsync(Get("/sessions/whoami", token: "ory_st_" + new string('x', 32)));
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.False(unknown.Headers.Contains(Header));
    }

    [Fact]
    public async Task Without_a_max_age_the_answer_may_be_cached_until_the_session_expires_and_without_the_flag_nothing_is_said()
    {
        await using var on = await TestServer.StartAsync(Db.Sqlite, o => o.FeatureFlags.CacheableSessions = true);
        var (_, issued) = await IdentityWithSession(on);
        using var client = Client(on.PublicUrl);
        var ok = await client.SendAsync(Get("/sessions/whoami", token: issued.Token));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var seconds = int.Parse(Assert.Single(ok.Headers.GetValues(Header)), CultureInfo.InvariantCulture);
        // The session lasts 24 h (session.lifespan); a few seconds of it have passed.
        Assert.InRange(seconds, 24 * 3600 - 120, 24 * 3600);

        await using var off = await TestServer.StartAsync(Db.Sqlite);
        var (_, other) = await IdentityWithSession(off);
        using var offClient = Client(off.PublicUrl);
        Assert.False((await offClient.SendAsync(Get("/sessions/whoami", token: other.Token))).Headers.Contains(Header));
        Assert.False((await offClient.SendAsync(Get("/sessions/whoami"))).Headers.Contains(Header));
    }
}
