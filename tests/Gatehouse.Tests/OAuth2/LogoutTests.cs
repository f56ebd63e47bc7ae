using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.OAuth2.Keys;
using Gatehouse.OAuth2.Logout;
using Gatehouse.Persistence;
using Gatehouse.Tests.Hooks;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Tests.OAuth2;

/// <summary>
/// Hydra's logout: RP-initiated logout at <c>/oauth2/sessions/logout</c> (<c>id_token_hint</c>, <c>post_logout_redirect_uri</c>,
/// <c>state</c>), the logout request admin API, front-channel iframes and back-channel logout tokens to a real receiver,
/// <c>revokeOAuth2LoginSessions</c> as headless logout, and the Kratos session that ends with the login session.
/// </summary>
public sealed class LogoutTests
{
    private const string LoginUrl = "https://login.example/login";
    private const string ConsentUrl = "https://login.example/consent";
    private const string LogoutUrl = "https://login.example/logout";
    private const string PostLogoutDefault = "https://app.example/bye";
    private const string RedirectUri = "https://app.example/callback";
    private const string LoggedOut = "https://app.example/logged-out";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private sealed record Server(TestServer S, FakeTimeProvider Clock, LogCapture Logs) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => S.DisposeAsync();
    }

    private static async Task<Server> StartAsync(string db, Action<Gatehouse.Config.GatehouseOptions>? configure = null)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var logs = new LogCapture();
        var s = await TestServer.StartAsync(db, o =>
        {
            Gatehouse.Tests.SelfService.FlowServerFixture.Configure(o);
            o.Urls.Login = LoginUrl;
            o.Urls.Consent = ConsentUrl;
            o.Urls.Logout = LogoutUrl;
            o.Urls.PostLogoutRedirect = PostLogoutDefault;
            configure?.Invoke(o);
        }, services =>
        {
            services.AddSingleton(new KeyGeneration { RsaBits = 2048 });
            services.AddSingleton<TimeProvider>(clock);
            services.AddSingleton<ILoggerProvider>(logs);
        });
        return new Server(s, clock, logs);
    }

    private sealed class Browser(TestServer s)
    {
        public CookieContainer Jar { get; } = new();

        public HttpClient Client => _client ??= new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = Jar }) { BaseAddress = new Uri(s.PublicUrl) };
        private HttpClient? _client;

        public async Task<Uri> GetRedirectAsync(string url)
        {
            var res = await Client.GetAsync(url);
            Assert.True(res.StatusCode is HttpStatusCode.Found or HttpStatusCode.SeeOther, $"expected a redirect from {url}, got {(int)res.StatusCode}: {await res.Content.ReadAsStringAsync()}");
            return res.Headers.Location!;
        }

        public Cookie? SessionCookie => Jar.GetAllCookies().FirstOrDefault(c => c.Name == "ory_hydra_session");
    }

    private static async Task<(string Id, string Secret)> CreateClientAsync(TestServer s, string extra = "")
    {
        var c = await (await s.AdminWithKey.PostJson("/admin/clients",
            $$"""{"redirect_uris":["{{RedirectUri}}"],"post_logout_redirect_uris":["{{LoggedOut}}"],"scope":"openid"{{extra}}}""")).Json(HttpStatusCode.Created);
        return (c["client_id"]!.GetValue<string>(), c["client_secret"]!.GetValue<string>());
    }

    private static Dictionary<string, string> Query(Uri u) => QueryHelpers.ParseQuery(u.Query).ToDictionary(kv => kv.Key, kv => kv.Value.ToString());

    private static string AuthorizeUrl(string clientId) =>
        $"/oauth2/auth?response_type=code&client_id={Uri.EscapeDataString(clientId)}&redirect_uri={Uri.EscapeDataString(RedirectUri)}&scope=openid&state=state-123456&nonce=nonce-abcdefgh";

    /// <summary>A full login (as <paramref name="loginBody"/>) and consent in <paramref name="b"/>; returns the ID token.</summary>
    private static async Task<JsonWebToken> SignInAsync(TestServer s, Browser b, (string Id, string Secret) client, string loginBody = """{"subject":"alice","remember":true}""")
    {
        var toLogin = await b.GetRedirectAsync(AuthorizeUrl(client.Id));
        var challenge = Query(toLogin)["login_challenge"];
        var login = (await (await s.AdminWithKey.GetAsync($"/admin/oauth2/auth/requests/login?login_challenge={Uri.EscapeDataString(challenge)}")).Json(HttpStatusCode.OK)).AsObject();
        var body = login["skip"]!.GetValue<bool>() ? $$"""{"subject":"{{login["subject"]}}"}""" : loginBody;
        var afterLogin = (await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?login_challenge={Uri.EscapeDataString(challenge)}", body)).Json(HttpStatusCode.OK))["redirect_to"]!.GetValue<string>();
        var toConsent = await b.GetRedirectAsync(afterLogin);
        var afterConsent = (await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/consent/accept?consent_challenge={Uri.EscapeDataString(Query(toConsent)["consent_challenge"])}", """{"grant_scope":["openid"]}""")).Json(HttpStatusCode.OK))["redirect_to"]!.GetValue<string>();
        var callback = await b.GetRedirectAsync(afterConsent);
        var req = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", "authorization_code"), new("code", Query(callback)["code"]), new("redirect_uri", RedirectUri)]),
        };
        req.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{client.Id}:{client.Secret}")));
        var t = await (await s.Public.SendAsync(req)).Json(HttpStatusCode.OK);
        return new JsonWebToken(t["id_token"]!.GetValue<string>());
    }

    private static string LogoutUrlFor(string idToken, string? redirect = LoggedOut, string? state = "state-logout-1") =>
        "/oauth2/sessions/logout?id_token_hint=" + Uri.EscapeDataString(idToken)
        + (redirect is null ? "" : "&post_logout_redirect_uri=" + Uri.EscapeDataString(redirect))
        + (state is null ? "" : "&state=" + Uri.EscapeDataString(state));

    private static async Task<JsonNode> GetLogoutRequestAsync(TestServer s, string challenge, HttpStatusCode expected = HttpStatusCode.OK) =>
        await (await s.AdminWithKey.GetAsync($"/admin/oauth2/auth/requests/logout?logout_challenge={Uri.EscapeDataString(challenge)}")).Json(expected);

    private static async Task<string> AcceptLogoutAsync(TestServer s, string challenge) =>
        (await (await s.AdminWithKey.PutAsync($"/admin/oauth2/auth/requests/logout/accept?logout_challenge={Uri.EscapeDataString(challenge)}", null)).Json(HttpStatusCode.OK))["redirect_to"]!.GetValue<string>();

    /// <summary>The public keys of the server's JWKS, to verify tokens as a client would.</summary>
    private static async Task<List<SecurityKey>> JwksAsync(TestServer s) =>
        [.. new JsonWebKeySet(await (await s.Public.GetAsync("/.well-known/jwks.json")).Content.ReadAsStringAsync()).Keys];

    /// <summary>Signs <paramref name="claims"/> with the server's own ID-token key (the admin API hands out the private key, as Hydra's).</summary>
    private static async Task<string> SignWithServerKeyAsync(TestServer s, JsonObject claims)
    {
        var set = await (await s.AdminWithKey.GetAsync("/admin/keys/hydra.openid.id-token")).Json(HttpStatusCode.OK);
        var key = new JsonWebKey(set["keys"]![0]!.ToJsonString());
        return new JsonWebTokenHandler().CreateToken(claims.ToJsonString(), new SigningCredentials(key, key.Alg));
    }

    private static async Task<int> LogoutRequestCountAsync(TestServer s)
    {
        await using var scope = s.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<GatehouseDbContext>().OAuth2LogoutRequests.CountAsync();
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Rp_initiated_logout_ends_the_login_session_with_front_and_back_channel_logout_to_every_client_that_took_part(string db)
    {
        await using var receiver = await HookReceiver.StartAsync();
        await using var server = await StartAsync(db);
        var s = server.S;
        var a = await CreateClientAsync(s, $$""","frontchannel_logout_uri":"https://app.example/fc?tenant=1","backchannel_logout_uri":"{{receiver.On("/bc/a", 200)}}" """);
        var b2 = await CreateClientAsync(s, $$""","backchannel_logout_uri":"{{receiver.On("/bc/b", 204)}}" """);
        var notInSession = await CreateClientAsync(s, $$""","backchannel_logout_uri":"{{receiver.On("/bc/c", 200)}}" """);
        var browser = new Browser(s);
        var idToken = await SignInAsync(s, browser, a);
        var sid = idToken.GetClaim("sid").Value;
        // The second client joins the same login session (a remembered login: skip).
        Assert.Equal(sid, (await SignInAsync(s, browser, b2)).GetClaim("sid").Value);
        // Someone else's session with the third client.
        await SignInAsync(s, new Browser(s), notInSession, """{"subject":"bob","remember":true}""");

        var toLogoutApp = await browser.GetRedirectAsync(LogoutUrlFor(idToken.EncodedToken));
        Assert.StartsWith(LogoutUrl + "?logout_challenge=", toLogoutApp.ToString());
        var challenge = Query(toLogoutApp)["logout_challenge"];

        var request = (await GetLogoutRequestAsync(s, challenge)).AsObject();
        Assert.Equal(["challenge", "subject", "sid", "request_url", "rp_initiated", "expires_at", "requested_at", "client"], request.Select(kv => kv.Key));
        Assert.Equal(challenge, request["challenge"]!.GetValue<string>());
        Assert.Equal("alice", request["subject"]!.GetValue<string>());
        Assert.Equal(sid, request["sid"]!.GetValue<string>());
        Assert.True(request["rp_initiated"]!.GetValue<bool>());
        Assert.StartsWith("/oauth2/sessions/logout?id_token_hint=", request["request_url"]!.GetValue<string>());
        Assert.Equal(a.Id, request["client"]!["client_id"]!.GetValue<string>());
        Assert.Null(request["client"]!["client_secret"]);
        var requestedAt = DateTime.Parse(request["requested_at"]!.GetValue<string>(), null, System.Globalization.DateTimeStyles.AdjustToUniversal);
        var expiresAt = DateTime.Parse(request["expires_at"]!.GetValue<string>(), null, System.Globalization.DateTimeStyles.AdjustToUniversal);
        Assert.Equal(TimeSpan.FromMinutes(30), expiresAt - requestedAt);

        var verifierUrl = await AcceptLogoutAsync(s, challenge);
        Assert.StartsWith(s.PublicUrl + "/oauth2/sessions/logout?logout_verifier=", verifierUrl);
        Assert.NotNull(browser.SessionCookie);

        // The browser comes back: a page loads the front-channel URI in an iframe, then goes on to the client with its state.
        var page = await browser.Client.GetAsync(verifierUrl);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        var frames = System.Text.RegularExpressions.Regex.Matches(html, "<iframe src=\"([^\"]*)\"").Select(m => WebUtility.HtmlDecode(m.Groups[1].Value)).ToList();
        Assert.Equal([$"https://app.example/fc?tenant=1&iss={Uri.EscapeDataString(s.PublicUrl + "/")}&sid={sid}"], frames);
        Assert.Contains($"url={LoggedOut}?state=state-logout-1\"", WebUtility.HtmlDecode(html));
        var csp = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("frame-src https://app.example", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.Null(browser.SessionCookie);

        // Back-channel: a signed logout token for each client of the session, none for the other session's client.
        var tokenA = await LogoutTokenAsync(receiver, "/bc/a");
        var tokenB = await LogoutTokenAsync(receiver, "/bc/b");
        await s.Services.GetRequiredService<BackChannelLogout>().WhenIdleAsync();
        Assert.Empty(receiver.Received("/bc/c"));
        var keys = await JwksAsync(s);
        foreach (var (token, clientId) in new[] { (tokenA, a.Id), (tokenB, b2.Id) })
        {
            var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
            {
                IssuerSigningKeys = keys,
                ValidIssuer = s.PublicUrl + "/",
                ValidAudience = clientId,
                ValidateLifetime = false,
                RequireExpirationTime = false,
            });
            Assert.True(result.IsValid, result.Exception?.Message);
            var jwt = (JsonWebToken)result.SecurityToken;
            var claims = JsonNode.Parse(Base64UrlEncoder.Decode(jwt.EncodedPayload))!.AsObject();
            Assert.Equal(["iss", "aud", "iat", "jti", "events", "sid"], claims.Select(kv => kv.Key));
            Assert.Equal(sid, claims["sid"]!.GetValue<string>());
            Assert.Equal("{}", claims["events"]!["http://schemas.openid.net/event/backchannel-logout"]!.ToJsonString());
            Assert.Equal(new DateTimeOffset(server.Clock.GetUtcNow().UtcDateTime).ToUnixTimeSeconds(), claims["iat"]!.GetValue<long>());
            Assert.Null(claims["sub"]);
            Assert.False(string.IsNullOrEmpty(jwt.Kid));
        }
        Assert.NotEqual(new JsonWebToken(tokenA).Id, new JsonWebToken(tokenB).Id);

        // The login session is gone: the next authorization request asks to log in.
        var next = await browser.GetRedirectAsync(AuthorizeUrl(a.Id));
        var login = await (await s.AdminWithKey.GetAsync($"/admin/oauth2/auth/requests/login?login_challenge={Uri.EscapeDataString(Query(next)["login_challenge"])}")).Json(HttpStatusCode.OK);
        Assert.False(login["skip"]!.GetValue<bool>());

        // The handled request is 410 with its request URL; its verifier again only leads to the client, nothing is sent twice.
        var gone = await GetLogoutRequestAsync(s, challenge, HttpStatusCode.Gone);
        Assert.Equal(request["request_url"]!.GetValue<string>(), gone["redirect_to"]!.GetValue<string>());
        Assert.Equal($"{LoggedOut}?state=state-logout-1", (await browser.GetRedirectAsync(verifierUrl)).ToString());
        await s.Services.GetRequiredService<BackChannelLogout>().WhenIdleAsync();
        Assert.Single(receiver.Received("/bc/a"));
        Assert.Single(receiver.Received("/bc/b"));
        // The same hint again: the session is unknown now, so straight back to the client.
        Assert.Equal($"{LoggedOut}?state=state-logout-1", (await browser.GetRedirectAsync(LogoutUrlFor(idToken.EncodedToken))).ToString());
    }

    private static async Task<string> LogoutTokenAsync(HookReceiver receiver, string path)
    {
        var hit = await receiver.WaitForAsync(path, _ => true, Wait);
        Assert.Equal("POST", hit.Method);
        Assert.StartsWith("application/x-www-form-urlencoded", hit.Headers["Content-Type"]);
        var form = QueryHelpers.ParseQuery(hit.Body);
        Assert.Equal(["logout_token"], form.Keys);
        return form["logout_token"].ToString();
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Rp_initiated_logout_refuses_bad_hints_and_unregistered_redirects_with_hydras_errors_and_changes_nothing(string db)
    {
        await using var server = await StartAsync(db);
        var s = server.S;
        var client = await CreateClientAsync(s);
        var browser = new Browser(s);
        var idToken = await SignInAsync(s, browser, client);
        var sid = idToken.GetClaim("sid").Value;
        var issuer = s.PublicUrl + "/";
        var now = new DateTimeOffset(server.Clock.GetUtcNow().UtcDateTime).ToUnixTimeSeconds();
        JsonObject Claims(Action<JsonObject> change)
        {
            var c = new JsonObject { ["iss"] = issuer, ["sub"] = "alice", ["aud"] = new JsonArray(client.Id), ["iat"] = now - 60, ["exp"] = now + 3600, ["sid"] = sid };
            change(c);
            return c;
        }
        using var otherKey = System.Security.Cryptography.RSA.Create(2048);
        var foreign = new JsonWebTokenHandler().CreateToken(Claims(_ => { }).ToJsonString(), new SigningCredentials(new RsaSecurityKey(otherKey) { KeyId = "foreign" }, "RS256"));

        var cases = new (string Url, string Hint)[]
        {
            ("/oauth2/sessions/logout?state=abcdefgh1", "Logout failed because query parameter state is set but id_token_hint is missing."),
            ($"/oauth2/sessions/logout?post_logout_redirect_uri={Uri.EscapeDataString(LoggedOut)}", "Logout failed because query parameter post_logout_redirect_uri is set but id_token_hint is missing."),
            (LogoutUrlFor("i am not valid"), "compact JWS format must have three parts"),
            (LogoutUrlFor(foreign), "error in cryptographic primitive"),
            (LogoutUrlFor(await SignWithServerKeyAsync(s, Claims(c => c.Remove("iss")))), "Logout failed because issuer claim value '' from query parameter id_token_hint does not match with issuer value from configuration"),
            (LogoutUrlFor(await SignWithServerKeyAsync(s, Claims(c => c["iss"] = "some-issuer"))), "Logout failed because issuer claim value 'some-issuer' from query parameter id_token_hint does not match"),
            (LogoutUrlFor(await SignWithServerKeyAsync(s, Claims(c => c["iat"] = now + 7200))), "Token used before issued"),
            (LogoutUrlFor(await SignWithServerKeyAsync(s, Claims(c => c.Remove("sid")))), "Logout failed because query parameter id_token_hint is missing sid claim."),
            (LogoutUrlFor(await SignWithServerKeyAsync(s, Claims(c => c.Remove("sub")))), "Logout failed because query parameter id_token_hint is missing sub claim."),
            (LogoutUrlFor(await SignWithServerKeyAsync(s, Claims(c => c["aud"] = new JsonArray("no-such-client")))), "Logout failed because none of the listed audiences is a registered OAuth 2.0 Client."),
            (LogoutUrlFor(idToken.EncodedToken, "https://app.example/elsewhere"), "Logout failed because query parameter post_logout_redirect_uri is not a whitelisted as a post_logout_redirect_uri for the client."),
        };
        foreach (var (url, hint) in cases)
        {
            var res = await browser.Client.GetAsync(url);
            Assert.Contains(hint, res.FallbackError(s.PublicUrl, "invalid_request")["error_description"]);
            Assert.False(res.Headers.Contains("Set-Cookie"), url);
        }
        // The POSTed form is read as the query is.
        var posted = await browser.Client.PostAsync("/oauth2/sessions/logout", new FormUrlEncodedContent([new("state", "abcdefgh1")]));
        Assert.Contains("state is set but id_token_hint is missing", posted.FallbackError(s.PublicUrl, "invalid_request")["error_description"]);
        // A form body that cannot be parsed (a broken multipart body) is Hydra's invalid_request, not a 500.
        using var broken = new StringContent("--x\r\nnot a part", System.Text.Encoding.UTF8);
        broken.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("multipart/form-data; boundary=x");
        var unparsed = await browser.Client.PostAsync("/oauth2/sessions/logout", broken);
        Assert.Contains("Logout failed because the 'POST' request could not be parsed.", unparsed.FallbackError(s.PublicUrl, "invalid_request")["error_description"]);

        Assert.Equal(0, await LogoutRequestCountAsync(s));
        Assert.NotNull(browser.SessionCookie);

        // An expired ID token is a good hint (Hydra); the aud may be a plain string; no post_logout_redirect_uri: the default.
        var expired = await SignWithServerKeyAsync(s, Claims(c =>
        {
            c["exp"] = now - 60;
            c["aud"] = client.Id;
        }));
        var toApp = await browser.GetRedirectAsync(LogoutUrlFor(expired, redirect: null, state: "ignored-state"));
        Assert.StartsWith(LogoutUrl, toApp.ToString());
        var verifier = await AcceptLogoutAsync(s, Query(toApp)["logout_challenge"]);
        Assert.Equal(PostLogoutDefault, (await browser.GetRedirectAsync(verifier)).ToString());

        // A hint whose session is unknown: straight to the client's redirect with its state, no request made.
        var unknown = await SignWithServerKeyAsync(s, Claims(c => c["sid"] = Guid.NewGuid().ToString()));
        Assert.Equal($"{LoggedOut}?state=s-unknown-1", (await browser.GetRedirectAsync(LogoutUrlFor(unknown, state: "s-unknown-1"))).ToString());
        Assert.Equal(1, await LogoutRequestCountAsync(s));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Errors_go_to_urls_error_when_it_is_set(string db)
    {
        await using var server = await StartAsync(db, o => o.Urls.Error = "https://login.example/error");
        var res = await new Browser(server.S).Client.GetAsync("/oauth2/sessions/logout?state=abcdefgh1");
        Assert.Equal(HttpStatusCode.Found, res.StatusCode);
        var q = Query(res.Headers.Location!);
        Assert.StartsWith("https://login.example/error?", res.Headers.Location!.ToString());
        Assert.Equal("invalid_request", q["error"]);
        Assert.Contains("state is set but id_token_hint is missing", q["error_description"]);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Without_a_logout_app_and_without_the_built_in_pages_a_logout_is_hydras_server_error_and_nothing_is_stored(string db)
    {
        await using var server = await StartAsync(db, o =>
        {
            o.Urls.Logout = null;
            o.Ui.Enabled = false;
        });
        var s = server.S;
        var client = await CreateClientAsync(s);
        var browser = new Browser(s);
        var idToken = await SignInAsync(s, browser, client);
        var error = (await browser.Client.GetAsync(LogoutUrlFor(idToken.EncodedToken))).FallbackError(s.PublicUrl, "server_error");
        Assert.Contains("set urls.logout", error["error_description"]);
        Assert.Equal(0, await LogoutRequestCountAsync(s));
        Assert.NotNull(browser.SessionCookie);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_browser_logs_out_its_own_remembered_login_and_only_that_browser_can_complete_it(string db)
    {
        await using var server = await StartAsync(db);
        var s = server.S;
        var client = await CreateClientAsync(s);

        // Without a remembered login there is nothing to log out: on to urls.post_logout_redirect.
        var stranger = new Browser(s);
        Assert.Equal(PostLogoutDefault, (await stranger.GetRedirectAsync("/oauth2/sessions/logout")).ToString());

        var browser = new Browser(s);
        var idToken = await SignInAsync(s, browser, client);
        var toApp = await browser.GetRedirectAsync("/oauth2/sessions/logout");
        var challenge = Query(toApp)["logout_challenge"];
        var request = (await GetLogoutRequestAsync(s, challenge)).AsObject();
        Assert.False(request["rp_initiated"]!.GetValue<bool>());
        Assert.Equal(idToken.GetClaim("sid").Value, request["sid"]!.GetValue<string>());
        Assert.Equal("alice", request["subject"]!.GetValue<string>());
        Assert.Null(request["client"]);
        Assert.Equal("/oauth2/sessions/logout", request["request_url"]!.GetValue<string>());
        var verifier = await AcceptLogoutAsync(s, challenge);

        // Another browser with the verifier logs nobody out.
        Assert.Equal(PostLogoutDefault, (await stranger.GetRedirectAsync(verifier)).ToString());
        var next = Query(await browser.GetRedirectAsync(AuthorizeUrl(client.Id)))["login_challenge"];
        Assert.True((await (await s.AdminWithKey.GetAsync($"/admin/oauth2/auth/requests/login?login_challenge={Uri.EscapeDataString(next)}")).Json(HttpStatusCode.OK))["skip"]!.GetValue<bool>());

        // A new request in the right browser works (no front-channel clients: a plain redirect).
        var again = Query(await browser.GetRedirectAsync("/oauth2/sessions/logout"))["logout_challenge"];
        var res = await browser.Client.GetAsync(await AcceptLogoutAsync(s, again));
        Assert.Equal(HttpStatusCode.Found, res.StatusCode);
        Assert.Equal(PostLogoutDefault, res.Headers.Location!.ToString());
        Assert.Null(browser.SessionCookie);
        next = Query(await browser.GetRedirectAsync(AuthorizeUrl(client.Id)))["login_challenge"];
        Assert.False((await (await s.AdminWithKey.GetAsync($"/admin/oauth2/auth/requests/login?login_challenge={Uri.EscapeDataString(next)}")).Json(HttpStatusCode.OK))["skip"]!.GetValue<bool>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_logout_admin_api_answers_unknown_rejected_used_and_expired_requests_as_hydra(string db)
    {
        await using var server = await StartAsync(db);
        var s = server.S;
        var client = await CreateClientAsync(s);
        var browser = new Browser(s);
        var idToken = await SignInAsync(s, browser, client);

        // Unknown (and empty) challenges.
        foreach (var challenge in new[] { "unknown", "" })
        {
            var get = await s.AdminWithKey.GetAsync($"/admin/oauth2/auth/requests/logout?logout_challenge={challenge}");
            Assert.Equal("""{"error":"Unable to locate the resource","error_description":""}""", (await get.OAuth2Error(HttpStatusCode.NotFound)).ToJsonString());
            var accept = await s.AdminWithKey.PutAsync($"/admin/oauth2/auth/requests/logout/accept?logout_challenge={challenge}", null);
            Assert.Equal("""{"error":"Unable to locate the resource","error_description":""}""", (await accept.OAuth2Error(HttpStatusCode.NotFound)).ToJsonString());
            var reject = await s.AdminWithKey.PutAsync($"/admin/oauth2/auth/requests/logout/reject?logout_challenge={challenge}", null);
            Assert.Equal("""{"error":"Not Found","error_description":"Unable to locate the requested resource"}""", (await reject.OAuth2Error(HttpStatusCode.NotFound)).ToJsonString());
        }
        // An unknown verifier: Hydra's x.ErrNotFound, forwarded to urls.error (the fallback page here).
        Assert.Equal("Unable to locate the requested resource",
            (await browser.Client.GetAsync("/oauth2/sessions/logout?logout_verifier=nope")).FallbackError(s.PublicUrl, "Not Found")["error_description"]);

        // Rejected: 204 without a body, the request is gone for GET, the app's earlier verifier no longer works.
        var challenge1 = Query(await browser.GetRedirectAsync(LogoutUrlFor(idToken.EncodedToken)))["logout_challenge"];
        var early = await AcceptLogoutAsync(s, challenge1);
        var rejected = await s.AdminWithKey.PutAsync($"/admin/oauth2/auth/requests/logout/reject?challenge={Uri.EscapeDataString(challenge1)}", null);
        Assert.Equal(HttpStatusCode.NoContent, rejected.StatusCode);
        Assert.Empty(await rejected.Content.ReadAsByteArrayAsync());
        await (await s.AdminWithKey.GetAsync($"/admin/oauth2/auth/requests/logout?challenge={Uri.EscapeDataString(challenge1)}")).OAuth2Error(HttpStatusCode.NotFound);
        (await browser.Client.GetAsync(early)).FallbackError(s.PublicUrl, "Not Found");
        Assert.NotNull(browser.SessionCookie);
        // Hydra lets the app change its mind: accepting after a reject works.
        var late = await AcceptLogoutAsync(s, challenge1);
        // Accepting again answers the same verifier (Hydra returns the one it stored), so a retried call's first answer works.
        Assert.Equal(late, await AcceptLogoutAsync(s, challenge1));

        // Expired: the verifier is refused with request_unauthorized and the login stays.
        server.Clock.Advance(TimeSpan.FromMinutes(31));
        var expired = (await browser.Client.GetAsync(late)).FallbackError(s.PublicUrl, "request_unauthorized");
        Assert.Contains("The logout request has expired, please try the flow again.", expired["error_description"]);
        Assert.NotNull(browser.SessionCookie);

        // The janitor removes expired logout requests (and only those: a new one stays).
        var fresh = Query(await browser.GetRedirectAsync(LogoutUrlFor(idToken.EncodedToken)))["logout_challenge"];
        Assert.Equal(2, await LogoutRequestCountAsync(s));
        var cleaned = await s.Services.GetRequiredService<Gatehouse.Persistence.Cleanup.DatabaseCleanup>().RunAsync(TimeSpan.Zero, 10, TimeSpan.Zero, null, TestContext.Current.CancellationToken);
        Assert.Contains(cleaned.Tables, t => t.Name == "expired OAuth2 logout requests" && t.Deleted == 1);
        Assert.Equal(1, await LogoutRequestCountAsync(s));
        await GetLogoutRequestAsync(s, fresh);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Revoking_login_sessions_sends_back_channel_logout_and_ends_the_kratos_sessions_behind_them(string db)
    {
        await using var receiver = await HookReceiver.StartAsync();
        await using var server = await StartAsync(db);
        var s = server.S;
        var client = await CreateClientAsync(s, $$""","backchannel_logout_uri":"{{receiver.On("/bc", 200)}}" """);

        // Two Kratos sessions of one identity, each the identity provider session of one login session.
        var (email, token1, body1) = await Gatehouse.Tests.SelfService.FlowTestHelpers.RegisterApi(s);
        var identity = body1["identity"]!["id"]!.GetValue<string>();
        var kratos1 = body1["session"]!["id"]!.GetValue<string>();
        var login = await (await s.Public.PostJson($"/self-service/login?flow={(await Gatehouse.Tests.SelfService.FlowTestHelpers.ApiFlow(s.Public, "login"))["id"]}",
            new JsonObject { ["method"] = "password", ["identifier"] = email, ["password"] = Gatehouse.Tests.SelfService.FlowTestHelpers.GoodPassword })).Json(HttpStatusCode.OK);
        var (token2, kratos2) = (login["session_token"]!.GetValue<string>(), login["session"]!["id"]!.GetValue<string>());

        var b1 = new Browser(s);
        var sid1 = (await SignInAsync(s, b1, client, $$"""{"subject":"{{identity}}","remember":true,"identity_provider_session_id":"{{kratos1}}"}""")).GetClaim("sid").Value;
        var b2 = new Browser(s);
        var sid2 = (await SignInAsync(s, b2, client, $$"""{"subject":"{{identity}}","remember":true,"identity_provider_session_id":"{{kratos2}}"}""")).GetClaim("sid").Value;

        // By sid: that session only.
        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync($"/admin/oauth2/auth/sessions/login?sid={sid1}")).StatusCode);
        var first = QueryHelpers.ParseQuery((await receiver.WaitForAsync("/bc", _ => true, Wait)).Body)["logout_token"].ToString();
        Assert.Equal(sid1, new JsonWebToken(first).GetClaim("sid").Value);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Whoami(s, token1)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Whoami(s, token2)).StatusCode);
        // Again, and an unknown or malformed sid: nothing to do, nothing sent.
        foreach (var sid in new[] { sid1, Guid.NewGuid().ToString(), "not-a-uuid" })
            Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync($"/admin/oauth2/auth/sessions/login?sid={sid}")).StatusCode);

        // By subject: every remaining session, with its back-channel logout and Kratos session.
        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync($"/admin/oauth2/auth/sessions/login?subject={identity}")).StatusCode);
        var second = await receiver.WaitForAsync("/bc", r => QueryHelpers.ParseQuery(r.Body)["logout_token"].ToString() != first, Wait);
        Assert.Equal(sid2, new JsonWebToken(QueryHelpers.ParseQuery(second.Body)["logout_token"].ToString()).GetClaim("sid").Value);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Whoami(s, token2)).StatusCode);
        await s.Services.GetRequiredService<BackChannelLogout>().WhenIdleAsync();
        Assert.Equal(2, receiver.Received("/bc").Count);

        // Neither parameter is Hydra's 400.
        Assert.Contains("Either 'subject' or 'sid' query parameters need to be defined.",
            (await (await s.AdminWithKey.DeleteAsync("/admin/oauth2/auth/sessions/login")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request"))["error_description"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_failing_back_channel_receiver_is_logged_without_the_token_and_does_not_hold_up_the_logout(string db)
    {
        await using var receiver = await HookReceiver.StartAsync();
        await using var server = await StartAsync(db);
        var s = server.S;
        var refusing = await CreateClientAsync(s, $$""","backchannel_logout_uri":"{{receiver.On("/bc/refuse", 500)}}?secret=k1" """);
        var unreachable = await CreateClientAsync(s, $$""","backchannel_logout_uri":"http://127.0.0.1:{{TestServer.FreePort()}}/bc" """);
        var browser = new Browser(s);
        var idToken = await SignInAsync(s, browser, refusing);
        await SignInAsync(s, browser, unreachable);

        var challenge = Query(await browser.GetRedirectAsync(LogoutUrlFor(idToken.EncodedToken)))["logout_challenge"];
        Assert.Equal($"{LoggedOut}?state=state-logout-1", (await browser.GetRedirectAsync(await AcceptLogoutAsync(s, challenge))).ToString());
        var token = QueryHelpers.ParseQuery((await receiver.WaitForAsync("/bc/refuse", _ => true, Wait)).Body)["logout_token"].ToString();
        await s.Services.GetRequiredService<BackChannelLogout>().WhenIdleAsync();

        var lines = server.Logs.Lines.Where(l => l.Contains("Back-channel logout", StringComparison.Ordinal)).ToList();
        Assert.Contains(lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains(refusing.Id, StringComparison.Ordinal) && l.Contains("got 500", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains(unreachable.Id, StringComparison.Ordinal));
        Assert.DoesNotContain(server.Logs.Lines, l => l.Contains(token, StringComparison.Ordinal) || l.Contains("secret=k1", StringComparison.Ordinal));
    }

    private static Task<HttpResponseMessage> Whoami(TestServer s, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/sessions/whoami");
        request.Headers.Add("X-Session-Token", token);
        return s.Public.SendAsync(request);
    }
}
