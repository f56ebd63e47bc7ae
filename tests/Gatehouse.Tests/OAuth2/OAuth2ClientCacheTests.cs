using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Gatehouse.OAuth2.Clients;
using Gatehouse.Persistence;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Gatehouse.Tests.OAuth2;

/// <summary>
/// Loaded clients are cached for the token endpoint and the authorization endpoint; every change to a client — secret,
/// rotation, deletion, on this instance or (PostgreSQL) another one — is seen by the next request.
/// </summary>
public sealed class OAuth2ClientCacheTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static OAuth2ClientCache Cache(TestServer s) => s.Services.GetRequiredService<OAuth2ClientCache>();

    private static async Task<(string Id, string Secret)> CreateClientAsync(TestServer s, string secret)
    {
        var c = await (await s.AdminWithKey.PostJson("/admin/clients", $$"""{"grant_types":["client_credentials"],"client_secret":"{{secret}}","scope":"read"}""")).Json(HttpStatusCode.Created);
        return (c["client_id"]!.GetValue<string>(), secret);
    }

    private static async Task<HttpStatusCode> TokenAsync(TestServer s, string id, string secret)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token") { Content = new FormUrlEncodedContent([new("grant_type", "client_credentials")]) };
        req.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(id)}:{Uri.EscapeDataString(secret)}")));
        using var res = await s.Public.SendAsync(req);
        return res.StatusCode;
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_new_secret_a_deleted_rotated_secret_and_a_deleted_client_stop_working_at_once(string db)
    {
        var s = await fixture.Get(db);
        var cache = Cache(s);
        await Eventually.AssertAsync(() => cache.Enabled, TimeSpan.FromSeconds(15), "the client cache did not come on");
        var (id, first) = await CreateClientAsync(s, "first-secret-0123456789");
        Assert.Equal(HttpStatusCode.OK, await TokenAsync(s, id, first));
        Assert.True(cache.TryGet(id, out _), "the client was not cached");

        // setOAuth2Client with a secret: the old one is refused by the very next request.
        (await s.AdminWithKey.PutJson("/admin/clients/" + id, """{"grant_types":["client_credentials"],"client_secret":"second-secret-0123456789","scope":"read"}""")).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.Unauthorized, await TokenAsync(s, id, first));
        Assert.Equal(HttpStatusCode.OK, await TokenAsync(s, id, "second-secret-0123456789"));

        // Rotation: the new secret works at once, the old one until the rotated secrets are deleted.
        var rotated = await (await s.AdminWithKey.PostAsync($"/admin/clients/{id}/secrets/rotate", null)).Json(HttpStatusCode.OK);
        var third = rotated["client_secret"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, await TokenAsync(s, id, third));
        Assert.Equal(HttpStatusCode.OK, await TokenAsync(s, id, "second-secret-0123456789"));
        Assert.True((await s.AdminWithKey.DeleteAsync($"/admin/clients/{id}/secrets/rotate")).IsSuccessStatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, await TokenAsync(s, id, "second-secret-0123456789"));
        Assert.Equal(HttpStatusCode.OK, await TokenAsync(s, id, third));

        // A token endpoint that can no longer use the grant (patched) refuses it at once too.
        (await s.AdminWithKey.PatchJson("/admin/clients/" + id, """[{"op":"replace","path":"/grant_types","value":["authorization_code"]}]""")).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.BadRequest, await TokenAsync(s, id, third));

        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync("/admin/clients/" + id)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, await TokenAsync(s, id, third));
    }

    [Fact]
    public async Task On_postgres_a_change_made_by_another_instance_or_in_sql_reaches_the_cache()
    {
        Assert.SkipWhen(Db.PostgresDsn is null, "GATEHOUSE_TEST_POSTGRES_DSN is not set (PostgreSQL tests skipped)");
        await using var a = await TestServer.StartAsync(Db.Postgres);
        await using var b = await TestServer.StartAsync(Db.Postgres, o => o.Dsn = a.Options.Dsn);
        await Arrives(() => Task.FromResult(Cache(a).Enabled && Cache(b).Enabled));
        var (id, first) = await CreateClientAsync(a, "first-secret-0123456789");
        Assert.Equal(HttpStatusCode.OK, await TokenAsync(b, id, first));
        Assert.True(Cache(b).TryGet(id, out _));

        (await a.AdminWithKey.PutJson("/admin/clients/" + id, """{"grant_types":["client_credentials"],"client_secret":"second-secret-0123456789","scope":"read"}""")).EnsureSuccessStatusCode();
        await Arrives(async () => await TokenAsync(b, id, first) == HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, await TokenAsync(b, id, "second-secret-0123456789"));

        // A deletion no Gatehouse made (the trigger sees every row change).
        Assert.True(Cache(b).TryGet(id, out _));
        await using (var connection = new NpgsqlConnection(Dsn.Parse(a.Options.Dsn).ConnectionString))
        {
            await connection.OpenAsync();
            await using var delete = new NpgsqlCommand("DELETE FROM oauth2_clients WHERE \"ClientId\" = @id", connection);
            delete.Parameters.AddWithValue("id", id);
            Assert.Equal(1, await delete.ExecuteNonQueryAsync());
        }
        await Arrives(async () => await TokenAsync(b, id, "second-secret-0123456789") == HttpStatusCode.Unauthorized);
    }

    [Fact]
    public void A_read_that_raced_with_a_change_is_not_served_and_a_lost_listener_turns_the_cache_off()
    {
        var time = new FakeTimeProvider();
        var cache = new OAuth2ClientCache(time, listenForChanges: true);
        var client = new OAuth2ClientService.Loaded(new OAuth2Client { ClientId = "c" }, OAuth2ClientDocument.Load("{}"));

        // Waits for its listener.
        cache.Add(client, cache.Begin());
        Assert.False(cache.TryGet("c", out _));
        cache.ListenerConnected();
        Assert.True(cache.Enabled);

        // Stamped before a change, added after it: not kept.
        var stamp = cache.Begin();
        cache.InvalidateAll();
        cache.Add(client, stamp);
        Assert.False(cache.TryGet("c", out _));

        cache.Add(client, cache.Begin());
        Assert.True(cache.TryGet("c", out var found));
        Assert.Same(client, found);

        // Never older than its max age.
        time.Advance(OAuth2ClientCache.MaxAge + TimeSpan.FromSeconds(1));
        Assert.False(cache.TryGet("c", out _));

        cache.Add(client, cache.Begin());
        cache.ListenerDisconnected();
        Assert.False(cache.Enabled);
        Assert.False(cache.TryGet("c", out _));
        cache.ListenerConnected();
        Assert.False(cache.TryGet("c", out _));
    }

    private static Task Arrives(Func<Task<bool>> condition) =>
        Eventually.AssertAsync(condition, TimeSpan.FromSeconds(10), "the change did not arrive within 10 s");
}
