using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Hooks;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Tests.OAuth2;

/// <summary><c>private_key_jwt</c> at the token and revocation endpoints (RFC 7523 2.2), with fosite's checks and errors.</summary>
public sealed class PrivateKeyJwtTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private const string AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    private static readonly JsonWebTokenHandler Handler = new();

    /// <summary>A client-side signing key and its public JWK.</summary>
    internal sealed record ClientKey(SigningCredentials Credentials, JsonObject PublicJwk)
    {
        public static ClientKey Rsa(string kid, string alg = "RS256", string? use = "sig")
        {
            var rsa = RSA.Create(2048);
            var p = rsa.ExportParameters(false);
            var jwk = new JsonObject { ["kty"] = "RSA", ["kid"] = kid, ["n"] = Base64Url.EncodeToString(p.Modulus), ["e"] = Base64Url.EncodeToString(p.Exponent) };
            if (use is not null) jwk["use"] = use;
            return new ClientKey(new SigningCredentials(new RsaSecurityKey(rsa) { KeyId = kid }, alg), jwk);
        }

        public static ClientKey Ec(string kid)
        {
            var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var p = ec.ExportParameters(false);
            var jwk = new JsonObject { ["kty"] = "EC", ["kid"] = kid, ["use"] = "sig", ["crv"] = "P-256", ["x"] = Base64Url.EncodeToString(p.Q.X), ["y"] = Base64Url.EncodeToString(p.Q.Y) };
            return new ClientKey(new SigningCredentials(new ECDsaSecurityKey(ec) { KeyId = kid }, "ES256"), jwk);
        }
    }

    internal static string Sign(ClientKey key, JsonObject claims) => Handler.CreateToken(claims.ToJsonString(), key.Credentials);

    internal static JsonObject Claims(string clientId, string aud, DateTimeOffset now, string? jti = null, TimeSpan? lifetime = null) => new()
    {
        ["iss"] = clientId,
        ["sub"] = clientId,
        ["aud"] = aud,
        ["jti"] = jti ?? Guid.NewGuid().ToString(),
        ["iat"] = now.ToUnixTimeSeconds(),
        ["exp"] = (now + (lifetime ?? TimeSpan.FromMinutes(5))).ToUnixTimeSeconds(),
    };

    private static async Task<string> CreateClientAsync(TestServer s, string extra)
    {
        var c = await (await s.AdminWithKey.PostJson("/admin/clients", $$"""{"grant_types":["client_credentials"],"scope":"read","token_endpoint_auth_method":"private_key_jwt"{{extra}}}""")).Json(HttpStatusCode.Created);
        return c["client_id"]!.GetValue<string>();
    }

    private static string Jwks(params ClientKey[] keys) => new JsonObject { ["keys"] = new JsonArray([.. keys.Select(k => (JsonNode)k.PublicJwk.DeepClone())]) }.ToJsonString();

    private static Task<HttpResponseMessage> TokenAsync(TestServer s, string assertion, params (string, string)[] extra) =>
        s.Public.PostAsync("/oauth2/token", new FormUrlEncodedContent(
            [new("grant_type", "client_credentials"), new("client_assertion_type", AssertionType), new("client_assertion", assertion), .. extra.Select(e => new KeyValuePair<string, string>(e.Item1, e.Item2))]));

    private static async Task<int> UsedJtiCountAsync(TestServer s)
    {
        await using var scope = s.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<Gatehouse.Persistence.GatehouseDbContext>().OAuth2JwtAssertions.CountAsync();
    }

    private static async Task<int> TokenCountAsync(TestServer s, string clientId)
    {
        await using var scope = s.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<Gatehouse.Persistence.GatehouseDbContext>().OAuth2Tokens.CountAsync(t => t.ClientId == clientId);
    }

    private static async Task AssertError(HttpResponseMessage res, HttpStatusCode status, string error, string descriptionPart)
    {
        var e = await res.OAuth2Error(status, error);
        Assert.Contains(descriptionPart, e["error_description"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_signed_assertion_authenticates_the_client_once_at_token_and_revocation(string db)
    {
        var s = await fixture.Get(db);
        var key = ClientKey.Rsa("k1");
        var id = await CreateClientAsync(s, $$""","jwks":{{Jwks(key)}}""");
        var tokenUrl = s.PublicUrl + "/oauth2/token";

        var assertion = Sign(key, Claims(id, tokenUrl, DateTimeOffset.UtcNow));
        var t = await (await TokenAsync(s, assertion, ("scope", "read"))).Json(HttpStatusCode.OK);
        var access = t["access_token"]!.GetValue<string>();
        Assert.StartsWith("ory_at_", access);
        Assert.Equal("read", t["scope"]!.GetValue<string>());

        // The same assertion again: its jti was used (fosite's jti_known).
        await AssertError(await TokenAsync(s, assertion), HttpStatusCode.BadRequest, "jti_known", "The jti was already used. Claim 'jti' from 'client_assertion' MUST only be used once.");

        // An array aud naming the token endpoint works too, and client_id in the form is allowed when it matches.
        var claims = Claims(id, tokenUrl, DateTimeOffset.UtcNow);
        claims["aud"] = new JsonArray("https://elsewhere.example", tokenUrl);
        await (await TokenAsync(s, Sign(key, claims), ("client_id", id))).Json(HttpStatusCode.OK);

        // Revocation authenticates the same way.
        var revoke = await s.Public.PostAsync("/oauth2/revoke", new FormUrlEncodedContent(
            [new("token", access), new("client_assertion_type", AssertionType), new("client_assertion", Sign(key, Claims(id, tokenUrl, DateTimeOffset.UtcNow)))]));
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        var i = await (await s.AdminWithKey.PostAsync("/admin/oauth2/introspect", new FormUrlEncodedContent([new("token", access)]))).Json(HttpStatusCode.OK);
        Assert.False(i["active"]!.GetValue<bool>());

        // A private_key_jwt client cannot fall back to its secret.
        var basic = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token") { Content = new FormUrlEncodedContent([new("grant_type", "client_credentials")]) };
        basic.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(id + ":whatever")));
        await AssertError(await s.Public.SendAsync(basic), HttpStatusCode.Unauthorized, "invalid_client", "supports client authentication method 'private_key_jwt', but method 'client_secret_basic' was requested");
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Bad_assertions_get_fosites_errors_and_write_nothing(string db)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var s = await TestServer.StartAsync(db, configureServices: services => services.AddSingleton<TimeProvider>(clock));
        var key = ClientKey.Rsa("k1");
        var id = await CreateClientAsync(s, $$""","jwks":{{Jwks(key)}}""");
        var ecClient = await CreateClientAsync(s, $$""","token_endpoint_auth_signing_alg":"ES256","jwks":{{Jwks(key)}}""");
        var secretClient = (await (await s.AdminWithKey.PostJson("/admin/clients", """{"grant_types":["client_credentials"]}""")).Json(HttpStatusCode.Created))["client_id"]!.GetValue<string>();
        var publicClient = (await (await s.AdminWithKey.PostJson("/admin/clients", """{"grant_types":["client_credentials"],"token_endpoint_auth_method":"none"}""")).Json(HttpStatusCode.Created))["client_id"]!.GetValue<string>();
        var noSig = ClientKey.Rsa("k2", use: null);
        var noSigClient = await CreateClientAsync(s, $$""","jwks":{{Jwks(noSig)}}""");
        var tokenUrl = s.PublicUrl + "/oauth2/token";
        var now = clock.GetUtcNow();
        JsonObject Good(string cid) => Claims(cid, tokenUrl, now);

        // Wrong key under the registered kid.
        var impostor = ClientKey.Rsa("k1");
        await AssertError(await TokenAsync(s, Sign(impostor, Good(id))), HttpStatusCode.Unauthorized, "invalid_client", "Unable to verify the integrity of the 'client_assertion' value.");
        // Unknown kid; a key without use=sig.
        await AssertError(await TokenAsync(s, Sign(ClientKey.Rsa("other"), Good(id))), HttpStatusCode.BadRequest, "invalid_request", "The JSON Web Token uses signing key with kid 'other', which could not be found.");
        await AssertError(await TokenAsync(s, Sign(noSig, Good(noSigClient))), HttpStatusCode.BadRequest, "invalid_request", "Unable to find RSA public key with use='sig' for kid 'k2' in JSON Web Key Set.");
        // Wrong audience.
        await AssertError(await TokenAsync(s, Sign(key, Claims(id, "https://evil.example/oauth2/token", now))), HttpStatusCode.Unauthorized, "invalid_client",
            $"Claim 'audience' from 'client_assertion' must match the authorization server's token endpoint '{tokenUrl}'.");
        // Expired, not yet valid, no exp.
        await AssertError(await TokenAsync(s, Sign(key, Claims(id, tokenUrl, now - TimeSpan.FromMinutes(10)))), HttpStatusCode.Unauthorized, "invalid_client", "its claims could not be validated");
        var future = Good(id);
        future["nbf"] = (now + TimeSpan.FromMinutes(1)).ToUnixTimeSeconds();
        await AssertError(await TokenAsync(s, Sign(key, future)), HttpStatusCode.Unauthorized, "invalid_client", "its claims could not be validated");
        var noExp = Good(id);
        noExp.Remove("exp");
        await AssertError(await TokenAsync(s, Sign(key, noExp)), HttpStatusCode.Unauthorized, "invalid_client", "Unable to type assert the expiry time from claims.");
        // iss / sub / jti.
        var wrongIss = Good(id);
        wrongIss["iss"] = "someone-else";
        await AssertError(await TokenAsync(s, Sign(key, wrongIss)), HttpStatusCode.Unauthorized, "invalid_client", "Claim 'iss' from 'client_assertion' must match the 'client_id' of the OAuth 2.0 Client.");
        await AssertError(await TokenAsync(s, Sign(key, Good(id)), ("client_id", ecClient)), HttpStatusCode.Unauthorized, "invalid_client", "The 'client_assertion' uses signing algorithm 'RS256' but the requested OAuth 2.0 Client enforces signing algorithm 'ES256'.");
        var wrongSub = Good(id);
        wrongSub["sub"] = "someone-else";
        await AssertError(await TokenAsync(s, Sign(key, wrongSub), ("client_id", id)), HttpStatusCode.Unauthorized, "invalid_client", "Claim 'sub' from 'client_assertion' must match the 'client_id' of the OAuth 2.0 Client.");
        var noJti = Good(id);
        noJti.Remove("jti");
        await AssertError(await TokenAsync(s, Sign(key, noJti)), HttpStatusCode.Unauthorized, "invalid_client", "Claim 'jti' from 'client_assertion' must be set but is not.");
        var noSub = Good(id);
        noSub.Remove("sub");
        await AssertError(await TokenAsync(s, Sign(key, noSub)), HttpStatusCode.Unauthorized, "invalid_client", "The claim 'sub' from the client_assertion JSON Web Token is undefined.");
        // Clients with other methods; unknown clients.
        await AssertError(await TokenAsync(s, Sign(key, Good(secretClient))), HttpStatusCode.Unauthorized, "invalid_client", "only supports client authentication method 'client_secret_basic', however 'client_assertion' was provided");
        await AssertError(await TokenAsync(s, Sign(key, Good(publicClient))), HttpStatusCode.Unauthorized, "invalid_client", "does not support client authentication, however 'client_assertion' was provided");
        await (await TokenAsync(s, Sign(key, Good("no-such-client")))).OAuth2Error(HttpStatusCode.Unauthorized, "invalid_client");
        // Malformed input.
        await AssertError(await TokenAsync(s, "not.a.jwt"), HttpStatusCode.Unauthorized, "invalid_client", "Unable to verify the integrity of the 'client_assertion' value.");
        await AssertError(await TokenAsync(s, ""), HttpStatusCode.BadRequest, "invalid_request", "The client_assertion request parameter must be set when using client_assertion_type");
        var unsigned = Handler.CreateToken(Good(id).ToJsonString());
        await AssertError(await TokenAsync(s, unsigned), HttpStatusCode.Unauthorized, "invalid_client", "Unable to verify the integrity of the 'client_assertion' value.");
        var other = await s.Public.PostAsync("/oauth2/token", new FormUrlEncodedContent([new("grant_type", "client_credentials"), new("client_assertion_type", "urn:example:saml"), new("client_assertion", "x")]));
        await AssertError(other, HttpStatusCode.BadRequest, "invalid_request", "Unknown client_assertion_type 'urn:example:saml'.");

        Assert.Equal(0, await UsedJtiCountAsync(s));
        Assert.Equal(0, await TokenCountAsync(s, id));

        // A jti blocks only until its assertion expires; the janitor removes it then.
        var jti = Guid.NewGuid().ToString();
        await (await TokenAsync(s, Sign(key, Claims(id, tokenUrl, now, jti)))).Json(HttpStatusCode.OK);
        await AssertError(await TokenAsync(s, Sign(key, Claims(id, tokenUrl, now, jti))), HttpStatusCode.BadRequest, "jti_known", "MUST only be used once");
        clock.Advance(TimeSpan.FromMinutes(6));
        Assert.Equal(1, await UsedJtiCountAsync(s));
        var cleaned = await s.Services.GetRequiredService<Gatehouse.Persistence.Cleanup.DatabaseCleanup>().RunAsync(TimeSpan.Zero, 10, TimeSpan.Zero, null, TestContext.Current.CancellationToken);
        Assert.Contains(cleaned.Tables, t => t.Name == "expired OAuth2 JWT assertion ids" && t.Deleted == 1);
        await (await TokenAsync(s, Sign(key, Claims(id, tokenUrl, clock.GetUtcNow(), jti)))).Json(HttpStatusCode.OK);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Keys_from_jwks_uri_are_fetched_cached_and_refetched_for_an_unknown_kid(string db)
    {
        var s = await fixture.Get(db);
        await using var receiver = await HookReceiver.StartAsync();
        var first = ClientKey.Ec("ec1");
        var current = Jwks(first);
        var uri = receiver.On("/jwks.json", (_, _) => Task.FromResult((200, (string?)current)));
        var id = await CreateClientAsync(s, $$""","token_endpoint_auth_signing_alg":"ES256","jwks_uri":"{{uri}}" """);
        var tokenUrl = s.PublicUrl + "/oauth2/token";

        await (await TokenAsync(s, Sign(first, Claims(id, tokenUrl, DateTimeOffset.UtcNow)))).Json(HttpStatusCode.OK);
        await (await TokenAsync(s, Sign(first, Claims(id, tokenUrl, DateTimeOffset.UtcNow)))).Json(HttpStatusCode.OK);
        Assert.Single(receiver.Received("/jwks.json"));

        // The client rotates: a kid the cached set lacks makes the server fetch again.
        var second = ClientKey.Ec("ec2");
        current = Jwks(first, second);
        await (await TokenAsync(s, Sign(second, Claims(id, tokenUrl, DateTimeOffset.UtcNow)))).Json(HttpStatusCode.OK);
        Assert.Equal(2, receiver.Received("/jwks.json").Count);

        // A key set that cannot be fetched or read is the client's failure, not a 500.
        var broken = await CreateClientAsync(s, $$""","token_endpoint_auth_signing_alg":"ES256","jwks_uri":"{{receiver.On("/broken.json", 500, "oops")}}" """);
        await AssertError(await TokenAsync(s, Sign(first, Claims(broken, tokenUrl, DateTimeOffset.UtcNow))), HttpStatusCode.Unauthorized, "invalid_client", "Expected successful status code in range of 200 - 399");
        var garbage = await CreateClientAsync(s, $$""","token_endpoint_auth_signing_alg":"ES256","jwks_uri":"{{receiver.On("/garbage.json", 200, "{\"keys\":[{\"kty\":\"EC\"}]}")}}" """);
        await AssertError(await TokenAsync(s, Sign(first, Claims(garbage, tokenUrl, DateTimeOffset.UtcNow))), HttpStatusCode.Unauthorized, "invalid_client", "Unable to decode JSON Web Keys from location");
        var down = await CreateClientAsync(s, $$""","token_endpoint_auth_signing_alg":"ES256","jwks_uri":"http://127.0.0.1:{{TestServer.FreePort()}}/jwks.json" """);
        await AssertError(await TokenAsync(s, Sign(first, Claims(down, tokenUrl, DateTimeOffset.UtcNow))), HttpStatusCode.Unauthorized, "invalid_client", "Unable to fetch JSON Web Keys from location");
        Assert.Equal(0, await TokenCountAsync(s, broken) + await TokenCountAsync(s, garbage) + await TokenCountAsync(s, down));
    }
}
