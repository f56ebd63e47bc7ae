using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using static Gatehouse.Tests.OAuth2.PrivateKeyJwtTests;

namespace Gatehouse.Tests.OAuth2;

/// <summary>The JWT-bearer grant (RFC 7523 2.1) and Hydra's trusted issuer admin API.</summary>
public sealed class JwtBearerGrantTests
{
    private const string GrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    private const string Issuer = "https://idp.example";

    private static async Task<(string Id, string Secret)> CreateClientAsync(TestServer s, string extra = "")
    {
        var c = await (await s.AdminWithKey.PostJson("/admin/clients", $$"""{"grant_types":["{{GrantType}}"]{{extra}}}""")).Json(HttpStatusCode.Created);
        return (c["client_id"]!.GetValue<string>(), c["client_secret"]!.GetValue<string>());
    }

    private static Task<HttpResponseMessage> TrustAsync(TestServer s, string json) => s.AdminWithKey.PostJson("/admin/trust/grants/jwt-bearer/issuers", json);

    private static string TrustBody(ClientKey key, string subject, string scope, DateTimeOffset expires, string issuer = Issuer) =>
        $$"""{"issuer":"{{issuer}}",{{(subject.Length > 0 ? $"\"subject\":\"{subject}\"" : "\"allow_any_subject\":true")}},"scope":{{scope}},"jwk":{{key.PublicJwk.ToJsonString()}},"expires_at":"{{expires.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}}"}""";

    private static Task<HttpResponseMessage> GrantAsync(TestServer s, string id, string secret, string assertion, string? scope = null)
    {
        var form = new List<KeyValuePair<string, string>> { new("grant_type", GrantType), new("assertion", assertion) };
        if (scope is not null) form.Add(new("scope", scope));
        var req = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token") { Content = new FormUrlEncodedContent(form) };
        req.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{id}:{secret}")));
        return s.Public.SendAsync(req);
    }

    private static JsonObject Assertion(string subject, string aud, DateTimeOffset now, string issuer = Issuer)
    {
        var c = Claims(subject, aud, now);
        c["iss"] = issuer;
        return c;
    }

    private static async Task AssertError(HttpResponseMessage res, HttpStatusCode status, string error, string part)
    {
        var e = await res.OAuth2Error(status, error);
        Assert.Contains(part, e["error_description"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Trusted_issuers_are_created_listed_read_and_deleted_as_hydra_does(string db)
    {
        await using var s = await TestServer.StartAsync(db);
        var key = ClientKey.Rsa("idp-1");
        var expires = DateTimeOffset.UtcNow.AddDays(1);
        var res = await TrustAsync(s, TrustBody(key, "alice", """["read","photos.*"]""", expires));
        var created = (await res.Json(HttpStatusCode.Created)).AsObject();
        Assert.Equal(["id", "issuer", "subject", "allow_any_subject", "scope", "public_key", "created_at", "expires_at"], created.Select(kv => kv.Key));
        var id = created["id"]!.GetValue<string>();
        Assert.Equal("/admin/trust/grants/jwt-bearer/issuers/" + id, res.Headers.Location!.ToString());
        Assert.Equal("""{"set":"https://idp.example","kid":"idp-1"}""", created["public_key"]!.ToJsonString());
        Assert.Equal(expires.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ"), created["expires_at"]!.GetValue<string>());
        Assert.Equal(created.ToJsonString(), (await (await s.AdminWithKey.GetAsync("/admin/trust/grants/jwt-bearer/issuers/" + id)).Json(HttpStatusCode.OK)).ToJsonString());
        // The same issuer, subject and key again is a conflict.
        await (await TrustAsync(s, TrustBody(key, "alice", "[]", expires))).OAuth2Error(HttpStatusCode.Conflict);

        var other = await (await TrustAsync(s, TrustBody(ClientKey.Ec("other-1"), "", "[]", expires, "https://other.example"))).Json(HttpStatusCode.Created);
        var all = await s.AdminWithKey.GetAsync("/admin/trust/grants/jwt-bearer/issuers?page_size=1");
        Assert.Single((await all.Json(HttpStatusCode.OK)).AsArray());
        Assert.Contains("rel=\"next\"", all.Headers.GetValues("Link").Single());
        var filtered = (await (await s.AdminWithKey.GetAsync("/admin/trust/grants/jwt-bearer/issuers?issuer=https://other.example")).Json(HttpStatusCode.OK)).AsArray();
        Assert.Equal(other["id"]!.GetValue<string>(), Assert.Single(filtered)!["id"]!.GetValue<string>());
        Assert.True(Assert.Single(filtered)!["allow_any_subject"]!.GetValue<bool>());

        // Validation, in Hydra's order and words; nothing is stored.
        async Task Missing(string body, string hint) =>
            await AssertError(await TrustAsync(s, body), HttpStatusCode.BadRequest, "missing_required_parameter", hint);
        await Missing("""{"subject":"a","expires_at":"2030-01-01T00:00:00Z"}""", "Field 'issuer' is required.");
        await Missing("""{"issuer":"x","expires_at":"2030-01-01T00:00:00Z"}""", "One of 'subject' or 'allow_any_subject' field must be set.");
        await Missing("""{"issuer":"x","subject":"a","allow_any_subject":true}""", "Both 'subject' and 'allow_any_subject' fields cannot be set at the same time.");
        await Missing("""{"issuer":"x","subject":"a"}""", "Field 'expires_at' is required.");
        await Missing("""{"issuer":"x","subject":"a","expires_at":"2030-01-01T00:00:00Z"}""", "Field 'jwk' must contain JWK with kid header.");
        await (await TrustAsync(s, """{"issuer":1}""")).OAuth2Error(HttpStatusCode.BadRequest, "error");
        // expires_at is a Go time.Time: Time.UnmarshalJSON's words, time.Parse(RFC3339)'s error; a time error stops Go's
        // decoder ahead of a type error recorded before it.
        foreach (var (expiresAt, reason) in new[]
        {
            ("\"tomorrow\"", "parsing time 'tomorrow' as '2006-01-02T15:04:05Z07:00': cannot parse 'tomorrow' as '2006'"),
            ("\"2030-01-01T00:00:00\"", "parsing time '2030-01-01T00:00:00' as '2006-01-02T15:04:05Z07:00': cannot parse '' as 'Z07:00'"),
            ("\"2030-02-29T00:00:00Z\"", "parsing time '2030-02-29T00:00:00Z': day out of range"),
            ("1893456000", "Time.UnmarshalJSON: input is not a JSON string"),
        })
        {
            var refused = await (await TrustAsync(s, $$"""{"issuer":1,"subject":"a","expires_at":{{expiresAt}}}""")).OAuth2Error(HttpStatusCode.BadRequest, "error");
            Assert.Equal(reason, refused["error_description"]!.GetValue<string>());
        }
        await (await TrustAsync(s, """{"issuer":"x","subject":"a","expires_at":"2030-01-01T00:00:00Z","jwk":{"kty":"EC","kid":"k"}}""")).OAuth2Error(HttpStatusCode.BadRequest, "error");
        await using (var scope = s.Services.CreateAsyncScope())
            Assert.Equal(2, await scope.ServiceProvider.GetRequiredService<Gatehouse.Persistence.GatehouseDbContext>().OAuth2TrustedJwtIssuers.CountAsync());

        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync("/admin/trust/grants/jwt-bearer/issuers/" + id)).StatusCode);
        await (await s.AdminWithKey.GetAsync("/admin/trust/grants/jwt-bearer/issuers/" + id)).OAuth2Error(HttpStatusCode.NotFound);
        await (await s.AdminWithKey.DeleteAsync("/admin/trust/grants/jwt-bearer/issuers/" + id)).OAuth2Error(HttpStatusCode.NotFound);
        await (await s.AdminWithKey.GetAsync("/admin/trust/grants/jwt-bearer/issuers/not-a-uuid")).OAuth2Error(HttpStatusCode.BadRequest);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_token_hook_gets_the_assertion_in_the_payload_and_sets_the_access_token_claims(string db)
    {
        // Hydra runs its token hook for every grant; fosite's Sanitize keeps "assertion" in the payload for it.
        await using var hooks = await Hooks.HookReceiver.StartAsync();
        var url = hooks.On("/token", 200, """{"session":{"access_token":{"federated":"idp"}}}""");
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var s = await TestServer.StartAsync(db, o => o.Oauth2.TokenHook = new Gatehouse.Config.TokenHookOptions { Url = url },
            services => services.AddSingleton<TimeProvider>(clock));
        var key = ClientKey.Rsa("idp-1");
        var now = clock.GetUtcNow();
        await (await TrustAsync(s, TrustBody(key, "alice", """["read"]""", now.AddHours(2)))).Json(HttpStatusCode.Created);
        var (id, secret) = await CreateClientAsync(s);
        var assertion = Sign(key, Assertion("alice", s.PublicUrl + "/oauth2/token", now));

        var t = await (await GrantAsync(s, id, secret, assertion, "read")).Json(HttpStatusCode.OK);

        var body = JsonNode.Parse(Assert.Single(hooks.Received("/token")).Body)!;
        Assert.Equal($$"""{"assertion":["{{assertion}}"],"grant_type":["{{GrantType}}"],"scope":["read"]}""", body["request"]!["payload"]!.ToJsonString());
        Assert.Equal("alice", body["session"]!["id_token"]!["subject"]!.GetValue<string>());
        var i = await (await s.AdminWithKey.PostAsync("/admin/oauth2/introspect", new FormUrlEncodedContent([new("token", t["access_token"]!.GetValue<string>())]))).Json(HttpStatusCode.OK);
        Assert.Equal("""{"federated":"idp"}""", i["ext"]!.ToJsonString());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_trusted_assertion_is_exchanged_once_for_an_access_token_of_its_subject(string db)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var s = await TestServer.StartAsync(db, configureServices: services => services.AddSingleton<TimeProvider>(clock));
        var key = ClientKey.Rsa("idp-1");
        var now = clock.GetUtcNow();
        await (await TrustAsync(s, TrustBody(key, "alice", """["read","photos.*"]""", now.AddHours(2)))).Json(HttpStatusCode.Created);
        var anyKey = ClientKey.Ec("idp-any");
        await (await TrustAsync(s, TrustBody(anyKey, "", """["read"]""", now.AddHours(2), "https://any.example"))).Json(HttpStatusCode.Created);
        var (id, secret) = await CreateClientAsync(s);
        var ccClient = await (await s.AdminWithKey.PostJson("/admin/clients", """{"grant_types":["client_credentials"]}""")).Json(HttpStatusCode.Created);
        var (noGrant, noGrantSecret) = (ccClient["client_id"]!.GetValue<string>(), ccClient["client_secret"]!.GetValue<string>());
        var tokenUrl = s.PublicUrl + "/oauth2/token";

        var assertion = Sign(key, Assertion("alice", tokenUrl, now));
        var t = (await (await GrantAsync(s, id, secret, assertion, "read photos.view")).Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal(["access_token", "expires_in", "scope", "token_type"], t.Select(kv => kv.Key));
        Assert.Equal("read photos.view", t["scope"]!.GetValue<string>());
        var i = await (await s.AdminWithKey.PostAsync("/admin/oauth2/introspect", new FormUrlEncodedContent([new("token", t["access_token"]!.GetValue<string>())]))).Json(HttpStatusCode.OK);
        Assert.Equal("alice", i["sub"]!.GetValue<string>());
        Assert.Equal(id, i["client_id"]!.GetValue<string>());
        Assert.Equal("[]", i["aud"]!.ToJsonString());

        // Replay.
        await AssertError(await GrantAsync(s, id, secret, assertion), HttpStatusCode.BadRequest, "jti_known", "The jti was already used.");
        // Any subject of an allow_any_subject issuer, found without a kid.
        var anyClaims = Assertion("bob", tokenUrl, now, "https://any.example");
        var anySigned = new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().CreateToken(anyClaims.ToJsonString(),
            new Microsoft.IdentityModel.Tokens.SigningCredentials(new Microsoft.IdentityModel.Tokens.ECDsaSecurityKey(((Microsoft.IdentityModel.Tokens.ECDsaSecurityKey)anyKey.Credentials.Key).ECDsa), "ES256"));
        await (await GrantAsync(s, id, secret, anySigned)).Json(HttpStatusCode.OK);

        int before;
        await using (var scope = s.Services.CreateAsyncScope())
            before = await scope.ServiceProvider.GetRequiredService<Gatehouse.Persistence.GatehouseDbContext>().OAuth2Tokens.CountAsync();
        // Errors, each with fosite's hint; none issues a token or spends a jti.
        await AssertError(await GrantAsync(s, id, secret, Sign(key, Assertion("alice", tokenUrl, now)), "admin"), HttpStatusCode.BadRequest, "invalid_scope",
            "The public key registered for issuer 'https://idp.example' and subject 'alice' is not allowed to request scope 'admin'.");
        await AssertError(await GrantAsync(s, id, secret, Sign(key, Assertion("mallory", tokenUrl, now))), HttpStatusCode.BadRequest, "invalid_grant",
            "No public JWK was registered for issuer 'https://idp.example' and subject 'mallory'");
        await AssertError(await GrantAsync(s, id, secret, Sign(key, Assertion("alice", tokenUrl, now, "https://unknown.example"))), HttpStatusCode.BadRequest, "invalid_grant", "No public JWK was registered for issuer 'https://unknown.example'");
        await AssertError(await GrantAsync(s, id, secret, Sign(ClientKey.Rsa("idp-1"), Assertion("alice", tokenUrl, now))), HttpStatusCode.BadRequest, "invalid_grant", "Unable to verify the integrity of the 'assertion' value.");
        await AssertError(await GrantAsync(s, id, secret, Sign(key, Assertion("alice", "https://evil.example/token", now))), HttpStatusCode.BadRequest, "invalid_grant", "MUST contain an 'aud' (audience) claim containing a value");
        await AssertError(await GrantAsync(s, id, secret, Sign(key, Assertion("alice", tokenUrl, now.AddMinutes(-10)))), HttpStatusCode.BadRequest, "invalid_grant", "The JWT in 'assertion' request parameter expired.");
        var noJti = Assertion("alice", tokenUrl, now);
        noJti.Remove("jti");
        await AssertError(await GrantAsync(s, id, secret, Sign(key, noJti)), HttpStatusCode.BadRequest, "invalid_grant", "MUST contain an 'jti' (JWT ID) claim.");
        var noIat = Assertion("alice", tokenUrl, now);
        noIat.Remove("iat");
        await AssertError(await GrantAsync(s, id, secret, Sign(key, noIat)), HttpStatusCode.BadRequest, "invalid_grant", "MUST contain an 'iat' (issued at) claim.");
        var tooLong = Assertion("alice", tokenUrl, now);
        tooLong["exp"] = now.AddDays(31).ToUnixTimeSeconds();
        await AssertError(await GrantAsync(s, id, secret, Sign(key, tooLong)), HttpStatusCode.BadRequest, "invalid_grant", "unreasonably far in the future");
        var noIss = Assertion("alice", tokenUrl, now);
        noIss.Remove("iss");
        await AssertError(await GrantAsync(s, id, secret, Sign(key, noIss)), HttpStatusCode.BadRequest, "invalid_grant", "MUST contain an 'iss' (issuer) claim.");
        await AssertError(await GrantAsync(s, id, secret, "garbage"), HttpStatusCode.BadRequest, "invalid_grant", "Unable to parse JSON Web Token passed in 'assertion' request parameter.");
        await AssertError(await GrantAsync(s, id, secret, ""), HttpStatusCode.BadRequest, "invalid_request", "The assertion request parameter must be set");
        await AssertError(await GrantAsync(s, noGrant, noGrantSecret, Sign(key, Assertion("alice", tokenUrl, now))), HttpStatusCode.BadRequest, "unauthorized_client", "is not allowed to use authorization grant");
        await (await GrantAsync(s, id, "wrong", Sign(key, Assertion("alice", tokenUrl, now)))).OAuth2Error(HttpStatusCode.Unauthorized, "invalid_client");
        await using (var scope = s.Services.CreateAsyncScope())
        {
            var ctx = scope.ServiceProvider.GetRequiredService<Gatehouse.Persistence.GatehouseDbContext>();
            Assert.Equal(before, await ctx.OAuth2Tokens.CountAsync());
            Assert.Equal(2, await ctx.OAuth2JwtAssertions.CountAsync());
        }

        // After the trust expires its key is no longer accepted, and the janitor removes it.
        clock.Advance(TimeSpan.FromHours(3));
        await AssertError(await GrantAsync(s, id, secret, Sign(key, Assertion("alice", tokenUrl, clock.GetUtcNow()))), HttpStatusCode.BadRequest, "invalid_grant", "No public JWK was registered");
        var cleaned = await s.Services.GetRequiredService<Gatehouse.Persistence.Cleanup.DatabaseCleanup>().RunAsync(TimeSpan.Zero, 10, TimeSpan.Zero, null, TestContext.Current.CancellationToken);
        Assert.Contains(cleaned.Tables, t => t.Name == "expired OAuth2 trusted JWT issuers" && t.Deleted == 2);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Jti_and_iat_may_be_optional_by_configuration(string db)
    {
        await using var s = await TestServer.StartAsync(db, o =>
        {
            o.Oauth2.Grant.Jwt.JtiOptional = true;
            o.Oauth2.Grant.Jwt.IatOptional = true;
            o.Oauth2.Grant.Jwt.MaxTtl = TimeSpan.FromMinutes(10);
        });
        var key = ClientKey.Rsa("idp-1");
        await (await TrustAsync(s, TrustBody(key, "alice", "[]", DateTimeOffset.UtcNow.AddHours(1)))).Json(HttpStatusCode.Created);
        var (id, secret) = await CreateClientAsync(s, ""","access_token_strategy":"jwt" """);
        var claims = Assertion("alice", s.PublicUrl + "/oauth2/token", DateTimeOffset.UtcNow);
        claims.Remove("jti");
        claims.Remove("iat");
        var t = await (await GrantAsync(s, id, secret, Sign(key, claims))).Json(HttpStatusCode.OK);
        Assert.Equal(3, t["access_token"]!.GetValue<string>().Split('.').Length);
        claims["exp"] = DateTimeOffset.UtcNow.AddMinutes(20).ToUnixTimeSeconds();
        await AssertError(await GrantAsync(s, id, secret, Sign(key, claims)), HttpStatusCode.BadRequest, "invalid_grant", "unreasonably far in the future");
    }
}
