using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.OAuth2.Keys;
using Gatehouse.OAuth2.Tokens;
using Gatehouse.Tests.Hooks;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Tests.OAuth2;

/// <summary>
/// Hydra's <c>oauth2.token_hook</c> and legacy <c>oauth2.refresh_token_hook</c> (<c>oauth2/token_hook.go</c>,
/// <c>oauth2/refresh_hook.go</c>) against a real HTTP receiver on loopback.
/// </summary>
public sealed class TokenHookTests
{
    private const string LoginUrl = "https://login.example/login";
    private const string ConsentUrl = "https://login.example/consent";
    private const string RedirectUri = "https://app.example/callback";
    private const string Consent = """{"grant_scope":["openid","offline","photos.read"],"session":{"access_token":{"role":"consent"},"id_token":{"email":"a@example.com"}}}""";

    private static Task<TestServer> StartAsync(string db, Action<GatehouseOptions> configure, TimeProvider? clock = null, LogCapture? logs = null) =>
        TestServer.StartAsync(db, o =>
        {
            o.Urls.Login = LoginUrl;
            o.Urls.Consent = ConsentUrl;
            configure(o);
        }, services =>
        {
            services.AddSingleton(new KeyGeneration { RsaBits = 2048 });
            if (clock is not null) services.AddSingleton(clock);
            if (logs is not null) services.AddSingleton<ILoggerProvider>(logs);
        });

    private static TokenHookOptions Hook(string url, string? keyIn = null, string name = "", string value = "") =>
        new() { Url = url, Auth = keyIn is null ? null : new TokenHookAuthOptions { Type = "api_key", Config = new TokenHookApiKeyOptions { In = keyIn, Name = name, Value = value } } };

    private static async Task<(string Id, string Secret)> CreateClientAsync(TestServer s, string grantTypes = """["authorization_code","refresh_token"]""")
    {
        var c = await (await s.AdminWithKey.PostJson("/admin/clients",
            $$"""{"redirect_uris":["{{RedirectUri}}"],"grant_types":{{grantTypes}},"scope":"openid offline photos.*","audience":["https://api.example"]}""")).Json(HttpStatusCode.Created);
        return (c["client_id"]!.GetValue<string>(), c["client_secret"]!.GetValue<string>());
    }

    private static HttpRequestMessage TokenRequest(string clientId, string secret, params (string, string)[] form)
    {
        var req = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token") { Content = new FormUrlEncodedContent(form.Select(f => new KeyValuePair<string, string>(f.Item1, f.Item2))) };
        req.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{clientId}:{secret}")));
        return req;
    }

    private static Dictionary<string, string> Query(Uri u) => QueryHelpers.ParseQuery(u.Query).ToDictionary(kv => kv.Key, kv => kv.Value.ToString());

    /// <summary>Authorize with PKCE, accept login and consent through the admin API: the code and its verifier.</summary>
    private static async Task<(string Code, string Verifier)> CodeAsync(TestServer s, string clientId, string consent = Consent)
    {
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(s.PublicUrl) };
        async Task<Uri> Redirect(string url)
        {
            var res = await browser.GetAsync(url);
            Assert.True(res.StatusCode is HttpStatusCode.Found or HttpStatusCode.SeeOther, $"expected a redirect from {url}, got {(int)res.StatusCode}");
            return res.Headers.Location!;
        }
        var verifier = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        var challenge = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var toLogin = await Redirect($"/oauth2/auth?response_type=code&client_id={Uri.EscapeDataString(clientId)}&redirect_uri={Uri.EscapeDataString(RedirectUri)}&scope={Uri.EscapeDataString("openid offline photos.read")}&state=state-123456&nonce=nonce-abcdefgh&code_challenge={challenge}&code_challenge_method=S256");
        var login = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?login_challenge={Uri.EscapeDataString(Query(toLogin)["login_challenge"])}", """{"subject":"user-1"}""")).Json(HttpStatusCode.OK);
        var toConsent = await Redirect(login["redirect_to"]!.GetValue<string>());
        var consented = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/consent/accept?consent_challenge={Uri.EscapeDataString(Query(toConsent)["consent_challenge"])}", consent)).Json(HttpStatusCode.OK);
        var callback = await Redirect(consented["redirect_to"]!.GetValue<string>());
        return (Query(callback)["code"], verifier);
    }

    private static Task<HttpResponseMessage> ExchangeAsync(TestServer s, string id, string secret, string code, string verifier) =>
        s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", RedirectUri), ("code_verifier", verifier)));

    private static async Task<JsonNode> IntrospectAsync(TestServer s, string token) =>
        await (await s.AdminWithKey.PostAsync("/admin/oauth2/introspect", new FormUrlEncodedContent([new("token", token)]))).Json(HttpStatusCode.OK);

    private static JsonObject Payload(string jwt) => JsonNode.Parse(Base64UrlEncoder.Decode(jwt.Split('.')[1]))!.AsObject();

    private static string[] Strings(JsonNode? array) => [.. array!.AsArray().Select(x => x!.GetValue<string>())];

    private static (int, string?) Answer(int status, string? body = null) => (status, body);

    /// <summary>The client's stored access and refresh tokens (the authorization code not counted).</summary>
    private static async Task<int> IssuedTokensAsync(TestServer s, string clientId)
    {
        await using var scope = s.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<Gatehouse.Persistence.GatehouseDbContext>().OAuth2Tokens
            .CountAsync(t => t.ClientId == clientId && t.Kind != OAuth2TokenKinds.AuthorizationCode, TestContext.Current.CancellationToken);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_200_answer_replaces_the_claims_of_the_jwt_access_token_its_introspection_the_id_token_and_the_refresh_token(string db)
    {
        await using var hooks = await HookReceiver.StartAsync();
        var url = hooks.On("/token", 200, """{"session":{"access_token":{"role":"hooked","tier":"gold"},"id_token":{"hooked":true}},"ignored":1}""");
        await using var s = await StartAsync(db, o =>
        {
            o.Oauth2.TokenHook = Hook(url);
            o.Strategies.AccessToken = "jwt";
            o.Oauth2.AllowedTopLevelClaims = ["tier", "sub"];
        });
        var (id, secret) = await CreateClientAsync(s);
        var (code, verifier) = await CodeAsync(s, id);

        var t = await (await ExchangeAsync(s, id, secret, code, verifier)).Json(HttpStatusCode.OK);

        var received = Assert.Single(hooks.Received("/token"));
        Assert.Equal("POST", received.Method);
        Assert.Equal("application/json; charset=UTF-8", received.Headers["Content-Type"]);
        var body = JsonNode.Parse(received.Body)!.AsObject();
        Assert.Equal(["session", "request"], body.Select(kv => kv.Key));
        var request = body["request"]!.AsObject();
        Assert.Equal(["client_id", "requested_scopes", "granted_scopes", "granted_audience", "grant_types", "payload"], request.Select(kv => kv.Key));
        Assert.Equal(id, request["client_id"]!.GetValue<string>());
        Assert.Equal(["openid", "offline", "photos.read"], Strings(request["requested_scopes"]));
        Assert.Equal(["openid", "offline", "photos.read"], Strings(request["granted_scopes"]));
        Assert.Empty(Strings(request["granted_audience"]));
        Assert.Equal(["authorization_code"], Strings(request["grant_types"]));
        // fosite's Sanitize: the code, its verifier and the redirect URI are not sent.
        Assert.Equal("""{"grant_type":["authorization_code"]}""", request["payload"]!.ToJsonString());
        var session = body["session"]!.AsObject();
        Assert.Equal("""{"role":"consent"}""", session["extra"]!.ToJsonString());
        Assert.Equal(id, session["client_id"]!.GetValue<string>());
        Assert.NotEqual("", session["kid"]!.GetValue<string>());
        Assert.Equal(["tier", "sub"], Strings(session["allowed_top_level_claims"]));
        Assert.True(session["mirror_top_level_claims"]!.GetValue<bool>());
        Assert.Equal("user-1", session["id_token"]!["subject"]!.GetValue<string>());
        var idClaims = session["id_token"]!["id_token_claims"]!;
        Assert.Equal("user-1", idClaims["sub"]!.GetValue<string>());
        Assert.Equal("nonce-abcdefgh", idClaims["nonce"]!.GetValue<string>());
        Assert.Equal([id], Strings(idClaims["aud"]));
        Assert.Equal("a@example.com", idClaims["ext"]!["email"]!.GetValue<string>());
        Assert.NotNull(idClaims["ext"]!["sid"]);

        // The JWT access token: ext mirrors the hook's claims, "tier" is allowed on top, "sub" is reserved.
        var access = t["access_token"]!.GetValue<string>();
        var jwt = Payload(access);
        Assert.Equal("""{"role":"hooked","tier":"gold"}""", jwt["ext"]!.ToJsonString());
        Assert.Equal("gold", jwt["tier"]!.GetValue<string>());
        Assert.Equal("user-1", jwt["sub"]!.GetValue<string>());
        Assert.Null(jwt["role"]);
        Assert.Equal("""{"role":"hooked","tier":"gold"}""", (await IntrospectAsync(s, access))["ext"]!.ToJsonString());
        // The ID token's custom claims are replaced whole: the consent's email and sid are gone.
        var idToken = Payload(t["id_token"]!.GetValue<string>());
        Assert.True(idToken["hooked"]!.GetValue<bool>());
        Assert.Null(idToken["email"]);
        Assert.Null(idToken["sid"]);
        Assert.Equal("user-1", idToken["sub"]!.GetValue<string>());
        // The refresh token keeps the hook's claims (its introspection's ext, as Hydra's session Extra).
        Assert.Equal("""{"role":"hooked","tier":"gold"}""", (await IntrospectAsync(s, t["refresh_token"]!.GetValue<string>()))["ext"]!.ToJsonString());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task On_refresh_the_legacy_hook_runs_first_then_the_token_hook_with_their_keys_and_the_claims_carry_to_the_next_refresh(string db)
    {
        await using var hooks = await HookReceiver.StartAsync();
        var legacyAnswers = new Queue<(int, string?)>([Answer(200, """{"session":{"access_token":{"step":"legacy"},"id_token":{"step":"legacy"}}}"""), Answer(204)]);
        var tokenAnswers = new Queue<(int, string?)>([Answer(204), Answer(200, """{"session":{"access_token":{"step":"new"},"id_token":{"step":"new"}}}"""), Answer(204)]);
        var legacyUrl = hooks.On("/legacy", (_, _) => Task.FromResult(legacyAnswers.Dequeue()));
        var tokenUrl = hooks.On("/token", (_, _) => Task.FromResult(tokenAnswers.Dequeue()));
        var logs = new LogCapture();
        await using var s = await StartAsync(db, o =>
        {
            o.Log.Level = "trace";
            o.Oauth2.RefreshTokenHook = Hook(legacyUrl, "header", "X-Api-Key", "header-secret-value");
            o.Oauth2.TokenHook = Hook(tokenUrl, "cookie", "hook_key", "cookie-secret-value");
        }, logs: logs);
        var (id, secret) = await CreateClientAsync(s);
        var (code, verifier) = await CodeAsync(s, id);

        // The code exchange: only the token hook (204 keeps the consent's claims).
        var t = await (await ExchangeAsync(s, id, secret, code, verifier)).Json(HttpStatusCode.OK);
        Assert.Empty(hooks.Received("/legacy"));
        var first = Assert.Single(hooks.Received("/token"));
        Assert.Equal("hook_key=cookie-secret-value", first.Headers["Cookie"]);
        Assert.False(first.Headers.ContainsKey("X-Api-Key"));
        Assert.Equal("""{"role":"consent"}""", (await IntrospectAsync(s, t["access_token"]!.GetValue<string>()))["ext"]!.ToJsonString());
        Assert.Equal("a@example.com", Payload(t["id_token"]!.GetValue<string>())["email"]!.GetValue<string>());

        // First refresh: legacy (200) then the token hook, which sees the legacy hook's claims and replaces them.
        var r1 = await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "refresh_token"), ("refresh_token", t["refresh_token"]!.GetValue<string>())))).Json(HttpStatusCode.OK);
        var legacy = Assert.Single(hooks.Received("/legacy"));
        Assert.Equal("header-secret-value", legacy.Headers["X-Api-Key"]);
        var legacyBody = JsonNode.Parse(legacy.Body)!.AsObject();
        Assert.Equal(["subject", "session", "requester", "client_id", "granted_scopes", "granted_audience"], legacyBody.Select(kv => kv.Key));
        Assert.Equal("user-1", legacyBody["subject"]!.GetValue<string>());
        Assert.Equal(id, legacyBody["client_id"]!.GetValue<string>());
        Assert.Equal(["openid", "offline", "photos.read"], Strings(legacyBody["granted_scopes"]));
        Assert.Equal("""{"client_id":"ID","granted_scopes":["openid","offline","photos.read"],"granted_audience":[],"grant_types":["refresh_token"]}""".Replace("ID", id, StringComparison.Ordinal),
            legacyBody["requester"]!.ToJsonString());
        Assert.Equal("""{"role":"consent"}""", legacyBody["session"]!["extra"]!.ToJsonString());
        var second = hooks.Received("/token")[1];
        var secondBody = JsonNode.Parse(second.Body)!;
        Assert.Equal("""{"step":"legacy"}""", secondBody["session"]!["extra"]!.ToJsonString());
        Assert.Equal("""{"step":"legacy"}""", secondBody["session"]!["id_token"]!["id_token_claims"]!["ext"]!.ToJsonString());
        Assert.Equal(["refresh_token"], Strings(secondBody["request"]!["grant_types"]));
        Assert.Equal("""{"grant_type":["refresh_token"]}""", secondBody["request"]!["payload"]!.ToJsonString());
        Assert.Equal("""{"step":"new"}""", (await IntrospectAsync(s, r1["access_token"]!.GetValue<string>()))["ext"]!.ToJsonString());
        Assert.Equal("new", Payload(r1["id_token"]!.GetValue<string>())["step"]!.GetValue<string>());

        // Second refresh: both answer 204, and the tokens keep what the hooks set before (fosite stored it with the refresh token).
        var r2 = await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "refresh_token"), ("refresh_token", r1["refresh_token"]!.GetValue<string>())))).Json(HttpStatusCode.OK);
        Assert.Equal("""{"step":"new"}""", JsonNode.Parse(hooks.Received("/legacy")[1].Body)!["session"]!["extra"]!.ToJsonString());
        Assert.Equal("""{"step":"new"}""", (await IntrospectAsync(s, r2["access_token"]!.GetValue<string>()))["ext"]!.ToJsonString());
        var idToken = Payload(r2["id_token"]!.GetValue<string>());
        Assert.Equal("new", idToken["step"]!.GetValue<string>());
        Assert.Null(idToken["email"]);

        // The API keys never reach the logs.
        Assert.NotEmpty(logs.Lines);
        Assert.DoesNotContain(logs.Lines, l => l.Contains("header-secret-value", StringComparison.Ordinal) || l.Contains("cookie-secret-value", StringComparison.Ordinal));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Userinfo_answers_the_id_token_claims_the_hook_set_for_the_access_tokens_grant(string db)
    {
        // Hydra's getOidcUserInfo reads the access token's stored session (IDTokenClaims().ToMap()), which the hook changed.
        await using var hooks = await HookReceiver.StartAsync();
        var answers = new Queue<(int, string?)>([
            Answer(200, """{"session":{"access_token":{},"id_token":{"step":"code","email":"hook@example.com"}}}"""),
            Answer(200, """{"session":{"access_token":{},"id_token":{"step":"refresh"}}}"""),
            Answer(204)]);
        var url = hooks.On("/token", (_, _) => Task.FromResult(answers.Dequeue()));
        await using var s = await StartAsync(db, o => o.Oauth2.TokenHook = Hook(url));
        var (id, secret) = await CreateClientAsync(s);
        var (code, verifier) = await CodeAsync(s, id);
        async Task<JsonNode> UserinfoAsync(JsonNode tokens)
        {
            using var req = new HttpRequestMessage(HttpMethod.Get, "/userinfo");
            req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens["access_token"]!.GetValue<string>());
            return await (await s.Public.SendAsync(req, TestContext.Current.CancellationToken)).Json(HttpStatusCode.OK);
        }

        var t = await (await ExchangeAsync(s, id, secret, code, verifier)).Json(HttpStatusCode.OK);
        var info = await UserinfoAsync(t);
        Assert.Equal("code", info["step"]!.GetValue<string>());
        Assert.Equal("hook@example.com", info["email"]!.GetValue<string>());
        Assert.Equal("user-1", info["sub"]!.GetValue<string>());
        Assert.Equal([id], Strings(info["aud"]));

        var r1 = await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "refresh_token"), ("refresh_token", t["refresh_token"]!.GetValue<string>())))).Json(HttpStatusCode.OK);
        info = await UserinfoAsync(r1);
        Assert.Equal("refresh", info["step"]!.GetValue<string>());
        Assert.Null(info["email"]);

        // A 204 keeps what the refresh token was issued with.
        var r2 = await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "refresh_token"), ("refresh_token", r1["refresh_token"]!.GetValue<string>())))).Json(HttpStatusCode.OK);
        Assert.Equal("refresh", (await UserinfoAsync(r2))["step"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Client_credentials_tokens_get_the_hook_claims_and_the_session_names_the_client(string db)
    {
        await using var hooks = await HookReceiver.StartAsync();
        var url = hooks.On("/token", 200, """{"session":{"access_token":{"tenant":"t1"},"id_token":{"ignored":true}}}""");
        // An api_key without "in" is sent nowhere (Hydra's applyAuth matches only header and cookie).
        await using var s = await StartAsync(db, o => o.Oauth2.TokenHook = new TokenHookOptions
        {
            Url = url,
            Auth = new TokenHookAuthOptions { Type = "api_key", Config = new TokenHookApiKeyOptions { Name = "X-Api-Key", Value = "nowhere-secret" } },
        });
        var (id, secret) = await CreateClientAsync(s, """["client_credentials"]""");

        var t = await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "client_credentials"), ("scope", "photos.read"), ("audience", "https://api.example")))).Json(HttpStatusCode.OK);

        var received = Assert.Single(hooks.Received("/token"));
        Assert.DoesNotContain(received.Headers, h => h.Value.Contains("nowhere-secret", StringComparison.Ordinal));
        var body = JsonNode.Parse(received.Body)!;
        Assert.Equal($$$"""{"client_id":"{{{id}}}","requested_scopes":["photos.read"],"granted_scopes":["photos.read"],"granted_audience":["https://api.example"],"grant_types":["client_credentials"],"payload":{"grant_type":["client_credentials"],"scope":["photos.read"]}}""",
            body["request"]!.ToJsonString());
        Assert.Equal(id, body["session"]!["id_token"]!["subject"]!.GetValue<string>());
        Assert.Equal("{}", body["session"]!["extra"]!.ToJsonString());
        Assert.Equal("", body["session"]!["kid"]!.GetValue<string>());
        var introspected = await IntrospectAsync(s, t["access_token"]!.GetValue<string>());
        Assert.Equal("""{"tenant":"t1"}""", introspected["ext"]!.ToJsonString());
        Assert.Equal(id, introspected["sub"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_refusing_or_broken_hook_fails_the_exchange_issues_nothing_and_leaves_the_code_usable(string db)
    {
        await using var hooks = await HookReceiver.StartAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        Func<ReceivedHook, CancellationToken, Task<(int, string?)>> answer = (_, _) => Task.FromResult(Answer(204));
        var url = hooks.On("/token", (r, ct) => answer(r, ct));
        await using var s = await StartAsync(db, o => o.Oauth2.TokenHook = Hook(url), clock);
        var (id, secret) = await CreateClientAsync(s);
        var (code, verifier) = await CodeAsync(s, id);

        async Task<JsonObject> Fails(HttpStatusCode status, string error, int calls, TimeSpan step)
        {
            var before = hooks.Received("/token").Count;
            var exchange = ExchangeAsync(s, id, secret, code, verifier);
            // Retries wait on the (fake) clock: move it on until the exchange gives up.
            while (!exchange.IsCompleted)
            {
                clock.Advance(step);
                await Task.WhenAny(exchange, Task.Delay(20, TestContext.Current.CancellationToken));
            }
            var e = await (await exchange).OAuth2Error(status, error);
            Assert.Equal(calls, hooks.Received("/token").Count - before);
            Assert.Equal(0, await IssuedTokensAsync(s, id));
            return e;
        }

        answer = (_, _) => Task.FromResult(Answer(403, """{"error":"no"}"""));
        var denied = await Fails(HttpStatusCode.Forbidden, "access_denied", 1, TimeSpan.Zero);
        Assert.Equal("The token hook target responded with an error.", denied["error_description"]!.GetValue<string>());

        answer = (_, _) => Task.FromResult(Answer(400));
        var rejected = await Fails(HttpStatusCode.InternalServerError, "server_error", 1, TimeSpan.Zero);
        Assert.Equal("The token hook target responded with an error.", rejected["error_description"]!.GetValue<string>());

        answer = (_, _) => Task.FromResult(Answer(200, "not json"));
        Assert.Equal("The token hook target responded with an error.", (await Fails(HttpStatusCode.InternalServerError, "server_error", 1, TimeSpan.Zero))["error_description"]!.GetValue<string>());
        answer = (_, _) => Task.FromResult(Answer(200, """{"session":{"access_token":"not an object"}}"""));
        await Fails(HttpStatusCode.InternalServerError, "server_error", 1, TimeSpan.Zero);

        // 5xx is retried twice (go-retryablehttp, 1 s then 2 s apart), then the call itself failed.
        answer = (_, _) => Task.FromResult(Answer(500));
        var failing = await Fails(HttpStatusCode.InternalServerError, "server_error", 3, TimeSpan.FromMilliseconds(500));
        Assert.Equal("An error occurred while executing the token hook.", failing["error_description"]!.GetValue<string>());

        // A hook that does not answer within 30 s is given up on, each of the three attempts.
        answer = async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return Answer(200);
        };
        var slow = await Fails(HttpStatusCode.InternalServerError, "server_error", 3, TimeSpan.FromSeconds(5));
        Assert.Equal("An error occurred while executing the token hook.", slow["error_description"]!.GetValue<string>());

        // Nothing was spent: the same code still exchanges once the hook agrees.
        answer = (_, _) => Task.FromResult(Answer(204));
        var t = await (await ExchangeAsync(s, id, secret, code, verifier)).Json(HttpStatusCode.OK);
        Assert.Equal("""{"role":"consent"}""", (await IntrospectAsync(s, t["access_token"]!.GetValue<string>()))["ext"]!.ToJsonString());
        Assert.Equal(2, await IssuedTokensAsync(s, id));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task With_private_ranges_disallowed_a_loopback_hook_is_refused_unless_excepted(string db)
    {
        // Hydra's hook client is RegistrySQL.HTTPClient: clients.http.disallow_private_ip_ranges and
        // private_ip_exception_urls apply to it (ResilientClientDisallowInternalIPs, ResilientClientAllowInternalIPRequestsTo).
        await using var hooks = await HookReceiver.StartAsync();
        var url = hooks.On("/token", 200, """{"session":{"access_token":{"ok":true}}}""");
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var guarded = await StartAsync(db, o =>
        {
            o.Oauth2.TokenHook = Hook(url);
            o.Clients.Http.DisallowPrivateIpRanges = true;
        }, clock);
        var (id, secret) = await CreateClientAsync(guarded, """["client_credentials"]""");
        var exchange = guarded.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "client_credentials")));
        while (!exchange.IsCompleted)
        {
            clock.Advance(TimeSpan.FromMilliseconds(500));
            await Task.WhenAny(exchange, Task.Delay(20, TestContext.Current.CancellationToken));
        }
        var refused = await (await exchange).OAuth2Error(HttpStatusCode.InternalServerError, "server_error");
        Assert.Equal("An error occurred while executing the token hook.", refused["error_description"]!.GetValue<string>());
        Assert.Empty(hooks.Received("/token"));
        Assert.Equal(0, await IssuedTokensAsync(guarded, id));

        await using var excepted = await StartAsync(db, o =>
        {
            o.Oauth2.TokenHook = Hook(url);
            o.Clients.Http.DisallowPrivateIpRanges = true;
            o.Clients.Http.PrivateIpExceptionUrls = [hooks.BaseUrl + "/*"];
        });
        var (id2, secret2) = await CreateClientAsync(excepted, """["client_credentials"]""");
        var t = await (await excepted.Public.SendAsync(TokenRequest(id2, secret2, ("grant_type", "client_credentials")))).Json(HttpStatusCode.OK);
        Assert.Equal("""{"ok":true}""", (await IntrospectAsync(excepted, t["access_token"]!.GetValue<string>()))["ext"]!.ToJsonString());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Redirects_are_followed_as_gos_client_does_and_every_hop_is_guarded(string db)
    {
        // Hydra's hook client is go-retryablehttp over Go's http.Client (x.NewResilientClient), which follows redirects:
        // 307/308 repeat the POST with its body, 301/302/303 continue with a GET without it; the API key header goes along.
        await using var hooks = await HookReceiver.StartAsync();
        const string answer = """{"session":{"access_token":{"via":"redirect"}}}""";
        hooks.On("/final", 200, answer);
        hooks.Redirect("/temporary", 307, "/final");
        var url = hooks.Redirect("/start", 308, hooks.BaseUrl + "/temporary");
        hooks.Redirect("/see-other", 303, "/final");
        await using (var s = await StartAsync(db, o => o.Oauth2.TokenHook = Hook(url, "header", "X-Api-Key", "k-123")))
        {
            var (id, secret) = await CreateClientAsync(s, """["client_credentials"]""");
            var t = await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "client_credentials")))).Json(HttpStatusCode.OK);
            Assert.Equal("""{"via":"redirect"}""", (await IntrospectAsync(s, t["access_token"]!.GetValue<string>()))["ext"]!.ToJsonString());
            var final = Assert.Single(hooks.Received("/final"));
            Assert.Equal("POST", final.Method);
            Assert.Equal(Assert.Single(hooks.Received("/start")).Body, final.Body);
            Assert.Equal("k-123", final.Headers["X-Api-Key"]);
            Assert.Equal(hooks.BaseUrl + "/temporary", final.Headers["Referer"]);
        }
        // 303: a GET without the body reaches the final answer, which counts (200 with claims).
        await using (var s = await StartAsync(db, o => o.Oauth2.TokenHook = Hook(hooks.BaseUrl + "/see-other")))
        {
            var (id, secret) = await CreateClientAsync(s, """["client_credentials"]""");
            await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "client_credentials")))).Json(HttpStatusCode.OK);
            var get = hooks.Received("/final")[^1];
            Assert.Equal("GET", get.Method);
            Assert.Equal("", get.Body);
        }

        // With private ranges disallowed, an excepted first hop may not redirect to a refused one.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var escape = hooks.Redirect("/escape", 307, hooks.BaseUrl + "/final");
        await using (var guarded = await StartAsync(db, o =>
        {
            o.Oauth2.TokenHook = Hook(escape);
            o.Clients.Http.DisallowPrivateIpRanges = true;
            o.Clients.Http.PrivateIpExceptionUrls = [escape];
        }, clock))
        {
            var finals = hooks.Received("/final").Count;
            var (id, secret) = await CreateClientAsync(guarded, """["client_credentials"]""");
            var exchange = guarded.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "client_credentials")));
            while (!exchange.IsCompleted)
            {
                clock.Advance(TimeSpan.FromMilliseconds(500));
                await Task.WhenAny(exchange, Task.Delay(20, TestContext.Current.CancellationToken));
            }
            await (await exchange).OAuth2Error(HttpStatusCode.InternalServerError, "server_error");
            Assert.Equal(3, hooks.Received("/escape").Count);
            Assert.Equal(finals, hooks.Received("/final").Count);
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_refused_refresh_keeps_the_refresh_token_usable(string db)
    {
        await using var hooks = await HookReceiver.StartAsync();
        var status = 204;
        var url = hooks.On("/token", (_, _) => Task.FromResult(Answer(status)));
        await using var s = await StartAsync(db, o => o.Oauth2.TokenHook = Hook(url));
        var (id, secret) = await CreateClientAsync(s);
        var (code, verifier) = await CodeAsync(s, id);
        var t = await (await ExchangeAsync(s, id, secret, code, verifier)).Json(HttpStatusCode.OK);
        var refresh = t["refresh_token"]!.GetValue<string>();

        status = 403;
        await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "refresh_token"), ("refresh_token", refresh)))).OAuth2Error(HttpStatusCode.Forbidden, "access_denied");
        // Neither rotated nor revoked: the old access token is still active and the refresh token works (no reuse detected).
        Assert.True((await IntrospectAsync(s, t["access_token"]!.GetValue<string>()))["active"]!.GetValue<bool>());
        status = 204;
        await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "refresh_token"), ("refresh_token", refresh)))).Json(HttpStatusCode.OK);
    }
}
