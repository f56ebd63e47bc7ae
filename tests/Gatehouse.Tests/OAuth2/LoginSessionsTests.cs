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

/// <summary>
/// Remembered logins (Hydra's authentication sessions and <c>ory_hydra_session</c> cookie): <c>skip</c> at login,
/// <c>prompt</c> and <c>max_age</c>, and the consent/login session admin API, driven as a login/consent app drives Hydra.
/// </summary>
public sealed class LoginSessionsTests
{
    private const string LoginUrl = "https://login.example/login";
    private const string ConsentUrl = "https://login.example/consent";
    private const string RedirectUri = "https://app.example/callback";

    private static Task<TestServer> StartAsync(string db, FakeTimeProvider clock) =>
        TestServer.StartAsync(db, o =>
        {
            o.Urls.Login = LoginUrl;
            o.Urls.Consent = ConsentUrl;
        }, services =>
        {
            services.AddSingleton(new KeyGeneration { RsaBits = 2048 });
            services.AddSingleton<TimeProvider>(clock);
        });

    private sealed class Browser(TestServer s)
    {
        public CookieContainer Jar { get; } = new();

        private HttpClient Client => _client ??= new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = Jar }) { BaseAddress = new Uri(s.PublicUrl) };
        private HttpClient? _client;

        public async Task<Uri> GetRedirectAsync(string url)
        {
            var res = await Client.GetAsync(url);
            Assert.True(res.StatusCode is HttpStatusCode.Found or HttpStatusCode.SeeOther, $"expected a redirect from {url}, got {(int)res.StatusCode}: {await res.Content.ReadAsStringAsync()}");
            return res.Headers.Location!;
        }

        public Cookie? SessionCookie => Jar.GetAllCookies().FirstOrDefault(c => c.Name == "ory_hydra_session");
    }

    private static async Task<string> CreateClientAsync(TestServer s) =>
        (await (await s.AdminWithKey.PostJson("/admin/clients", $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid photos.read"}""")).Json(HttpStatusCode.Created))["client_id"]!.GetValue<string>();

    private static string AuthorizeUrl(string clientId, string extra = "") =>
        $"/oauth2/auth?response_type=code&client_id={Uri.EscapeDataString(clientId)}&redirect_uri={Uri.EscapeDataString(RedirectUri)}&scope=openid&state=state-123456&nonce=nonce-abcdefgh{extra}";

    private static Dictionary<string, string> Query(Uri u) => QueryHelpers.ParseQuery(u.Query).ToDictionary(kv => kv.Key, kv => kv.Value.ToString());

    private static async Task<(string Challenge, JsonObject Request)> LoginRequestAsync(TestServer s, Browser b, string url)
    {
        var toLogin = await b.GetRedirectAsync(url);
        Assert.StartsWith(LoginUrl, toLogin.ToString());
        var challenge = Query(toLogin)["login_challenge"];
        var request = (await (await s.AdminWithKey.GetAsync($"/admin/oauth2/auth/requests/login?login_challenge={Uri.EscapeDataString(challenge)}")).Json(HttpStatusCode.OK)).AsObject();
        return (challenge, request);
    }

    private static async Task<string> AcceptLoginAsync(TestServer s, string challenge, string body) =>
        (await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?login_challenge={Uri.EscapeDataString(challenge)}", body)).Json(HttpStatusCode.OK))["redirect_to"]!.GetValue<string>();

    /// <summary>From the login verifier through consent (accepted with <paramref name="consent"/>) to the client's callback.</summary>
    private static async Task<Uri> ConsentAsync(TestServer s, Browser b, string loginRedirect, string consent = """{"grant_scope":["openid"]}""")
    {
        var toConsent = await b.GetRedirectAsync(loginRedirect);
        Assert.StartsWith(ConsentUrl, toConsent.ToString());
        var redirect = (await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/consent/accept?consent_challenge={Uri.EscapeDataString(Query(toConsent)["consent_challenge"])}", consent)).Json(HttpStatusCode.OK))["redirect_to"]!.GetValue<string>();
        return await b.GetRedirectAsync(redirect);
    }

    private static async Task<JsonWebToken> IdTokenAsync(TestServer s, string clientId, string secret, Uri callback)
    {
        var req = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", "authorization_code"), new("code", Query(callback)["code"]), new("redirect_uri", RedirectUri)]),
        };
        req.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{clientId}:{secret}")));
        var t = await (await s.Public.SendAsync(req)).Json(HttpStatusCode.OK);
        return new JsonWebToken(t["id_token"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_remembered_login_makes_the_next_request_skip_with_the_same_subject_session_and_auth_time(string db)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var s = await StartAsync(db, clock);
        var c = await (await s.AdminWithKey.PostJson("/admin/clients", $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid"}""")).Json(HttpStatusCode.Created);
        var (id, secret) = (c["client_id"]!.GetValue<string>(), c["client_secret"]!.GetValue<string>());
        var b = new Browser(s);

        var (ch1, first) = await LoginRequestAsync(s, b, AuthorizeUrl(id));
        Assert.False(first["skip"]!.GetValue<bool>());
        var callback1 = await ConsentAsync(s, b, await AcceptLoginAsync(s, ch1, """{"subject":"alice","remember":true,"remember_for":3600}"""));
        var cookie = b.SessionCookie;
        Assert.NotNull(cookie);
        Assert.True(cookie.HttpOnly);
        var token1 = await IdTokenAsync(s, id, secret, callback1);
        // The cookie is a secret of its own, not the session id the tokens show.
        Assert.NotEqual(token1.GetClaim("sid").Value, cookie.Value);

        clock.Advance(TimeSpan.FromMinutes(10));
        var (ch2, second) = await LoginRequestAsync(s, b, AuthorizeUrl(id));
        Assert.True(second["skip"]!.GetValue<bool>());
        Assert.Equal("alice", second["subject"]!.GetValue<string>());
        Assert.Equal(first["session_id"]!.GetValue<string>(), second["session_id"]!.GetValue<string>());
        // Another subject than the remembered one: back to the request with prompt=login.
        var other = await AcceptLoginAsync(s, ch2, """{"subject":"mallory"}""");
        Assert.Equal("login", Query(new Uri(other))["prompt"]);
        var token2 = await IdTokenAsync(s, id, secret, await ConsentAsync(s, b, await AcceptLoginAsync(s, ch2, """{"subject":"alice"}""")));
        Assert.Equal("alice", token2.Subject);
        Assert.Equal(token1.GetClaim("sid").Value, token2.GetClaim("sid").Value);
        Assert.Equal(token1.GetClaim("auth_time").Value, token2.GetClaim("auth_time").Value);

        // prompt=login asks again; max_age past the login's age asks again; prompt=none with it too old is login_required.
        Assert.False((await LoginRequestAsync(s, b, AuthorizeUrl(id, "&prompt=login"))).Request["skip"]!.GetValue<bool>());
        clock.Advance(TimeSpan.FromMinutes(5));
        Assert.True((await LoginRequestAsync(s, b, AuthorizeUrl(id, "&max_age=3600"))).Request["skip"]!.GetValue<bool>());
        Assert.False((await LoginRequestAsync(s, b, AuthorizeUrl(id, "&max_age=60"))).Request["skip"]!.GetValue<bool>());
        var tooOld = await b.GetRedirectAsync(AuthorizeUrl(id, "&max_age=60&prompt=none"));
        Assert.Equal("login_required", Query(tooOld)["error"]);

        // Another browser has no remembered login; after remember_for the cookie's login is gone.
        Assert.False((await LoginRequestAsync(s, new Browser(s), AuthorizeUrl(id))).Request["skip"]!.GetValue<bool>());
        clock.Advance(TimeSpan.FromHours(1));
        Assert.False((await LoginRequestAsync(s, b, AuthorizeUrl(id))).Request["skip"]!.GetValue<bool>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_id_token_hint_is_shown_to_the_login_app_and_must_name_the_logged_in_subject(string db)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var s = await StartAsync(db, clock);
        var c = await (await s.AdminWithKey.PostJson("/admin/clients", $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid"}""")).Json(HttpStatusCode.Created);
        var (id, secret) = (c["client_id"]!.GetValue<string>(), c["client_secret"]!.GetValue<string>());
        var b = new Browser(s);
        var (ch1, _) = await LoginRequestAsync(s, b, AuthorizeUrl(id));
        var idToken = (await IdTokenAsync(s, id, secret, await ConsentAsync(s, b, await AcceptLoginAsync(s, ch1, """{"subject":"alice","remember":true}""")))).EncodedToken;
        var hint = "&id_token_hint=" + Uri.EscapeDataString(idToken);

        // The login app sees the hint's claims (oidc_context.id_token_hint_claims); an expired hint is still a hint (Hydra).
        clock.Advance(TimeSpan.FromHours(2));
        var (ch2, request) = await LoginRequestAsync(s, b, AuthorizeUrl(id, hint));
        Assert.True(request["skip"]!.GetValue<bool>());
        Assert.Equal("alice", request["oidc_context"]!["id_token_hint_claims"]!["sub"]!.GetValue<string>());
        Assert.Equal(id, request["oidc_context"]!["id_token_hint_claims"]!["aud"]![0]!.GetValue<string>());
        Assert.StartsWith(RedirectUri + "?code=", (await ConsentAsync(s, b, await AcceptLoginAsync(s, ch2, """{"subject":"alice"}"""))).ToString());

        // Another browser logs in as someone else than the hint names: login_required after the login, and that browser's
        // remembered login is forgotten (fosite's ValidatePrompt; Hydra revokes the authentication session).
        var other = new Browser(s);
        var (ch3, fresh) = await LoginRequestAsync(s, other, AuthorizeUrl(id, hint));
        Assert.False(fresh["skip"]!.GetValue<bool>());
        var mismatch = await other.GetRedirectAsync(await AcceptLoginAsync(s, ch3, """{"subject":"mallory","remember":true}"""));
        Assert.Equal("login_required", Query(mismatch)["error"]);
        Assert.Contains("does not match the current session's subject", Query(mismatch)["error_description"]);
        Assert.Equal("state-123456", Query(mismatch)["state"]);

        // With a remembered login of another subject, the request is refused at once.
        var (ch4, _) = await LoginRequestAsync(s, other, AuthorizeUrl(id));
        await ConsentAsync(s, other, await AcceptLoginAsync(s, ch4, """{"subject":"mallory","remember":true}"""));
        var refused = await other.GetRedirectAsync(AuthorizeUrl(id, hint));
        Assert.Equal("login_required", Query(refused)["error"]);
        Assert.Contains("subject claim from id_token_hint does not match subject from authentication session", Query(refused)["error_description"]);

        // A hint this server did not sign (or not a JWT at all) is invalid_request, sent to the client; no flow is stored.
        var forged = idToken[..idToken.LastIndexOf('.')] + "." + Base64UrlEncoder.Encode(new byte[256]);
        await using (var scope = s.Services.CreateAsyncScope())
        {
            var db0 = scope.ServiceProvider.GetRequiredService<Gatehouse.Persistence.GatehouseDbContext>();
            var before = db0.OAuth2Flows.Count();
            foreach (var bad in new[] { forged, "not-a-jwt" })
            {
                var answer = Query(await new Browser(s).GetRedirectAsync(AuthorizeUrl(id, "&id_token_hint=" + Uri.EscapeDataString(bad))));
                Assert.Equal("invalid_request", answer["error"]);
                Assert.Equal("state-123456", answer["state"]);
            }
            Assert.Equal(before, db0.OAuth2Flows.Count());
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Prompt_none_succeeds_only_with_a_remembered_login_and_consent(string db)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var s = await StartAsync(db, clock);
        var id = await CreateClientAsync(s);
        var b = new Browser(s);
        Assert.Equal("login_required", Query(await b.GetRedirectAsync(AuthorizeUrl(id, "&prompt=none")))["error"]);
        var (ch, _) = await LoginRequestAsync(s, b, AuthorizeUrl(id));
        await ConsentAsync(s, b, await AcceptLoginAsync(s, ch, """{"subject":"bob","remember":true}"""));
        // Remembered login, but no remembered consent: consent_required.
        var (ch2, request) = await LoginRequestAsync(s, b, AuthorizeUrl(id, "&prompt=none"));
        Assert.True(request["skip"]!.GetValue<bool>());
        Assert.Equal("consent_required", Query(await b.GetRedirectAsync(await AcceptLoginAsync(s, ch2, """{"subject":"bob"}""")))["error"]);
        var (ch3, _) = await LoginRequestAsync(s, b, AuthorizeUrl(id));
        await ConsentAsync(s, b, await AcceptLoginAsync(s, ch3, """{"subject":"bob"}"""), """{"grant_scope":["openid"],"remember":true}""");
        var (ch4, _) = await LoginRequestAsync(s, b, AuthorizeUrl(id, "&prompt=none"));
        var callback = await ConsentAsync(s, b, await AcceptLoginAsync(s, ch4, """{"subject":"bob"}"""));
        Assert.StartsWith(RedirectUri + "?code=", callback.ToString());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_login_not_remembered_gives_no_cookie_and_forgets_the_browsers_earlier_one(string db)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var s = await StartAsync(db, clock);
        var id = await CreateClientAsync(s);
        var b = new Browser(s);
        var (ch, _) = await LoginRequestAsync(s, b, AuthorizeUrl(id));
        await ConsentAsync(s, b, await AcceptLoginAsync(s, ch, """{"subject":"carol","remember":true}"""));
        Assert.NotNull(b.SessionCookie);
        var (ch2, _) = await LoginRequestAsync(s, b, AuthorizeUrl(id, "&prompt=login"));
        await ConsentAsync(s, b, await AcceptLoginAsync(s, ch2, """{"subject":"carol","remember":false}"""));
        Assert.Null(b.SessionCookie);
        Assert.False((await LoginRequestAsync(s, b, AuthorizeUrl(id))).Request["skip"]!.GetValue<bool>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Consent_sessions_are_listed_and_revoked_with_their_tokens_and_login_sessions_revoked(string db)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var s = await StartAsync(db, clock);
        var c = await (await s.AdminWithKey.PostJson("/admin/clients", $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid photos.read","client_name":"Photos"}""")).Json(HttpStatusCode.Created);
        var (id, secret) = (c["client_id"]!.GetValue<string>(), c["client_secret"]!.GetValue<string>());
        var other = await CreateClientAsync(s);
        var b = new Browser(s);
        var (ch, login) = await LoginRequestAsync(s, b, AuthorizeUrl(id));
        var callback = await ConsentAsync(s, b, await AcceptLoginAsync(s, ch, """{"subject":"dave","remember":true}"""),
            """{"grant_scope":["openid"],"remember":true,"remember_for":3600,"session":{"id_token":{"email":"d@example.com"}},"context":{"k":1}}""");
        var (ch2, _) = await LoginRequestAsync(s, b, AuthorizeUrl(other));
        await ConsentAsync(s, b, await AcceptLoginAsync(s, ch2, """{"subject":"dave"}"""));
        var tokenReq = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", "authorization_code"), new("code", Query(callback)["code"]), new("redirect_uri", RedirectUri)]),
        };
        tokenReq.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{id}:{secret}")));
        var access = (await (await s.Public.SendAsync(tokenReq)).Json(HttpStatusCode.OK))["access_token"]!.GetValue<string>();

        var listed = await s.AdminWithKey.GetAsync("/admin/oauth2/auth/sessions/consent?subject=dave&page_size=1");
        var page1 = (await listed.Json(HttpStatusCode.OK)).AsArray();
        var one = Assert.Single(page1)!.AsObject();
        Assert.Equal(["consent_request_id", "grant_scope", "grant_access_token_audience", "session", "remember", "remember_for", "handled_at", "context", "consent_request"], one.Select(kv => kv.Key));
        Assert.Equal(id, one["consent_request"]!["client"]!["client_id"]!.GetValue<string>());
        Assert.Null(one["consent_request"]!["client"]!["client_secret"]);
        Assert.Equal("", one["consent_request"]!["challenge"]!.GetValue<string>());
        Assert.Equal("d@example.com", one["session"]!["id_token"]!["email"]!.GetValue<string>());
        Assert.Equal(3600, one["remember_for"]!.GetValue<int>());
        Assert.Contains("rel=\"next\"", listed.Headers.GetValues("Link").Single());
        var all = (await (await s.AdminWithKey.GetAsync("/admin/oauth2/auth/sessions/consent?subject=dave")).Json(HttpStatusCode.OK)).AsArray();
        Assert.Equal(2, all.Count);
        var bySession = (await (await s.AdminWithKey.GetAsync($"/admin/oauth2/auth/sessions/consent?subject=dave&login_session_id={login["session_id"]}")).Json(HttpStatusCode.OK)).AsArray();
        Assert.Equal(2, bySession.Count); // both were made in the same (remembered) login session
        Assert.Empty((await (await s.AdminWithKey.GetAsync("/admin/oauth2/auth/sessions/consent?subject=nobody")).Json(HttpStatusCode.OK)).AsArray());
        await (await s.AdminWithKey.GetAsync("/admin/oauth2/auth/sessions/consent")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");

        // Bad combinations change nothing.
        foreach (var q in new[] { "", "?subject=dave", "?client=" + id, "?subject=dave&client=x&all=true", "?consent_request_id=x&subject=dave" })
            await (await s.AdminWithKey.DeleteAsync("/admin/oauth2/auth/sessions/consent" + q)).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
        Assert.Equal(2, (await (await s.AdminWithKey.GetAsync("/admin/oauth2/auth/sessions/consent?subject=dave")).Json(HttpStatusCode.OK)).AsArray().Count);

        // Revoking the client's consent revokes its tokens and its remembered consent.
        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync($"/admin/oauth2/auth/sessions/consent?subject=dave&client={Uri.EscapeDataString(id)}")).StatusCode);
        Assert.False((await (await s.AdminWithKey.PostAsync("/admin/oauth2/introspect", new FormUrlEncodedContent([new("token", access)]))).Json(HttpStatusCode.OK))["active"]!.GetValue<bool>());
        var left = Assert.Single((await (await s.AdminWithKey.GetAsync("/admin/oauth2/auth/sessions/consent?subject=dave")).Json(HttpStatusCode.OK)).AsArray())!;
        Assert.Equal(other, left["consent_request"]!["client"]!["client_id"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync($"/admin/oauth2/auth/sessions/consent?consent_request_id={left["consent_request_id"]}")).StatusCode);
        Assert.Empty((await (await s.AdminWithKey.GetAsync("/admin/oauth2/auth/sessions/consent?subject=dave")).Json(HttpStatusCode.OK)).AsArray());
        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync("/admin/oauth2/auth/sessions/consent?subject=dave&all=true")).StatusCode);

        // Login sessions: neither subject nor sid is a 400; by subject, the next request asks to log in again.
        await (await s.AdminWithKey.DeleteAsync("/admin/oauth2/auth/sessions/login")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
        Assert.True((await LoginRequestAsync(s, b, AuthorizeUrl(id))).Request["skip"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync("/admin/oauth2/auth/sessions/login?subject=dave")).StatusCode);
        Assert.False((await LoginRequestAsync(s, b, AuthorizeUrl(id))).Request["skip"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.NoContent, (await s.AdminWithKey.DeleteAsync($"/admin/oauth2/auth/sessions/login?sid={Guid.NewGuid()}")).StatusCode);
    }
}
