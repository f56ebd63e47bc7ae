using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Sessions;
using Gatehouse.Tests.Infrastructure;
using Microsoft.IdentityModel.Tokens;
using static Gatehouse.Tests.Sessions.SessionFixtures;

namespace Gatehouse.Tests.Sessions;

/// <summary>One server per provider with tokenizer templates: an RSA key, and an EC key with a claims mapper.</summary>
public sealed class TokenizerServerFixture : IAsyncDisposable
{
    public const string Mapper = """
        local session = std.extVar('session');
        local claims = std.extVar('claims');
        { claims: { email: session.identity.traits.email, schema_id: session.identity.schema_id, aal: session.authenticator_assurance_level, sub: 'ignored', copy_of_exp: claims.exp } }
        """;

    private readonly Dictionary<string, Task<TestServer>> _servers = [];
    private readonly Lock _lock = new();

    public RSA Rsa { get; } = RSA.Create(2048);
    public ECDsa Ec { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public Task<TestServer> Get(string provider)
    {
        lock (_lock)
        {
            if (!_servers.TryGetValue(provider, out var server))
            {
                server = TestServer.StartAsync(provider, o =>
                {
                    var templates = o.Session.Whoami.Tokenizer.Templates;
                    templates["rsa"] = new TokenizerTemplateOptions { JwksUrl = TestJwks.Base64Url(TestJwks.Set(TestJwks.Rsa(Rsa))) };
                    templates["ec_external"] = new TokenizerTemplateOptions
                    {
                        JwksUrl = TestJwks.Base64Url(TestJwks.Set(TestJwks.Ec(Ec))),
                        ClaimsMapperUrl = TestJwks.Base64Url(Mapper),
                        SubjectSource = "external_id",
                        Ttl = TimeSpan.FromMinutes(5),
                    };
                });
                _servers[provider] = server;
            }
            return server;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _servers.Values)
        {
            if (s.IsCompletedSuccessfully) await s.Result.DisposeAsync();
        }
        Rsa.Dispose();
        Ec.Dispose();
    }
}

/// <summary><c>GET /sessions/whoami?tokenize_as=...</c> through the public listener.</summary>
public sealed class TokenizeAsTests(TokenizerServerFixture fixture) : IClassFixture<TokenizerServerFixture>
{
    private static WhoamiCache Cache(TestServer s) => s.Services.GetRequiredService<WhoamiCache>();

    /// <summary>On PostgreSQL the whoami cache turns on once its listener is connected.</summary>
    private async Task<TestServer> Server(string db)
    {
        var s = await fixture.Get(db);
        await s.WhoamiCacheOnAsync();
        return s;
    }

    private static string Issuer(TestServer s) => s.PublicUrl + "/";

    private static async Task<(HttpResponseMessage Response, string Body)> Send(HttpClient client, HttpRequestMessage request)
    {
        var response = await client.SendAsync(request);
        return (response, await response.Content.ReadAsStringAsync());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Tokenize_as_adds_a_jwt_of_the_session_to_the_unchanged_whoami_body(string db)
    {
        var s = await Server(db);
        var (identity, issued) = await IdentityWithSession(s);
        using var client = Client(s.PublicUrl);

        var (response, body) = await Send(client, Get("/sessions/whoami?tokenize_as=rsa", token: issued.Token));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Id(identity).ToString(), response.Headers.GetValues("X-Kratos-Authenticated-Identity-Id").Single());
        var node = JsonNode.Parse(body)!.AsObject();
        Assert.Equal(
            ["id", "active", "expires_at", "authenticated_at", "authenticator_assurance_level", "authentication_methods", "issued_at", "identity", "devices", "tokenized"],
            node.Select(p => p.Key));
        var token = node["tokenized"]!.GetValue<string>();
        node.Remove("tokenized");
        var (_, plain) = await Send(client, Get("/sessions/whoami", token: issued.Token));
        Assert.Equal(plain, node.ToJsonString(Gatehouse.Http.Json.HttpJson.Options));

        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var validated = await TestJwks.ValidateAsync(token, new RsaSecurityKey(fixture.Rsa.ExportParameters(false)), Issuer(s));
        Assert.Equal("RS256", validated.Alg);
        Assert.Equal("rsa-key", validated.Kid);
        var payload = TestJwks.Decode(token).Payload;
        Assert.Equal(["exp", "iat", "iss", "jti", "nbf", "sid", "sub"], payload.Select(p => p.Key));
        Assert.Equal(Issuer(s), payload["iss"]!.GetValue<string>());
        Assert.Equal(Id(identity).ToString(), payload["sub"]!.GetValue<string>());
        Assert.Equal(issued.Session.Id.ToString(), payload["sid"]!.GetValue<string>());
        var iat = payload["iat"]!.GetValue<long>();
        Assert.InRange(iat, before - 60, before + 5);
        Assert.Equal(iat, payload["nbf"]!.GetValue<long>());
        Assert.Equal(iat + 60, payload["exp"]!.GetValue<long>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_ec_template_signs_with_the_external_id_as_subject_and_the_mapper_s_claims(string db)
    {
        var s = await Server(db);
        var externalId = "ext-" + Guid.NewGuid().ToString("N");
        var identity = await CreateIdentity(s, extra: $$""","external_id":"{{externalId}}" """);
        var issued = await Issue(s, Id(identity));
        using var client = Client(s.PublicUrl);

        var (response, body) = await Send(client, Get("/sessions/whoami?tokenize_as=ec_external", token: issued.Token));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var token = JsonNode.Parse(body)!["tokenized"]!.GetValue<string>();
        await TestJwks.ValidateAsync(token, new ECDsaSecurityKey(ECDsa.Create(fixture.Ec.ExportParameters(false))), Issuer(s));
        var (header, payload) = TestJwks.Decode(token);
        Assert.Equal("""{"alg":"ES256","kid":"ec-key","typ":"JWT"}""", header.ToJsonString());
        Assert.Equal(externalId, payload["sub"]!.GetValue<string>());
        Assert.Equal(identity["traits"]!["email"]!.GetValue<string>(), payload["email"]!.GetValue<string>());
        Assert.Equal("default", payload["schema_id"]!.GetValue<string>());
        Assert.Equal("aal1", payload["aal"]!.GetValue<string>());
        Assert.Equal(payload["exp"]!.GetValue<long>(), payload["copy_of_exp"]!.GetValue<long>());
        Assert.Equal(300, payload["exp"]!.GetValue<long>() - payload["iat"]!.GetValue<long>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Each_call_gets_a_new_token_and_neither_reads_nor_fills_the_whoami_cache(string db)
    {
        var s = await Server(db);
        var (_, issued) = await IdentityWithSession(s);
        var hash = SessionTokens.Hash(issued.Token);
        using var client = Client(s.PublicUrl);

        var jtis = new HashSet<string>();
        for (var i = 0; i < 3; i++)
        {
            var (response, body) = await Send(client, Get("/sessions/whoami?tokenize_as=rsa", token: issued.Token));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            jtis.Add(TestJwks.Decode(JsonNode.Parse(body)!["tokenized"]!.GetValue<string>()).Payload["jti"]!.GetValue<string>());
        }
        Assert.Equal(3, jtis.Count);
        Assert.False(Cache(s).TryGet(hash, out _), "a tokenized answer was cached");

        // Plain whoami: cached as before, and untouched by tokenized calls in between.
        var (_, plain) = await Send(client, Get("/sessions/whoami", token: issued.Token));
        Assert.True(Cache(s).TryGet(hash, out var entry), "plain whoami was not cached");
        Assert.DoesNotContain("tokenized", plain, StringComparison.Ordinal);
        var (_, tokenized) = await Send(client, Get("/sessions/whoami?tokenize_as=rsa", token: issued.Token));
        Assert.Contains("\"tokenized\":", tokenized, StringComparison.Ordinal);
        Assert.True(Cache(s).TryGet(hash, out var after));
        Assert.Same(entry, after);
        var (_, again) = await Send(client, Get("/sessions/whoami", token: issued.Token));
        Assert.Equal(plain, again);
        // An empty tokenize_as is no tokenize_as (Kratos): the cached plain answer.
        var (_, empty) = await Send(client, Get("/sessions/whoami?tokenize_as=", token: issued.Token));
        Assert.Equal(plain, empty);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_revoked_session_gets_no_token_even_when_its_plain_answer_was_cached(string db)
    {
        var s = await Server(db);
        var (_, issued) = await IdentityWithSession(s);
        using var client = Client(s.PublicUrl);
        await Send(client, Get("/sessions/whoami", token: issued.Token));

        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync($"/admin/sessions/{issued.Session.Id}")).StatusCode);

        var (response, body) = await Send(client, Get("/sessions/whoami?tokenize_as=rsa", token: issued.Token));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.DoesNotContain("tokenized", body, StringComparison.Ordinal);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Kratos_errors_unknown_template_400_missing_external_id_400_no_session_401(string db)
    {
        var s = await Server(db);
        var (_, issued) = await IdentityWithSession(s);
        using var client = Client(s.PublicUrl);

        var (unknown, unknownBody) = await Send(client, Get("/sessions/whoami?tokenize_as=nope", token: issued.Token));
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal("""{"error":{"code":400,"status":"Bad Request","reason":"Unable to find tokenizer template \"nope\".","message":"The request was malformed or contained invalid parameters"}}""", unknownBody);
        Assert.False(unknown.Headers.Contains("X-Kratos-Authenticated-Identity-Id"));

        var (noExternal, noExternalBody) = await Send(client, Get("/sessions/whoami?tokenize_as=ec_external", token: issued.Token));
        Assert.Equal(HttpStatusCode.BadRequest, noExternal.StatusCode);
        Assert.Equal("The session's identity does not have an external ID set, but it is required for the subject claim.", JsonNode.Parse(noExternalBody)!["error"]!["reason"]!.GetValue<string>());

        // The session is looked up first, as in Kratos: without one, even an unknown template is 401.
        var (anonymous, anonymousBody) = await Send(client, Get("/sessions/whoami?tokenize_as=nope"));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("""{"error":{"code":401,"status":"Unauthorized","reason":"No valid session credentials found in the request.","message":"The request could not be authorized"}}""", anonymousBody);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Tokenize_as_works_with_the_session_cookie(string db)
    {
        var s = await Server(db);
        var (_, issued) = await IdentityWithSession(s);
        using var client = Client(s.PublicUrl);

        var (response, body) = await Send(client, Get("/sessions/whoami?tokenize_as=rsa", cookie: CookieHeader(s, issued)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var token = JsonNode.Parse(body)!["tokenized"]!.GetValue<string>();
        var validated = await TestJwks.ValidateAsync(token, new RsaSecurityKey(fixture.Rsa.ExportParameters(false)), Issuer(s));
        Assert.Equal(issued.Session.Id.ToString(), validated.GetClaim("sid").Value);
    }
}
