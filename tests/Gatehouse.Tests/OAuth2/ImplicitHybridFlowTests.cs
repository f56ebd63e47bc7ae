using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Gatehouse.OAuth2.Protocol;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using static Gatehouse.Tests.OAuth2.ResponseModesTests;

namespace Gatehouse.Tests.OAuth2;

/// <summary>
/// The implicit (<c>token</c>, <c>id_token</c>, <c>id_token token</c>) and hybrid (<c>code id_token</c>, <c>code token</c>,
/// <c>code id_token token</c>) flows as fosite's authorize handlers answer them, on both databases.
/// </summary>
public sealed class ImplicitHybridFlowTests
{
    private const string RedirectUri = "https://app.example/callback";
    private const string Nonce = "nonce-abcdefgh";

    private static string ClientJson(string responseTypes, string grantTypes, string extra = "") =>
        $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid photos.read","response_types":{{responseTypes}},"grant_types":{{grantTypes}}{{extra}}}""";

    private static async Task<JsonWebToken> ValidIdTokenAsync(TestServer s, string token, string clientId)
    {
        var jwks = new JsonWebKeySet(await s.Public.GetStringAsync("/.well-known/jwks.json"));
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = s.PublicUrl + "/",
            ValidAudience = clientId,
            IssuerSigningKeys = jwks.GetSigningKeys(),
        });
        Assert.True(result.IsValid, result.Exception?.ToString());
        var jwt = (JsonWebToken)result.SecurityToken;
        Assert.Equal("user-1", jwt.Subject);
        return jwt;
    }

    private static Dictionary<string, string> Fragment(HttpResponseMessage res)
    {
        Assert.Equal(HttpStatusCode.SeeOther, res.StatusCode);
        var location = res.Headers.Location!.OriginalString;
        Assert.StartsWith(RedirectUri + "#", location);
        return Values(location[(location.IndexOf('#') + 1)..]);
    }

    private static async Task<bool> ActiveAsync(TestServer s, string token) =>
        (await (await s.AdminWithKey.PostAsync("/admin/oauth2/introspect", new FormUrlEncodedContent([new("token", token)]))).Json(HttpStatusCode.OK))["active"]!.GetValue<bool>();

    private static HttpRequestMessage Basic(string path, string clientId, string secret, params (string, string)[] form)
    {
        var req = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form.Select(f => new KeyValuePair<string, string>(f.Item1, f.Item2))) };
        req.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{clientId}:{secret}")));
        return req;
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Hybrid_code_id_token_answers_in_the_fragment_with_c_hash_and_the_code_exchange_keeps_it(string db)
    {
        await using var s = await StartAsync(db);
        var (id, secret) = await CreateClientAsync(s, ClientJson("""["code id_token"]""", """["authorization_code"]"""));
        var res = await LoginAndConsentAsync(s, Browser(s), Authorize(id, "id_token code", $"&nonce={Nonce}"));
        var p = Fragment(res);
        // flow_hybrid.go: code, state and the ID token; no scope.
        Assert.Equal(["code", "id_token", "state"], p.Keys);
        Assert.Equal("state-123456", p["state"]);
        var idToken = await ValidIdTokenAsync(s, p["id_token"], id);
        Assert.Equal(Nonce, idToken.GetClaim("nonce").Value);
        Assert.Equal(IdTokens.HalfHash(p["code"], "RS256"), idToken.GetClaim("c_hash").Value);
        Assert.False(idToken.TryGetClaim("at_hash", out _));

        var t = await (await s.Public.SendAsync(Basic("/oauth2/token", id, secret, ("grant_type", "authorization_code"), ("code", p["code"]), ("redirect_uri", RedirectUri)))).Json(HttpStatusCode.OK);
        var exchanged = await ValidIdTokenAsync(s, t["id_token"]!.GetValue<string>(), id);
        Assert.Equal(IdTokens.HalfHash(p["code"], "RS256"), exchanged.GetClaim("c_hash").Value);
        Assert.Equal(IdTokens.HalfHash(t["access_token"]!.GetValue<string>(), "RS256"), exchanged.GetClaim("at_hash").Value);
        Assert.Equal(Nonce, exchanged.GetClaim("nonce").Value);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Hybrid_code_id_token_token_posts_every_token_with_the_implicit_lifespans_and_the_access_token_is_stored(string db)
    {
        await using var s = await StartAsync(db);
        var (id, secret) = await CreateClientAsync(s, ClientJson("""["code id_token token"]""", """["authorization_code","implicit"]""",
            ""","implicit_grant_access_token_lifespan":"5m","implicit_grant_id_token_lifespan":"7m","authorization_code_grant_access_token_lifespan":"9m" """));
        var res = await LoginAndConsentAsync(s, Browser(s), Authorize(id, "code id_token token", $"&nonce={Nonce}&response_mode=form_post"),
            session: """{"access_token":{"role":"admin"},"id_token":{"email":"a@example.com"}}""");
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var (action, p) = FormPost(await res.Content.ReadAsStringAsync());
        Assert.Equal(RedirectUri, action);
        Assert.Equal(["access_token", "code", "expires_in", "id_token", "scope", "state", "token_type"], p.Keys);
        Assert.Equal("300", p["expires_in"]);
        Assert.Equal("bearer", p["token_type"]);
        Assert.Equal("openid photos.read", p["scope"]);
        var idToken = await ValidIdTokenAsync(s, p["id_token"], id);
        Assert.Equal(IdTokens.HalfHash(p["access_token"], "RS256"), idToken.GetClaim("at_hash").Value);
        Assert.Equal(IdTokens.HalfHash(p["code"], "RS256"), idToken.GetClaim("c_hash").Value);
        Assert.Equal("a@example.com", idToken.GetClaim("email").Value);
        Assert.Equal(420, (idToken.ValidTo - idToken.IssuedAt).TotalSeconds);

        // The front-channel access token is stored as the code flow's are: introspection, userinfo, revocation.
        var i = await (await s.AdminWithKey.PostAsync("/admin/oauth2/introspect", new FormUrlEncodedContent([new("token", p["access_token"])]))).Json(HttpStatusCode.OK);
        Assert.True(i["active"]!.GetValue<bool>());
        Assert.Equal("admin", i["ext"]!["role"]!.GetValue<string>());
        Assert.Equal("user-1", i["sub"]!.GetValue<string>());
        var userinfo = new HttpRequestMessage(HttpMethod.Get, "/userinfo");
        userinfo.Headers.Authorization = new AuthenticationHeaderValue("Bearer", p["access_token"]);
        Assert.Equal("a@example.com", (await (await s.Public.SendAsync(userinfo)).Json(HttpStatusCode.OK))["email"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await s.Public.SendAsync(Basic("/oauth2/revoke", id, secret, ("token", p["access_token"])))).StatusCode);
        Assert.False(await ActiveAsync(s, p["access_token"]));

        // The code is exchanged with the code grant's lifespans: revoking the front-channel token left it usable (fosite
        // revokes a request's access and refresh tokens, not its code).
        var t = await (await s.Public.SendAsync(Basic("/oauth2/token", id, secret, ("grant_type", "authorization_code"), ("code", p["code"]), ("redirect_uri", RedirectUri)))).Json(HttpStatusCode.OK);
        Assert.Equal(540, t["expires_in"]!.GetValue<long>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Implicit_flows_answer_tokens_in_the_fragment_without_pkce(string db)
    {
        await using var s = await StartAsync(db);
        // A public client (PKCE enforced for it) may use the implicit flows: PKCE is for response types with a code.
        var (id, _) = await CreateClientAsync(s, ClientJson("""["id_token token","id_token","token","code token"]""", """["implicit","authorization_code"]""", ""","token_endpoint_auth_method":"none" """));

        var p = Fragment(await LoginAndConsentAsync(s, Browser(s), Authorize(id, "token id_token", $"&nonce={Nonce}")));
        Assert.Equal(["access_token", "expires_in", "id_token", "scope", "state", "token_type"], p.Keys);
        Assert.Equal("3600", p["expires_in"]);
        var idToken = await ValidIdTokenAsync(s, p["id_token"], id);
        Assert.Equal(IdTokens.HalfHash(p["access_token"], "RS256"), idToken.GetClaim("at_hash").Value);
        Assert.Equal(Nonce, idToken.GetClaim("nonce").Value);
        Assert.True(await ActiveAsync(s, p["access_token"]));

        p = Fragment(await LoginAndConsentAsync(s, Browser(s), Authorize(id, "id_token", $"&nonce={Nonce}")));
        Assert.Equal(["id_token", "state"], p.Keys);
        Assert.False((await ValidIdTokenAsync(s, p["id_token"], id)).TryGetClaim("at_hash", out _));

        p = Fragment(await LoginAndConsentAsync(s, Browser(s), Authorize(id, "token", scope: "photos.read"), grantScope: """["photos.read"]"""));
        Assert.Equal(["access_token", "expires_in", "scope", "state", "token_type"], p.Keys);
        Assert.Equal("photos.read", p["scope"]);
        Assert.True(await ActiveAsync(s, p["access_token"]));

        // A hybrid request with a code is held to PKCE like the code flow.
        var res = await Browser(s).GetAsync(Authorize(id, "code token"));
        Assert.Equal("invalid_request", Fragment(res)["error"]);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Requests_the_client_or_fosite_refuse_fail_before_login_in_their_mode_and_store_nothing(string db)
    {
        await using var s = await StartAsync(db);
        var (codeOnly, _) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid photos.read"}""");
        var (noImplicit, _) = await CreateClientAsync(s, ClientJson("""["token","code token"]""", """["authorization_code"]"""));
        var (noCodeGrant, _) = await CreateClientAsync(s, ClientJson("""["code id_token"]""", """["implicit"]"""));
        var (all, _) = await CreateClientAsync(s, ClientJson("""["id_token token","id_token","code id_token"]""", """["implicit","authorization_code"]"""));
        var browser = Browser(s);

        async Task<Dictionary<string, string>> Error(string url, string mode)
        {
            var location = (await RedirectAsync(browser, url)).OriginalString;
            var mark = mode == "fragment" ? '#' : '?';
            Assert.StartsWith(RedirectUri + mark, location);
            var values = Values(location[(location.IndexOf(mark) + 1)..]);
            Assert.Equal("state-123456", values["state"]);
            return values;
        }

        // A response type the client does not have: refused before the default mode is known, so in the query.
        var e = await Error(Authorize(codeOnly, "token"), "query");
        Assert.Equal(("unsupported_response_type", "The authorization server does not support obtaining a token using this method. The client is not allowed to request response_type 'token'."), (e["error"], e["error_description"]));
        // The implicit grant is the client's to have, for token alone and for hybrid with token.
        e = await Error(Authorize(noImplicit, "token"), "fragment");
        Assert.Equal("invalid_grant", e["error"]);
        Assert.EndsWith("The OAuth 2.0 Client is not allowed to use the authorization grant 'implicit'.", e["error_description"]);
        Assert.Equal("invalid_grant", (await Error(Authorize(noImplicit, "code token"), "fragment"))["error"]);
        e = await Error(Authorize(noCodeGrant, "code id_token", $"&nonce={Nonce}"), "fragment");
        Assert.EndsWith("The OAuth 2.0 Client is not allowed to use authorization grant 'authorization_code'.", e["error_description"]);
        // Nonce rules.
        e = await Error(Authorize(all, "id_token token"), "fragment");
        Assert.Equal(("invalid_request", "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed. Parameter 'nonce' must be set when using the OpenID Connect Implicit Flow."), (e["error"], e["error_description"]));
        e = await Error(Authorize(all, "code id_token"), "fragment");
        Assert.EndsWith("Parameter 'nonce' must be set when requesting an ID Token using the OpenID Connect Hybrid Flow.", e["error_description"]);
        Assert.Equal("insufficient_entropy", (await Error(Authorize(all, "id_token", "&nonce=short"), "fragment"))["error"]);
        // id_token without openid: no handler answers it.
        e = await Error(Authorize(all, "id_token", $"&nonce={Nonce}", scope: "photos.read"), "fragment");
        Assert.Equal(("unsupported_response_type", "The authorization server does not support obtaining a token using this method."), (e["error"], e["error_description"]));
        // Tokens in the front channel are not put in the query; the error itself is (the mode asked for).
        e = await Error(Authorize(all, "code id_token", $"&nonce={Nonce}&response_mode=query"), "query");
        Assert.Equal(("unsupported_response_mode", "The authorization server does not support obtaining a response using this response mode. Insecure response_mode 'query' for the response_type '[code id_token]'."), (e["error"], e["error_description"]));
        // form_post for an error of an implicit request.
        var res = await browser.GetAsync(Authorize(all, "id_token token", "&response_mode=form_post"));
        Assert.Equal("invalid_request", FormPost(await res.Content.ReadAsStringAsync()).Fields["error"]);

        await using (var scope = s.Services.CreateAsyncScope())
        {
            var db1 = scope.ServiceProvider.GetRequiredService<Gatehouse.Persistence.GatehouseDbContext>();
            Assert.Equal(0, db1.OAuth2Flows.Count());
        }

        // With openid requested but not granted, id_token token cannot be answered: the error after consent, no token stored.
        var denied = Fragment(await LoginAndConsentAsync(s, Browser(s), Authorize(all, "id_token token", $"&nonce={Nonce}"), grantScope: """["photos.read"]"""));
        Assert.Equal("unsupported_response_type", denied["error"]);
        await using (var scope = s.Services.CreateAsyncScope())
            Assert.Equal(0, scope.ServiceProvider.GetRequiredService<Gatehouse.Persistence.GatehouseDbContext>().OAuth2Tokens.Count());
    }
}
