using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Persistence;
using Gatehouse.Sessions;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using static Gatehouse.Tests.Sessions.SessionFixtures;

namespace Gatehouse.Tests.Sessions;

/// <summary>
/// The whoami cache answers repeated whoamis from memory, and every write that changes an answer — through any
/// endpoint, on this instance or (PostgreSQL) another one — makes the next whoami see the change.
/// </summary>
public sealed class WhoamiCacheTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static WhoamiCache Cache(TestServer s) => s.Services.GetRequiredService<WhoamiCache>();

    /// <summary>On PostgreSQL the cache turns on once its listener is connected.</summary>
    private static async Task<TestServer> Ready(TestServer s)
    {
        await s.WhoamiCacheOnAsync();
        return s;
    }

    private static async Task<JsonObject> Whoami(HttpClient client, string token, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var response = await client.SendAsync(Get("/sessions/whoami", token: token));
        if (expected != HttpStatusCode.OK)
        {
            Assert.Equal(expected, response.StatusCode);
            return [];
        }
        return (await response.Json(HttpStatusCode.OK)).AsObject();
    }

    /// <summary>whoami twice, so that the answer is certainly in the cache, and that the cache holds it.</summary>
    private static async Task<JsonObject> Warm(TestServer s, HttpClient client, IssuedSession issued)
    {
        var first = await Whoami(client, issued.Token);
        var second = await Whoami(client, issued.Token);
        Assert.Equal(first.ToJsonString(), second.ToJsonString());
        Assert.True(Cache(s).TryGet(SessionTokens.Hash(issued.Token), out var entry), "whoami was not cached");
        Assert.Equal(issued.Session.Id, entry.SessionId);
        return second;
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_cached_answer_is_byte_for_byte_the_database_answer_and_needs_no_read(string db)
    {
        var s = await Ready(await fixture.Get(db));
        var (identity, issued) = await IdentityWithSession(s);
        using var client = Client(s.PublicUrl);
        var miss = await client.SendAsync(Get("/sessions/whoami", token: issued.Token));
        var missBody = await miss.Content.ReadAsStringAsync();
        var hit = await client.SendAsync(Get("/sessions/whoami", token: issued.Token));
        Assert.Equal(HttpStatusCode.OK, hit.StatusCode);
        Assert.Equal(missBody, await hit.Content.ReadAsStringAsync());
        Assert.Equal(identity["id"]!.GetValue<string>(), hit.Headers.GetValues("X-Kratos-Authenticated-Identity-Id").Single());
        Assert.Equal("application/json; charset=utf-8", hit.Content.Headers.ContentType!.ToString());

        // Proof that the second answer came from memory: a row changed behind Gatehouse's back (no trigger on this
        // column's table? there is one on PostgreSQL, so only SQLite can show it) is not seen until invalidated.
        if (db == Db.Sqlite)
        {
            await using (var scope = s.Services.CreateAsyncScope())
            {
                var ctx = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
                await ctx.Database.ExecuteSqlAsync($"UPDATE sessions SET Aal = 'aal2' WHERE Id = {issued.Session.Id}");
            }
            Assert.Equal("aal1", (await Whoami(client, issued.Token))["authenticator_assurance_level"]!.GetValue<string>());
            Cache(s).Invalidate(issued.Session.Id);
            Assert.Equal("aal2", (await Whoami(client, issued.Token))["authenticator_assurance_level"]!.GetValue<string>());
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Revocations_through_every_endpoint_end_cached_sessions_at_once(string db)
    {
        var s = await Ready(await fixture.Get(db));
        using var client = Client(s.PublicUrl);

        // Admin: disable one session.
        var (_, disabled) = await IdentityWithSession(s);
        await Warm(s, client, disabled);
        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync($"/admin/sessions/{disabled.Session.Id}")).StatusCode);
        await Whoami(client, disabled.Token, HttpStatusCode.Unauthorized);

        // Native logout.
        var (_, loggedOut) = await IdentityWithSession(s);
        await Warm(s, client, loggedOut);
        using (var logout = new HttpRequestMessage(HttpMethod.Delete, "/self-service/logout/api") { Content = JsonContent($$"""{"session_token":"{{loggedOut.Token}}"}""") })
        {
            Assert.Equal(HttpStatusCode.NoContent, (await client.SendAsync(logout)).StatusCode);
        }
        await Whoami(client, loggedOut.Token, HttpStatusCode.Unauthorized);

        // The user revokes another of their sessions, then all others.
        var (owner, mine) = await IdentityWithSession(s);
        var other = await Issue(s, Id(owner));
        var third = await Issue(s, Id(owner));
        await Warm(s, client, mine);
        await Warm(s, client, other);
        await Warm(s, client, third);
        using (var revokeOne = Get($"/sessions/{other.Session.Id}", token: mine.Token, method: HttpMethod.Delete))
        {
            Assert.Equal(HttpStatusCode.NoContent, (await client.SendAsync(revokeOne)).StatusCode);
        }
        await Whoami(client, other.Token, HttpStatusCode.Unauthorized);
        await Whoami(client, third.Token);
        using (var revokeOthers = Get("/sessions", token: mine.Token, method: HttpMethod.Delete))
        {
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(revokeOthers)).StatusCode);
        }
        await Whoami(client, third.Token, HttpStatusCode.Unauthorized);
        await Whoami(client, mine.Token);

        // Admin: delete all sessions of an identity.
        var (deletedOwner, deletedSession) = await IdentityWithSession(s);
        await Warm(s, client, deletedSession);
        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync($"/admin/identities/{Id(deletedOwner)}/sessions")).StatusCode);
        await Whoami(client, deletedSession.Token, HttpStatusCode.Unauthorized);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Identity_changes_show_in_the_next_whoami(string db)
    {
        var s = await Ready(await fixture.Get(db));
        using var client = Client(s.PublicUrl);

        // Traits and public metadata replaced by the admin API (tracked SaveChanges).
        var (identity, issued) = await IdentityWithSession(s);
        await Warm(s, client, issued);
        var email = HttpAssertions.UniqueEmail("changed");
        var put = await s.AdminWithKey.PutJson($"/admin/identities/{Id(identity)}",
            $$$"""{"schema_id":"default","state":"active","traits":{"email":"{{{email}}}"},"metadata_public":{"plan":"gold"}}""");
        await put.Json(HttpStatusCode.OK);
        var after = await Whoami(client, issued.Token);
        Assert.Equal(email, after["identity"]!["traits"]!["email"]!.GetValue<string>());
        Assert.Equal("gold", after["identity"]!["metadata_public"]!["plan"]!.GetValue<string>());
        Assert.Equal(email, after["identity"]!["verifiable_addresses"]![0]!["value"]!.GetValue<string>());

        // Deactivated by JSON Patch: its sessions stop working.
        var patch = await s.AdminWithKey.PatchJson($"/admin/identities/{Id(identity)}", """[{"op":"replace","path":"/state","value":"inactive"}]""");
        await patch.Json(HttpStatusCode.OK);
        await Whoami(client, issued.Token, HttpStatusCode.Unauthorized);

        // Deleted identity (bulk delete; its sessions go by cascade).
        var (gone, goneSession) = await IdentityWithSession(s);
        await Warm(s, client, goneSession);
        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync($"/admin/identities/{Id(gone)}")).StatusCode);
        await Whoami(client, goneSession.Token, HttpStatusCode.Unauthorized);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Extending_and_expiring_a_session_show_in_the_next_whoami(string db)
    {
        var s = await Ready(await fixture.Get(db));
        using var client = Client(s.PublicUrl);
        var (_, issued) = await IdentityWithSession(s);

        // Tracked change (expires_at moved back), then the admin extend (bulk update) moves it forward again.
        await Warm(s, client, issued);
        var soon = DateTime.UtcNow.AddMinutes(5);
        var shortly = new DateTime(soon.Ticks - soon.Ticks % 10, DateTimeKind.Utc); // microseconds, as both databases keep
        await Update(s, issued.Session.Id, x => x.ExpiresAt = shortly);
        var shortened = await Whoami(client, issued.Token);
        Assert.Equal(Gatehouse.Http.Json.GoTimeJsonConverter.Format(shortly), shortened["expires_at"]!.GetValue<string>());
        var extended = await s.AdminWithKey.PatchAsync($"/admin/sessions/{issued.Session.Id}/extend", null);
        Assert.Equal(HttpStatusCode.OK, extended.StatusCode);
        var afterExtend = await Whoami(client, issued.Token);
        Assert.NotEqual(shortened["expires_at"]!.GetValue<string>(), afterExtend["expires_at"]!.GetValue<string>());
        Assert.Equal((await extended.Json(HttpStatusCode.OK))["expires_at"]!.GetValue<string>(), afterExtend["expires_at"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_cached_answer_is_never_served_after_the_sessions_expiry_even_without_any_write(string db)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await TestServer.StartAsync(db, configureServices: services => services.AddSingleton<TimeProvider>(clock));
        var s = await Ready(server);
        var (_, issued) = await IdentityWithSession(s);
        using var client = Client(s.PublicUrl);
        var expiresAt = clock.GetUtcNow().UtcDateTime.AddSeconds(90);
        await Update(s, issued.Session.Id, x => x.ExpiresAt = new DateTime(expiresAt.Ticks - expiresAt.Ticks % 10, DateTimeKind.Utc));
        await Warm(s, client, issued);
        clock.Advance(TimeSpan.FromSeconds(89));
        await Whoami(client, issued.Token);
        clock.Advance(TimeSpan.FromSeconds(2));
        await Whoami(client, issued.Token, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Switched_off_it_keeps_nothing_and_whoami_still_answers()
    {
        await using var s = await TestServer.StartAsync(Db.Sqlite, o => o.Session.Whoami.Cache.Enabled = false);
        var (_, issued) = await IdentityWithSession(s);
        using var client = Client(s.PublicUrl);
        await Whoami(client, issued.Token);
        await Whoami(client, issued.Token);
        Assert.False(Cache(s).Enabled);
        Assert.Equal(0, Cache(s).Count);
        Assert.False(Cache(s).TryGet(SessionTokens.Hash(issued.Token), out _));
    }

    [Fact]
    public async Task A_revocation_on_one_instance_reaches_the_cache_of_another_on_the_same_postgres_database()
    {
        Assert.SkipWhen(Db.PostgresDsn is null, "GATEHOUSE_TEST_POSTGRES_DSN is not set (PostgreSQL tests skipped)");
        await using var a = await Ready(await TestServer.StartAsync(Db.Postgres));
        await using var b = await Ready(await TestServer.StartAsync(Db.Postgres, o => o.Dsn = a.Options.Dsn));
        using var clientB = Client(b.PublicUrl);

        var (identity, issued) = await IdentityWithSession(a);
        await Warm(b, clientB, issued);
        Assert.Equal(HttpStatusCode.NoContent, (await a.AdminWithKey.DeleteAsync($"/admin/sessions/{issued.Session.Id}")).StatusCode);
        await Eventually(async () => (await clientB.SendAsync(Get("/sessions/whoami", token: issued.Token))).StatusCode == HttpStatusCode.Unauthorized);

        // A traits change on A shows on B too.
        var second = await Issue(a, Id(identity));
        await Warm(b, clientB, second);
        var email = HttpAssertions.UniqueEmail("elsewhere");
        (await a.AdminWithKey.PutJson($"/admin/identities/{Id(identity)}", $$$"""{"schema_id":"default","state":"active","traits":{"email":"{{{email}}}"}}""")).EnsureSuccessStatusCode();
        await Eventually(async () => (await Whoami(clientB, second.Token))["identity"]!["traits"]!["email"]!.GetValue<string>() == email);

        // So does a write no Gatehouse made (the trigger sees every row change).
        var third = await Issue(a, Id(identity));
        await Warm(b, clientB, third);
        await using (var connection = new NpgsqlConnection(Dsn.Parse(a.Options.Dsn).ConnectionString))
        {
            await connection.OpenAsync();
            await using var update = new NpgsqlCommand("UPDATE sessions SET \"Active\" = false WHERE \"Id\" = @id", connection);
            update.Parameters.AddWithValue("id", third.Session.Id);
            Assert.Equal(1, await update.ExecuteNonQueryAsync());
        }
        await Eventually(async () => (await clientB.SendAsync(Get("/sessions/whoami", token: third.Token))).StatusCode == HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Losing_the_listener_connection_turns_the_cache_off_until_it_is_back()
    {
        Assert.SkipWhen(Db.PostgresDsn is null, "GATEHOUSE_TEST_POSTGRES_DSN is not set (PostgreSQL tests skipped)");
        await using var s = await Ready(await TestServer.StartAsync(Db.Postgres));
        using var client = Client(s.PublicUrl);
        var (_, issued) = await IdentityWithSession(s);
        await Warm(s, client, issued);

        var cs = Dsn.Parse(s.Options.Dsn).ConnectionString;
        await using (var connection = new NpgsqlConnection(cs))
        {
            await connection.OpenAsync();
            await using var kill = new NpgsqlCommand(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'", connection);
            Assert.Equal(1L, await kill.ExecuteScalarAsync());
        }
        // Off (and emptied) as soon as the loss is seen, then on again after the reconnect, with nothing kept.
        await Eventually(() => Task.FromResult(!Cache(s).TryGet(SessionTokens.Hash(issued.Token), out _)));
        await Ready(s);
        Assert.False(Cache(s).TryGet(SessionTokens.Hash(issued.Token), out _));
        await Warm(s, client, issued);
        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync($"/admin/sessions/{issued.Session.Id}")).StatusCode);
        await Whoami(client, issued.Token, HttpStatusCode.Unauthorized);
    }

    private static async Task Eventually(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the change did not arrive within 10 s");
            await Task.Delay(20);
        }
    }

    private static StringContent JsonContent(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}

/// <summary>The cache's own rules, without a server: stamps, invalidation races, expiry, limits.</summary>
public sealed class WhoamiCacheUnitTests
{
    private static readonly Dsn Sqlite = Dsn.Parse("memory");

    private static WhoamiCache NewCache(Action<WhoamiCacheOptions>? configure = null, TimeProvider? time = null)
    {
        var options = new GatehouseOptions();
        configure?.Invoke(options.Session.Whoami.Cache);
        return new WhoamiCache(options, Sqlite, time ?? TimeProvider.System);
    }

    private static (byte[] Hash, Session Session) NewSession(DateTime? expiresAt = null)
    {
        var hash = SessionTokens.Hash(SessionTokens.NewSessionToken());
        return (hash, new Session { Id = Guid.CreateVersion7(), IdentityId = Guid.CreateVersion7(), TokenHash = hash, ExpiresAt = expiresAt ?? DateTime.UtcNow.AddHours(1) });
    }

    [Fact]
    public void A_read_that_started_before_an_invalidation_is_not_kept()
    {
        using var cache = NewCache();
        var (hash, session) = NewSession();
        var stamp = cache.Begin();
        cache.Invalidate(session.IdentityId); // a write committed while the read was under way
        cache.Add(hash, session, [1], stamp);
        Assert.False(cache.TryGet(hash, out _));

        stamp = cache.Begin();
        cache.Add(hash, session, [2], stamp);
        Assert.True(cache.TryGet(hash, out var entry));
        Assert.Equal([2], entry.Body);
    }

    [Fact]
    public void Invalidating_the_session_the_identity_or_everything_drops_the_answer()
    {
        using var cache = NewCache();
        foreach (var invalidate in new Action<WhoamiCache, Session>[]
        {
            (c, s) => c.Invalidate(s.Id),
            (c, s) => c.Invalidate(s.IdentityId),
            (c, _) => c.InvalidateAll(),
        })
        {
            var (hash, session) = NewSession();
            cache.Add(hash, session, [1], cache.Begin());
            Assert.True(cache.TryGet(hash, out _));
            cache.Invalidate(Guid.CreateVersion7()); // someone else's change
            Assert.True(cache.TryGet(hash, out _));
            invalidate(cache, session);
            Assert.False(cache.TryGet(hash, out _));
        }
    }

    [Fact]
    public void Answers_expire_with_the_session_and_after_max_age()
    {
        var time = new ManualTime(DateTimeOffset.UtcNow);
        using var cache = NewCache(o => o.MaxAge = TimeSpan.FromMinutes(10), time);
        var (soon, expiring) = NewSession(time.GetUtcNow().UtcDateTime.AddMinutes(1));
        var (later, lasting) = NewSession(time.GetUtcNow().UtcDateTime.AddHours(5));
        cache.Add(soon, expiring, [1], cache.Begin());
        cache.Add(later, lasting, [2], cache.Begin());
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.False(cache.TryGet(soon, out _));
        Assert.True(cache.TryGet(later, out _));
        time.Advance(TimeSpan.FromMinutes(9));
        Assert.False(cache.TryGet(later, out _));

        var (expired, past) = NewSession(time.GetUtcNow().UtcDateTime.AddSeconds(-1));
        cache.Add(expired, past, [3], cache.Begin());
        Assert.False(cache.TryGet(expired, out _));
    }

    [Fact]
    public void Zero_entries_or_disabled_means_off()
    {
        foreach (var configure in new Action<WhoamiCacheOptions>[] { o => o.MaxEntries = 0, o => o.Enabled = false })
        {
            using var cache = NewCache(configure);
            var (hash, session) = NewSession();
            cache.Add(hash, session, [1], cache.Begin());
            Assert.False(cache.Enabled);
            Assert.False(cache.TryGet(hash, out _));
        }
    }

    [Fact]
    public void On_postgres_it_waits_for_the_listener_and_forgets_everything_when_it_drops()
    {
        using var cache = new WhoamiCache(new GatehouseOptions(), Dsn.Parse("postgres://u@127.0.0.1:1/db?sslmode=disable"), TimeProvider.System);
        Assert.True(cache.ListenForChanges);
        Assert.False(cache.Enabled);
        var (hash, session) = NewSession();
        var stamp = cache.Begin();
        cache.ListenerConnected();
        cache.Add(hash, session, [1], stamp); // read before the listener was up: notifications may have been missed
        Assert.False(cache.TryGet(hash, out _));
        cache.Add(hash, session, [1], cache.Begin());
        Assert.True(cache.TryGet(hash, out _));
        cache.ListenerDisconnected();
        Assert.False(cache.Enabled);
        Assert.False(cache.TryGet(hash, out _));
        cache.ListenerConnected();
        Assert.False(cache.TryGet(hash, out _));
    }

    private sealed class ManualTime(DateTimeOffset now) : TimeProvider
    {
        private DateTimeOffset _now = now;
        private long _ticks;

        public override DateTimeOffset GetUtcNow() => _now;

        public override long GetTimestamp() => _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public void Advance(TimeSpan by)
        {
            _now += by;
            _ticks += by.Ticks;
        }
    }
}
