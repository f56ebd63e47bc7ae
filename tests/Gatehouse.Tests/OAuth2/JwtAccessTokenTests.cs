using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.OAuth2.Keys;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Tests.OAuth2;

/// <summary>JWT access tokens: Hydra's <c>strategies.access_token: jwt</c> and the client's <c>access_token_strategy</c>.</summary>
public sealed class JwtAccessTokenTests
{
    private const string LoginUrl = "https://login.example/login";
    private const string ConsentUrl = "https://login.example/consent";
    private const string RedirectUri = "https://app.example/callback";

    private static Task<TestServer> StartAsync(string db, Action<Gatehouse.Config.GatehouseOptions>? configure = null, TimeProvider? clock = null) =>
        TestServer.StartAsync(db, o =>
        {
            o.Urls.Login = LoginUrl;
            o.Urls.Consent = ConsentUrl;
            configure?.Invoke(o);
        }, services =>
        {
            services.AddSingleton(new KeyGeneration { RsaBits = 2048 });
            if (clock is not null) services.AddSingleton(clock);
        });

    private static async Task<(string Id, string Secret)> CreateClientAsync(TestServer s, string json)
    {
        var c = await (await s.AdminWithKey.PostJson("/admin/clients", json)).Json(HttpStatusCode.Created);
        return (c["client_id"]!.GetValue<string>(), c["client_secret"]?.GetValue<string>() ?? "");
    }

    private static HttpRequestMessage TokenRequest(string clientId, string secret, params (string, string)[] form)
    {
        var req = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token") { Content = new FormUrlEncodedContent(form.Select(f => new KeyValuePair<string, string>(f.Item1, f.Item2))) };
        req.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{clientId}:{secret}")));
        return req;
    }

    private static async Task<JsonObject> IntrospectAsync(TestServer s, string token) =>
        (await (await s.AdminWithKey.PostAsync("/admin/oauth2/introspect", new FormUrlEncodedContent([new("token", token)]))).Json(HttpStatusCode.OK)).AsObject();

    /// <summary>Verifies the JWT against the published JWKS and returns its header and claims.</summary>
    private static async Task<(JsonWebToken Token, JsonObject Claims)> VerifyAsync(TestServer s, string jwt)
    {
        var jwks = new JsonWebKeySet(await s.Public.GetStringAsync("/.well-known/jwks.json"));
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(jwt, new TokenValidationParameters
        {
            IssuerSigningKeys = jwks.GetSigningKeys(),
            ValidIssuer = s.PublicUrl + "/",
            ValidateAudience = false,
        });
        Assert.True(result.IsValid, result.Exception?.Message);
        var token = (JsonWebToken)result.SecurityToken;
        return (token, JsonNode.Parse(Base64UrlEncoder.Decode(token.EncodedPayload))!.AsObject());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_client_with_access_token_strategy_jwt_gets_a_signed_jwt_that_introspects_and_revokes(string db)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var s = await StartAsync(db, clock: clock);
        var (id, secret) = await CreateClientAsync(s, """{"grant_types":["client_credentials"],"scope":"read write","audience":["https://api.example"],"access_token_strategy":"jwt"}""");
        var (opaqueId, opaqueSecret) = await CreateClientAsync(s, """{"grant_types":["client_credentials"]}""");

        var t = await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "client_credentials"), ("scope", "read"), ("audience", "https://api.example")))).Json(HttpStatusCode.OK);
        var jwt = t["access_token"]!.GetValue<string>();
        Assert.Equal(3600, t["expires_in"]!.GetValue<long>());
        var (token, claims) = await VerifyAsync(s, jwt);
        Assert.Equal("JWT", token.Typ);
        Assert.False(string.IsNullOrEmpty(token.Kid));
        Assert.Equal(["aud", "client_id", "exp", "ext", "iat", "iss", "jti", "nbf", "scp", "sub"], claims.Select(kv => kv.Key));
        Assert.Equal("""["https://api.example"]""", claims["aud"]!.ToJsonString());
        Assert.Equal(id, claims["client_id"]!.GetValue<string>());
        Assert.Equal(id, claims["sub"]!.GetValue<string>());
        Assert.Equal("""["read"]""", claims["scp"]!.ToJsonString());
        Assert.Equal("{}", claims["ext"]!.ToJsonString());
        Assert.Equal(clock.GetUtcNow().ToUnixTimeSeconds(), claims["iat"]!.GetValue<long>());
        Assert.Equal(claims["iat"]!.GetValue<long>(), claims["nbf"]!.GetValue<long>());
        Assert.Equal(3600, claims["exp"]!.GetValue<long>() - claims["iat"]!.GetValue<long>());
        // The key is in hydra.jwt.access-token, and the JWKS publishes it.
        var set = await (await s.AdminWithKey.GetAsync("/admin/keys/hydra.jwt.access-token")).Json(HttpStatusCode.OK);
        Assert.Equal(token.Kid, set["keys"]![0]!["kid"]!.GetValue<string>());

        var i = await IntrospectAsync(s, jwt);
        Assert.True(i["active"]!.GetValue<bool>());
        Assert.Equal(id, i["client_id"]!.GetValue<string>());
        Assert.Equal("read", i["scope"]!.GetValue<string>());
        Assert.Equal("access_token", i["token_use"]!.GetValue<string>());
        Assert.False((await IntrospectAsync(s, jwt + "x"))["active"]!.GetValue<bool>());

        // Revocation by the client; then it is inactive (as in Hydra, JWT access tokens are stored too).
        var revoke = new HttpRequestMessage(HttpMethod.Post, "/oauth2/revoke") { Content = new FormUrlEncodedContent([new("token", jwt)]) };
        revoke.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{id}:{secret}")));
        Assert.Equal(HttpStatusCode.OK, (await s.Public.SendAsync(revoke)).StatusCode);
        Assert.False((await IntrospectAsync(s, jwt))["active"]!.GetValue<bool>());

        // Expiry follows the clock.
        var second = (await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "client_credentials")))).Json(HttpStatusCode.OK))["access_token"]!.GetValue<string>();
        clock.Advance(TimeSpan.FromMinutes(61));
        Assert.False((await IntrospectAsync(s, second))["active"]!.GetValue<bool>());

        // The default strategy stays opaque.
        var opaque = (await (await s.Public.SendAsync(TokenRequest(opaqueId, opaqueSecret, ("grant_type", "client_credentials")))).Json(HttpStatusCode.OK))["access_token"]!.GetValue<string>();
        Assert.StartsWith("ory_at_", opaque);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_global_jwt_strategy_carries_consent_claims_as_ext_and_allowed_top_level_claims(string db)
    {
        await using var s = await StartAsync(db, o =>
        {
            o.Strategies.AccessToken = "jwt";
            o.Strategies.Jwt.ScopeClaim = "both";
            o.Oauth2.AllowedTopLevelClaims = ["role", "sub", "client_id"];
            o.Oauth2.ExcludeNotBeforeClaim = true;
        });
        // With JWT access tokens as the default the JWKS publishes the access-token set from the start.
        var jwks = JsonNode.Parse(await s.Public.GetStringAsync("/.well-known/jwks.json"))!["keys"]!.AsArray();
        Assert.Equal(2, jwks.Count);

        var (id, secret) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid offline photos.read","grant_types":["authorization_code","refresh_token"]}""");
        var (opaqueId, opaqueSecret) = await CreateClientAsync(s, """{"grant_types":["client_credentials"],"access_token_strategy":"opaque"}""");
        var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(s.PublicUrl) };
        var verifier = Base64UrlEncoder.Encode(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var challenge = Base64UrlEncoder.Encode(System.Security.Cryptography.SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var toLogin = (await browser.GetAsync($"/oauth2/auth?response_type=code&client_id={id}&redirect_uri={Uri.EscapeDataString(RedirectUri)}&scope=openid%20offline%20photos.read&state=state-123456&code_challenge={challenge}&code_challenge_method=S256")).Headers.Location!;
        var login = QueryHelpers.ParseQuery(toLogin.Query)["login_challenge"].ToString();
        var accepted = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?login_challenge={Uri.EscapeDataString(login)}", """{"subject":"user-1"}""")).Json(HttpStatusCode.OK);
        var toConsent = (await browser.GetAsync(accepted["redirect_to"]!.GetValue<string>())).Headers.Location!;
        var consent = QueryHelpers.ParseQuery(toConsent.Query)["consent_challenge"].ToString();
        var consented = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/consent/accept?consent_challenge={Uri.EscapeDataString(consent)}",
            """{"grant_scope":["openid","offline","photos.read"],"session":{"access_token":{"role":"admin","sub":"spoofed","team":"blue"}}}""")).Json(HttpStatusCode.OK);
        var callback = (await browser.GetAsync(consented["redirect_to"]!.GetValue<string>())).Headers.Location!;
        var code = QueryHelpers.ParseQuery(callback.Query)["code"].ToString();

        var t = await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", RedirectUri), ("code_verifier", verifier)))).Json(HttpStatusCode.OK);
        var (_, claims) = await VerifyAsync(s, t["access_token"]!.GetValue<string>());
        Assert.Equal(["aud", "client_id", "exp", "ext", "iat", "iss", "jti", "role", "scope", "scp", "sub"], claims.Select(kv => kv.Key));
        Assert.Equal("user-1", claims["sub"]!.GetValue<string>());
        Assert.Equal("admin", claims["role"]!.GetValue<string>());
        Assert.Equal("openid offline photos.read", claims["scope"]!.GetValue<string>());
        Assert.Equal("""{"role":"admin","sub":"spoofed","team":"blue"}""", claims["ext"]!.ToJsonString());
        Assert.Equal("[]", claims["aud"]!.ToJsonString());
        // The ID token's at_hash is of the JWT; userinfo accepts the JWT as bearer token.
        var userinfo = new HttpRequestMessage(HttpMethod.Get, "/userinfo");
        userinfo.Headers.Authorization = new AuthenticationHeaderValue("Bearer", t["access_token"]!.GetValue<string>());
        Assert.Equal("user-1", (await (await s.Public.SendAsync(userinfo)).Json(HttpStatusCode.OK))["sub"]!.GetValue<string>());
        var i = await IntrospectAsync(s, t["access_token"]!.GetValue<string>());
        Assert.Equal("""{"role":"admin","sub":"spoofed","team":"blue"}""", i["ext"]!.ToJsonString());

        // A refresh issues a new JWT and deactivates the old one.
        var refreshed = await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "refresh_token"), ("refresh_token", t["refresh_token"]!.GetValue<string>())))).Json(HttpStatusCode.OK);
        await VerifyAsync(s, refreshed["access_token"]!.GetValue<string>());
        Assert.False((await IntrospectAsync(s, t["access_token"]!.GetValue<string>()))["active"]!.GetValue<bool>());

        // A client that asks for opaque tokens still gets them.
        var opaque = (await (await s.Public.SendAsync(TokenRequest(opaqueId, opaqueSecret, ("grant_type", "client_credentials")))).Json(HttpStatusCode.OK))["access_token"]!.GetValue<string>();
        Assert.StartsWith("ory_at_", opaque);
    }
}
