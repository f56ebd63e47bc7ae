using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.OAuth2;

public sealed class ClientCredentialsTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static async Task<(string Id, string Secret)> CreateClientAsync(TestServer s, string json)
    {
        var c = await (await s.AdminWithKey.PostJson("/admin/clients", json)).Json(HttpStatusCode.Created);
        return (c["client_id"]!.GetValue<string>(), c["client_secret"]?.GetValue<string>() ?? "");
    }

    private static HttpRequestMessage TokenRequest(string? basicId, string? basicSecret, params (string, string)[] form)
    {
        var req = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token") { Content = new FormUrlEncodedContent(form.Select(f => new KeyValuePair<string, string>(f.Item1, f.Item2))) };
        if (basicId is not null)
            req.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(basicId)}:{Uri.EscapeDataString(basicSecret!)}")));
        return req;
    }

    private static Task<HttpResponseMessage> IntrospectAsync(TestServer s, string token, string? scope = null)
    {
        var form = new List<KeyValuePair<string, string>> { new("token", token) };
        if (scope is not null) form.Add(new("scope", scope));
        return s.AdminWithKey.PostAsync("/admin/oauth2/introspect", new FormUrlEncodedContent(form));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Oauth2_hashers_choose_how_new_secrets_are_hashed_and_stored_secrets_keep_verifying_whatever_the_setting(string db)
    {
        // Hydra x/hasher.go: Hash uses oauth2.hashers.algorithm; Compare goes by the stored hash's prefix (hasherx.Compare).
        const string Body = """{"grant_types":["client_credentials"],"scope":"read"}""";
        await using var pbkdf2 = await TestServer.StartAsync(db, o => o.Oauth2.Hashers.Pbkdf2.Iterations = 1000);
        var old = await CreateClientAsync(pbkdf2, Body);
        Assert.StartsWith("$pbkdf2-sha256$i=1000,l=32$", await SecretHashAsync(pbkdf2, old.Id));

        await using var bcrypt = await TestServer.StartAsync(db, o =>
        {
            o.Dsn = pbkdf2.Options.Dsn;
            o.Oauth2.Hashers.Algorithm = "bcrypt";
            o.Oauth2.Hashers.Bcrypt.Cost = 5;
        });
        var fresh = await CreateClientAsync(bcrypt, Body);
        Assert.StartsWith("$2a$05$", await SecretHashAsync(bcrypt, fresh.Id));
        foreach (var (id, secret) in new[] { old, fresh })
        {
            await (await bcrypt.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "client_credentials")))).Json(HttpStatusCode.OK);
            await (await bcrypt.Public.SendAsync(TokenRequest(id, secret + "x", ("grant_type", "client_credentials")))).OAuth2Error(HttpStatusCode.Unauthorized, "invalid_client");
        }
        // bcrypt reads 72 bytes at most (hasherx ErrBcryptPasswordLengthReached): a longer chosen secret is refused, nothing is created.
        var name = "long-" + Guid.NewGuid().ToString("N");
        var refused = await (await bcrypt.AdminWithKey.PostJson("/admin/clients", $$"""{"client_name":"{{name}}","client_secret":"{{new string('s', 73)}}"}""")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_client_metadata");
        Assert.Contains("at most 72 bytes", refused["error_description"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty((await (await bcrypt.AdminWithKey.GetAsync("/admin/clients?client_name=" + name)).Json(HttpStatusCode.OK)).AsArray());

        // Back to PBKDF2 (the default algorithm) with other iterations: the bcrypt client still authenticates.
        await using var back = await TestServer.StartAsync(db, o => o.Dsn = pbkdf2.Options.Dsn);
        await (await back.Public.SendAsync(TokenRequest(fresh.Id, fresh.Secret, ("grant_type", "client_credentials")))).Json(HttpStatusCode.OK);
        Assert.StartsWith("$pbkdf2-sha256$i=25000,l=32$", await SecretHashAsync(back, (await CreateClientAsync(back, Body)).Id));
    }

    private static async Task<string> SecretHashAsync(TestServer s, string id)
    {
        await using var scope = s.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<Gatehouse.OAuth2.Clients.OAuth2ClientService>().FindAsync(id, CancellationToken.None))!.Row.SecretHash;
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Client_credentials_issues_an_opaque_token_that_introspects_with_hydras_fields(string db)
    {
        var s = await fixture.Get(db);
        var (id, secret) = await CreateClientAsync(s, """{"grant_types":["client_credentials"],"scope":"read write photos.*","audience":["https://api.example"]}""");

        var res = await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "client_credentials"), ("scope", "read photos.view"), ("audience", "https://api.example")));
        var t = (await res.Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal("no-store", res.Headers.CacheControl?.ToString());
        Assert.Equal(["access_token", "expires_in", "scope", "token_type"], t.Select(kv => kv.Key));
        var token = t["access_token"]!.GetValue<string>();
        Assert.Matches("^ory_at_[A-Za-z0-9_-]{43}$", token);
        Assert.Equal("bearer", t["token_type"]!.GetValue<string>());
        Assert.Equal(3600, t["expires_in"]!.GetValue<long>());
        Assert.Equal("read photos.view", t["scope"]!.GetValue<string>());

        var i = (await (await IntrospectAsync(s, token)).Json(HttpStatusCode.OK)).AsObject();
        Assert.True(i["active"]!.GetValue<bool>());
        Assert.Equal(id, i["client_id"]!.GetValue<string>());
        Assert.Equal(id, i["sub"]!.GetValue<string>());
        Assert.Equal("read photos.view", i["scope"]!.GetValue<string>());
        Assert.Equal(["https://api.example"], i["aud"]!.AsArray().Select(x => x!.GetValue<string>()));
        Assert.Equal(s.PublicUrl + "/", i["iss"]!.GetValue<string>());
        Assert.Equal("Bearer", i["token_type"]!.GetValue<string>());
        Assert.Equal("access_token", i["token_use"]!.GetValue<string>());
        Assert.Equal(3600, i["exp"]!.GetValue<long>() - i["iat"]!.GetValue<long>());

        // Scope-restricted introspection, and unknown tokens, are {"active":false}.
        Assert.True((await (await IntrospectAsync(s, token, "read")).Json(HttpStatusCode.OK))["active"]!.GetValue<bool>());
        Assert.Equal("""{"active":false}""", (await (await IntrospectAsync(s, token, "write")).Json(HttpStatusCode.OK)).ToJsonString());
        Assert.Equal("""{"active":false}""", (await (await IntrospectAsync(s, token + "x")).Json(HttpStatusCode.OK)).ToJsonString());
        await (await s.AdminWithKey.PostAsync("/admin/oauth2/introspect", new FormUrlEncodedContent([]))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");

        // client_secret_post is refused for a client_secret_basic client.
        var post = await s.Public.SendAsync(TokenRequest(null, null, ("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)));
        var e = await post.OAuth2Error(HttpStatusCode.Unauthorized, "invalid_client");
        Assert.Contains("supports client authentication method 'client_secret_basic', but method 'client_secret_post' was requested", e["error_description"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Default_grant_allowed_scope_grants_the_clients_whole_scope_to_a_request_naming_none(string db)
    {
        // Hydra's oauth2/handler.go (GrantAllClientCredentialsScopesPerDefault): off by default, a request without scope gets none.
        var shared = await fixture.Get(db);
        var (plain, plainSecret) = await CreateClientAsync(shared, """{"grant_types":["client_credentials"],"scope":"read write"}""");
        var none = await (await shared.Public.SendAsync(TokenRequest(plain, plainSecret, ("grant_type", "client_credentials")))).Json(HttpStatusCode.OK);
        Assert.Equal("", none["scope"]!.GetValue<string>());

        await using var s = await TestServer.StartAsync(db, o => o.Oauth2.ClientCredentials.DefaultGrantAllowedScope = true);
        var (id, secret) = await CreateClientAsync(s, """{"grant_types":["client_credentials"],"scope":"read write photos.*"}""");
        var all = await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "client_credentials")))).Json(HttpStatusCode.OK);
        Assert.Equal("read write photos.*", all["scope"]!.GetValue<string>());
        var i = await (await IntrospectAsync(s, all["access_token"]!.GetValue<string>())).Json(HttpStatusCode.OK);
        Assert.Equal("read write photos.*", i["scope"]!.GetValue<string>());

        // A request that names scopes still gets just those (repeats dropped, as fosite's GrantScope does).
        var some = await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "client_credentials"), ("scope", "read read photos.view")))).Json(HttpStatusCode.OK);
        Assert.Equal("read photos.view", some["scope"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Exact_scope_strategy_matches_scopes_as_plain_strings(string db)
    {
        // Hydra's GetScopeStrategy (driver/config/provider_fosite.go): strategies.scope other than wildcard is fosite's ExactScopeStrategy.
        await using var s = await TestServer.StartAsync(db, o => o.Strategies.Scope = "exact");
        var (id, secret) = await CreateClientAsync(s, """{"grant_types":["client_credentials"],"scope":"read photos.*"}""");

        var e = await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "client_credentials"), ("scope", "photos.view")))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_scope");
        Assert.EndsWith("The OAuth 2.0 Client is not allowed to request scope 'photos.view'.", e["error_description"]!.GetValue<string>());
        var t = await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "client_credentials"), ("scope", "read photos.*")))).Json(HttpStatusCode.OK);
        Assert.Equal("read photos.*", t["scope"]!.GetValue<string>());

        // Introspection's scope check uses the same strategy: photos.* was granted, photos.view is not covered by it.
        var token = t["access_token"]!.GetValue<string>();
        Assert.True((await (await IntrospectAsync(s, token, "photos.*")).Json(HttpStatusCode.OK))["active"]!.GetValue<bool>());
        Assert.False((await (await IntrospectAsync(s, token, "photos.view")).Json(HttpStatusCode.OK))["active"]!.GetValue<bool>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Bad_requests_get_rfc6749_errors_and_issue_nothing(string db)
    {
        var s = await fixture.Get(db);
        var (id, secret) = await CreateClientAsync(s, """{"grant_types":["client_credentials"],"scope":"read","audience":["https://api.example"],"token_endpoint_auth_method":"client_secret_post"}""");
        var (codeOnly, codeSecret) = await CreateClientAsync(s, """{"scope":"read"}""");
        var (pub, _) = await CreateClientAsync(s, """{"grant_types":["client_credentials"],"token_endpoint_auth_method":"none"}""");
        (string, string)[] Post(params (string, string)[] extra) => [("client_id", id), ("client_secret", secret), .. extra];

        await (await s.Public.SendAsync(TokenRequest(null, null, Post(("grant_type", "client_credentials"), ("scope", "admin"))))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_scope");
        await (await s.Public.SendAsync(TokenRequest(null, null, Post(("grant_type", "client_credentials"), ("audience", "https://evil.example"))))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
        await (await s.Public.SendAsync(TokenRequest(null, null, Post(("grant_type", "password"))))).OAuth2Error(HttpStatusCode.BadRequest, "unsupported_grant_type");
        await (await s.Public.SendAsync(TokenRequest(null, null, Post()))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
        await (await s.Public.SendAsync(TokenRequest(null, null, ("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret + "x")))).OAuth2Error(HttpStatusCode.Unauthorized, "invalid_client");
        await (await s.Public.SendAsync(TokenRequest(null, null, ("grant_type", "client_credentials"), ("client_id", "unknown-client"), ("client_secret", "whatever")))).OAuth2Error(HttpStatusCode.Unauthorized, "invalid_client");
        await (await s.Public.SendAsync(TokenRequest(null, null, ("grant_type", "client_credentials")))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
        await (await s.Public.SendAsync(TokenRequest(codeOnly, codeSecret, ("grant_type", "client_credentials")))).OAuth2Error(HttpStatusCode.BadRequest, "unauthorized_client");
        await (await s.Public.SendAsync(TokenRequest(null, null, ("grant_type", "client_credentials"), ("client_id", pub)))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_grant");
        await (await s.Public.PostAsync("/oauth2/token", new StringContent("""{"grant_type":"client_credentials"}""", Encoding.UTF8, "application/json"))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
        var malformedBasic = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token") { Content = new FormUrlEncodedContent([new("grant_type", "client_credentials")]) };
        malformedBasic.Headers.TryAddWithoutValidation("Authorization", "Basic !!!notbase64");
        await (await s.Public.SendAsync(malformedBasic)).OAuth2Error(HttpStatusCode.Unauthorized, "invalid_client");

        // Nothing was issued for any of them.
        await using var scope = s.Services.CreateAsyncScope();
        var db2 = scope.ServiceProvider.GetRequiredService<Gatehouse.Persistence.GatehouseDbContext>();
        Assert.Equal(0, db2.OAuth2Tokens.Count(t => t.ClientId == id || t.ClientId == codeOnly || t.ClientId == pub));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Revocation_by_the_owning_client_deactivates_the_token_and_delete_tokens_removes_all(string db)
    {
        var s = await fixture.Get(db);
        var (id, secret) = await CreateClientAsync(s, """{"grant_types":["client_credentials"]}""");
        var (other, otherSecret) = await CreateClientAsync(s, """{"grant_types":["client_credentials"]}""");
        async Task<string> IssueAsync(string cid, string sec) =>
            (await (await s.Public.SendAsync(TokenRequest(cid, sec, ("grant_type", "client_credentials")))).Json(HttpStatusCode.OK))["access_token"]!.GetValue<string>();

        var t1 = await IssueAsync(id, secret);
        var revokeByOther = new HttpRequestMessage(HttpMethod.Post, "/oauth2/revoke") { Content = new FormUrlEncodedContent([new("token", t1)]) };
        revokeByOther.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{other}:{otherSecret}")));
        await (await s.Public.SendAsync(revokeByOther)).OAuth2Error(HttpStatusCode.BadRequest, "unauthorized_client");
        Assert.True((await (await IntrospectAsync(s, t1)).Json(HttpStatusCode.OK))["active"]!.GetValue<bool>());

        var revoke = new HttpRequestMessage(HttpMethod.Post, "/oauth2/revoke") { Content = new FormUrlEncodedContent([new("token", t1)]) };
        revoke.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{id}:{secret}")));
        Assert.Equal(HttpStatusCode.OK, (await s.Public.SendAsync(revoke)).StatusCode);
        Assert.False((await (await IntrospectAsync(s, t1)).Json(HttpStatusCode.OK))["active"]!.GetValue<bool>());

        // Unknown tokens revoke fine (RFC 7009).
        var unknown = new HttpRequestMessage(HttpMethod.Post, "/oauth2/revoke") { Content = new FormUrlEncodedContent([new("token", "ory_at_unknown")]) };
        unknown.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{id}:{secret}")));
        Assert.Equal(HttpStatusCode.OK, (await s.Public.SendAsync(unknown)).StatusCode);

        var t2 = await IssueAsync(id, secret);
        var t3 = await IssueAsync(other, otherSecret);
        var noClient = await (await s.AdminWithKey.DeleteAsync("/admin/oauth2/tokens")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
        // Hydra's deleteOAuth2Token (oauth2/handler.go) hint.
        Assert.EndsWith("Query parameter 'client_id' is not defined but it should have been.", noClient["error_description"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync("/admin/oauth2/tokens?client_id=" + id)).StatusCode);
        Assert.False((await (await IntrospectAsync(s, t2)).Json(HttpStatusCode.OK))["active"]!.GetValue<bool>());
        Assert.True((await (await IntrospectAsync(s, t3)).Json(HttpStatusCode.OK))["active"]!.GetValue<bool>());

        // Deleting a client deletes its tokens.
        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync("/admin/clients/" + other)).StatusCode);
        Assert.False((await (await IntrospectAsync(s, t3)).Json(HttpStatusCode.OK))["active"]!.GetValue<bool>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_client_lifespan_overrides_the_default_and_tokens_expire_on_the_clock(string db)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var s = await TestServer.StartAsync(db, configureServices: services => services.AddSingleton<TimeProvider>(clock));
        var (id, secret) = await CreateClientAsync(s, """{"grant_types":["client_credentials"]}""");
        await (await s.AdminWithKey.PutJson($"/admin/clients/{id}/lifespans", """{"client_credentials_grant_access_token_lifespan":"5m"}""")).Json(HttpStatusCode.OK);
        var t = await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "client_credentials")))).Json(HttpStatusCode.OK);
        Assert.Equal(300, t["expires_in"]!.GetValue<long>());
        var token = t["access_token"]!.GetValue<string>();
        clock.Advance(TimeSpan.FromMinutes(4));
        Assert.True((await (await IntrospectAsync(s, token)).Json(HttpStatusCode.OK))["active"]!.GetValue<bool>());
        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.False((await (await IntrospectAsync(s, token)).Json(HttpStatusCode.OK))["active"]!.GetValue<bool>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_negative_client_lifespan_issues_a_token_that_is_already_expired(string db)
    {
        // fosite adds the client's lifespan to now as it is: expires_in is negative and the token is never active.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var s = await TestServer.StartAsync(db, configureServices: services => services.AddSingleton<TimeProvider>(clock));
        var (id, secret) = await CreateClientAsync(s, """{"grant_types":["client_credentials"]}""");
        await (await s.AdminWithKey.PutJson($"/admin/clients/{id}/lifespans", """{"client_credentials_grant_access_token_lifespan":"-1h"}""")).Json(HttpStatusCode.OK);
        var t = await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "client_credentials")))).Json(HttpStatusCode.OK);
        Assert.Equal(-3600, t["expires_in"]!.GetValue<long>());
        Assert.False((await (await IntrospectAsync(s, t["access_token"]!.GetValue<string>())).Json(HttpStatusCode.OK))["active"]!.GetValue<bool>());
    }
}
