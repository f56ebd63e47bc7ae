using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.OAuth2.Keys;
using Gatehouse.OAuth2.Tokens;
using Gatehouse.Persistence.Stores;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Tests.OAuth2;

/// <summary>
/// The authorization-code flow with PKCE through Hydra's login/consent challenge protocol, driven the way a login and a
/// consent app drive it (reading the redirects, calling the admin API), on both databases.
/// </summary>
public sealed class AuthorizationCodeFlowTests
{
    private const string LoginUrl = "https://login.example/login";
    private const string ConsentUrl = "https://login.example/consent";
    private const string RedirectUri = "https://app.example/callback";

    private static Task<TestServer> StartAsync(string db, Action<Gatehouse.Config.GatehouseOptions>? configure = null, TimeProvider? clock = null, Action<IServiceCollection>? configureServices = null) =>
        TestServer.StartAsync(db, o =>
        {
            o.Urls.Login = LoginUrl;
            o.Urls.Consent = ConsentUrl;
            configure?.Invoke(o);
        }, services =>
        {
            services.AddSingleton(new KeyGeneration { RsaBits = 2048 });
            if (clock is not null) services.AddSingleton(clock);
            configureServices?.Invoke(services);
        });

    private sealed class Browser(TestServer s)
    {
        public HttpClient Http { get; } = new(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(s.PublicUrl) };

        public async Task<Uri> GetRedirectAsync(string url)
        {
            var res = await Http.GetAsync(url);
            Assert.True(res.StatusCode is HttpStatusCode.Found or HttpStatusCode.SeeOther, $"expected a redirect from {url}, got {(int)res.StatusCode}: {await res.Content.ReadAsStringAsync()}");
            return res.Headers.Location!;
        }
    }

    private static async Task<(string Id, string Secret)> CreateClientAsync(TestServer s, string json)
    {
        var c = await (await s.AdminWithKey.PostJson("/admin/clients", json)).Json(HttpStatusCode.Created);
        return (c["client_id"]!.GetValue<string>(), c["client_secret"]?.GetValue<string>() ?? "");
    }

    private static (string Verifier, string Challenge) Pkce()
    {
        var verifier = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        return (verifier, Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
    }

    private static string AuthorizeUrl(string clientId, string? challenge, string scope = "openid photos.read", string state = "state-123456", string nonce = "nonce-abcdefgh", string extra = "") =>
        $"/oauth2/auth?response_type=code&client_id={Uri.EscapeDataString(clientId)}&redirect_uri={Uri.EscapeDataString(RedirectUri)}&scope={Uri.EscapeDataString(scope)}&state={state}&nonce={nonce}"
        + (challenge is null ? "" : $"&code_challenge={challenge}&code_challenge_method=S256") + extra;

    private static Dictionary<string, string> Query(Uri u) => QueryHelpers.ParseQuery(u.Query).ToDictionary(kv => kv.Key, kv => kv.Value.ToString());

    private static HttpRequestMessage TokenRequest(string clientId, string secret, params (string, string)[] form)
    {
        var req = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token") { Content = new FormUrlEncodedContent(form.Select(f => new KeyValuePair<string, string>(f.Item1, f.Item2))) };
        req.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{clientId}:{secret}")));
        return req;
    }

    /// <summary>Runs login and consent with the given accept bodies; returns the client callback URL.</summary>
    private static async Task<Uri> LoginAndConsentAsync(TestServer s, Browser browser, string authorizeUrl, string loginAccept, string consentAccept)
    {
        var toLogin = await browser.GetRedirectAsync(authorizeUrl);
        Assert.StartsWith(LoginUrl + "?login_challenge=", toLogin.ToString());
        var loginChallenge = Query(toLogin)["login_challenge"];
        var accepted = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?login_challenge={Uri.EscapeDataString(loginChallenge)}", loginAccept)).Json(HttpStatusCode.OK);
        var toConsent = await browser.GetRedirectAsync(accepted["redirect_to"]!.GetValue<string>());
        Assert.StartsWith(ConsentUrl + "?consent_challenge=", toConsent.ToString());
        var consentChallenge = Query(toConsent)["consent_challenge"];
        var consented = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/consent/accept?consent_challenge={Uri.EscapeDataString(consentChallenge)}", consentAccept)).Json(HttpStatusCode.OK);
        return await browser.GetRedirectAsync(consented["redirect_to"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Serve_cookies_name_scope_and_set_samesite_of_the_csrf_and_session_cookies(string db)
    {
        // Hydra consent/csrf.go setCSRFCookie and strategy_default.go (session cookie): the names, SameSite, domain and the
        // session cookie's path come from serve.cookies (driver/config/provider.go); the CSRF cookies are per client,
        // <name>_<murmur3 of the client id> (client/client.go CookieSuffix).
        await using var s = await StartAsync(db, o =>
        {
            o.Serve.Cookies.SameSiteMode = "Strict";
            o.Serve.Cookies.Names.LoginCsrf = "my_login_csrf";
            o.Serve.Cookies.Names.ConsentCsrf = "my_consent_csrf";
            o.Serve.Cookies.Names.Session = "my_session";
            o.Serve.Cookies.Paths.Session = "/oauth2";
        });
        var (id, _) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid"}""");
        var suffix = Gatehouse.OAuth2.Flows.OAuth2Cookies.ClientSuffix(id);
        var browser = new Browser(s);
        var (_, challenge) = Pkce();

        var start = await browser.Http.GetAsync(AuthorizeUrl(id, challenge, scope: "openid"));
        var loginCsrf = Assert.Single(start.Headers.GetValues("Set-Cookie")).ToLowerInvariant();
        Assert.StartsWith($"my_login_csrf_{suffix}=", loginCsrf);
        Assert.Contains("samesite=strict", loginCsrf);
        Assert.Contains("path=/;", loginCsrf + ";");
        Assert.DoesNotContain("domain=", loginCsrf);
        var loginChallenge = Query(start.Headers.Location!)["login_challenge"];
        var accepted = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?challenge={Uri.EscapeDataString(loginChallenge)}",
            """{"subject":"user-1","remember":true}""")).Json(HttpStatusCode.OK);
        // The renamed CSRF cookie is the one checked: the verifier works from this browser.
        var toConsent = await browser.Http.GetAsync(accepted["redirect_to"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Found, toConsent.StatusCode);
        Assert.StartsWith(ConsentUrl, toConsent.Headers.Location!.ToString());
        var toConsentCookies = toConsent.Headers.GetValues("Set-Cookie").Select(c => c.ToLowerInvariant()).ToList();
        var consentCsrf = Assert.Single(toConsentCookies, c => c.StartsWith("my_consent_csrf_", StringComparison.Ordinal));
        Assert.StartsWith($"my_consent_csrf_{suffix}=", consentCsrf);
        var session = Assert.Single(toConsentCookies, c => c.StartsWith("my_session=", StringComparison.Ordinal));
        Assert.Contains("path=/oauth2", session);
        Assert.Contains("samesite=strict", session);
        Assert.Contains("httponly", session);
        var consentChallenge = Query(toConsent.Headers.Location!)["consent_challenge"];
        var consented = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/consent/accept?consent_challenge={Uri.EscapeDataString(consentChallenge)}",
            """{"grant_scope":["openid"]}""")).Json(HttpStatusCode.OK);
        var toClient = await browser.Http.GetAsync(consented["redirect_to"]!.GetValue<string>());
        Assert.StartsWith(RedirectUri + "?code=ory_ac_", toClient.Headers.Location!.ToString());

        // The remembered login is found under its name (sent on its path, /oauth2/auth): the next request skips the login.
        var next = await browser.GetRedirectAsync(AuthorizeUrl(id, challenge, scope: "openid"));
        var skipped = await (await s.AdminWithKey.GetAsync($"/admin/oauth2/auth/requests/login?login_challenge={Uri.EscapeDataString(Query(next)["login_challenge"])}")).Json(HttpStatusCode.OK);
        Assert.True(skipped["skip"]!.GetValue<bool>());

        // A domain is set on the cookies when configured; SameSite=None (Hydra's default) is Lax for an http issuer.
        await using var other = await StartAsync(db, o => o.Serve.Cookies.Domain = "login.example");
        var (otherId, _) = await CreateClientAsync(other, $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid"}""");
        var withDomain = Assert.Single((await new Browser(other).Http.GetAsync(AuthorizeUrl(otherId, challenge, scope: "openid"))).Headers.GetValues("Set-Cookie")).ToLowerInvariant();
        Assert.StartsWith($"ory_hydra_login_csrf_{Gatehouse.OAuth2.Flows.OAuth2Cookies.ClientSuffix(otherId)}=", withDomain);
        Assert.Contains("domain=login.example", withDomain);
        Assert.Contains("samesite=lax", withDomain);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Same_site_legacy_workaround_sets_a_legacy_csrf_cookie_that_is_accepted_without_the_samesite_none_one(string db)
    {
        // Hydra consent/csrf.go: with SameSite=None (an https issuer) and same_site_legacy_workaround, each CSRF cookie gets a
        // <name>_legacy twin without SameSite, and a verifier is accepted with only the twin (getCSRFCookie).
        await using var s = await StartAsync(db, o =>
        {
            o.Urls.Self.Issuer = "https://auth.example/";
            o.Serve.Cookies.SameSiteLegacyWorkaround = true;
        });
        var (id, _) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid"}""");
        var name = "ory_hydra_login_csrf_" + Gatehouse.OAuth2.Flows.OAuth2Cookies.ClientSuffix(id);
        // A browser that keeps no cookies: each request sends exactly the Cookie header given.
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = new Uri(s.PublicUrl) };
        var (_, challenge) = Pkce();

        var start = await http.GetAsync(AuthorizeUrl(id, challenge, scope: "openid"));
        var cookies = start.Headers.GetValues("Set-Cookie").ToList();
        Assert.Equal(2, cookies.Count);
        var modern = Assert.Single(cookies, c => c.StartsWith(name + "=", StringComparison.Ordinal));
        var legacy = Assert.Single(cookies, c => c.StartsWith(name + "_legacy=", StringComparison.Ordinal));
        Assert.Contains("samesite=none", modern.ToLowerInvariant());
        Assert.DoesNotContain("samesite", legacy.ToLowerInvariant());
        Assert.Equal(modern.Split(';')[0].Split('=', 2)[1], legacy.Split(';')[0].Split('=', 2)[1]);

        var loginChallenge = Query(start.Headers.Location!)["login_challenge"];
        var accepted = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?challenge={Uri.EscapeDataString(loginChallenge)}",
            """{"subject":"user-1"}""")).Json(HttpStatusCode.OK);
        var verifierPath = new Uri(accepted["redirect_to"]!.GetValue<string>()).PathAndQuery;

        // Without either cookie the verifier is refused (to the client, request_forbidden) ...
        var refused = await http.GetAsync(verifierPath);
        Assert.Contains("error=request_forbidden", refused.Headers.Location!.ToString());
        // ... (a refused verifier is not spent) and the legacy twin alone is enough.
        var request = new HttpRequestMessage(HttpMethod.Get, verifierPath);
        request.Headers.Add("Cookie", legacy.Split(';')[0]);
        var toConsent = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Found, toConsent.StatusCode);
        Assert.StartsWith(ConsentUrl + "?consent_challenge=", toConsent.Headers.Location!.ToString());
        Assert.Contains(toConsent.Headers.GetValues("Set-Cookie"), c => c.StartsWith("ory_hydra_consent_csrf_", StringComparison.Ordinal) && c.Split(';')[0].Split('=')[0].EndsWith("_legacy", StringComparison.Ordinal));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Prompt_registration_sends_the_browser_to_urls_registration_else_the_login_url_with_the_identity_schema(string db)
    {
        // Hydra consent/strategy_default.go forwardAuthenticationRequest (RegistrationURL defaults to LoginURL,
        // driver/config/provider.go); fositex/config.go GetAllowedPrompts admits "registration".
        const string RegistrationUrl = "https://login.example/registration";
        await using var s = await StartAsync(db, o => o.Urls.Registration = RegistrationUrl);
        var (id, _) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid"}""");
        var browser = new Browser(s);
        var (_, challenge) = Pkce();

        var toRegistration = await browser.GetRedirectAsync(AuthorizeUrl(id, challenge, scope: "openid", extra: "&prompt=registration&identity_schema=customer"));
        Assert.Equal(RegistrationUrl, toRegistration.GetLeftPart(UriPartial.Path));
        Assert.Equal("customer", Query(toRegistration)["identity_schema"]);
        var loginChallenge = Query(toRegistration)["login_challenge"];
        await (await s.AdminWithKey.GetAsync($"/admin/oauth2/auth/requests/login?login_challenge={Uri.EscapeDataString(loginChallenge)}")).Json(HttpStatusCode.OK);

        var toLogin = await browser.GetRedirectAsync(AuthorizeUrl(id, challenge, scope: "openid"));
        Assert.Equal(LoginUrl, toLogin.GetLeftPart(UriPartial.Path));
        Assert.False(Query(toLogin).ContainsKey("identity_schema"));

        await using var fallback = await StartAsync(db);
        var (other, _) = await CreateClientAsync(fallback, $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid"}""");
        var toFallback = await new Browser(fallback).GetRedirectAsync(AuthorizeUrl(other, challenge, scope: "openid", extra: "&prompt=registration"));
        Assert.Equal(LoginUrl, toFallback.GetLeftPart(UriPartial.Path));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_full_flow_issues_a_code_then_tokens_with_a_signed_id_token_and_userinfo(string db)
    {
        await using var s = await StartAsync(db);
        var (id, secret) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid photos.*","audience":["https://api.example"]}""");
        var browser = new Browser(s);
        var (verifier, challenge) = Pkce();

        var toLogin = await browser.GetRedirectAsync(AuthorizeUrl(id, challenge, extra: "&audience=https%3A%2F%2Fapi.example&login_hint=alice&ui_locales=de%20en&acr_values=urn:mfa"));
        var loginChallenge = Query(toLogin)["login_challenge"];
        var loginRequest = (await (await s.AdminWithKey.GetAsync($"/admin/oauth2/auth/requests/login?login_challenge={Uri.EscapeDataString(loginChallenge)}")).Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal(["challenge", "requested_scope", "requested_access_token_audience", "skip", "subject", "oidc_context", "client", "request_url", "session_id"], loginRequest.Select(kv => kv.Key));
        Assert.Equal(loginChallenge, loginRequest["challenge"]!.GetValue<string>());
        Assert.Equal(["openid", "photos.read"], loginRequest["requested_scope"]!.AsArray().Select(x => x!.GetValue<string>()));
        Assert.Equal(["https://api.example"], loginRequest["requested_access_token_audience"]!.AsArray().Select(x => x!.GetValue<string>()));
        Assert.False(loginRequest["skip"]!.GetValue<bool>());
        Assert.Equal("alice", loginRequest["oidc_context"]!["login_hint"]!.GetValue<string>());
        Assert.Equal(["de", "en"], loginRequest["oidc_context"]!["ui_locales"]!.AsArray().Select(x => x!.GetValue<string>()));
        Assert.Equal(id, loginRequest["client"]!["client_id"]!.GetValue<string>());
        Assert.Null(loginRequest["client"]!["client_secret"]);
        Assert.StartsWith(s.PublicUrl + "/oauth2/auth?", loginRequest["request_url"]!.GetValue<string>());
        // The challenge's plain text is never stored.
        await using (var scope = s.Services.CreateAsyncScope())
        {
            var flow = scope.ServiceProvider.GetRequiredService<Gatehouse.Persistence.GatehouseDbContext>().OAuth2Flows.Single(f => f.ClientId == id);
            Assert.DoesNotContain(loginChallenge, flow.Request + flow.Login + flow.Consent, StringComparison.Ordinal);
        }

        var accepted = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?challenge={Uri.EscapeDataString(loginChallenge)}",
            """{"subject":"user-1","remember":false,"acr":"urn:mfa","amr":["pwd","otp"],"context":{"k":"v"}}""")).Json(HttpStatusCode.OK);
        // Another browser (without the login CSRF cookie) cannot use the verifier; it stays usable for the right one.
        var elsewhere = await new Browser(s).GetRedirectAsync(accepted["redirect_to"]!.GetValue<string>());
        Assert.StartsWith(RedirectUri + "?error=request_forbidden", elsewhere.ToString());
        var toConsent = await browser.GetRedirectAsync(accepted["redirect_to"]!.GetValue<string>());
        // The login request is used now: 410 with where to go.
        var gone = await (await s.AdminWithKey.GetAsync($"/admin/oauth2/auth/requests/login?login_challenge={Uri.EscapeDataString(loginChallenge)}")).Json(HttpStatusCode.Gone);
        Assert.Equal(loginRequest["request_url"]!.GetValue<string>(), gone["redirect_to"]!.GetValue<string>());
        // The login verifier cannot be used twice.
        var again = await browser.GetRedirectAsync(accepted["redirect_to"]!.GetValue<string>());
        Assert.StartsWith(RedirectUri + "?error=access_denied", again.ToString());

        var consentChallenge = Query(toConsent)["consent_challenge"];
        var consentRequest = (await (await s.AdminWithKey.GetAsync($"/admin/oauth2/auth/requests/consent?consent_challenge={Uri.EscapeDataString(consentChallenge)}")).Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal(["challenge", "consent_request_id", "requested_scope", "requested_access_token_audience", "skip", "subject", "oidc_context", "client", "request_url", "login_challenge", "login_session_id", "acr", "amr", "context"],
            consentRequest.Select(kv => kv.Key));
        Assert.Equal("user-1", consentRequest["subject"]!.GetValue<string>());
        Assert.Equal("urn:mfa", consentRequest["acr"]!.GetValue<string>());
        Assert.Equal("""{"k":"v"}""", consentRequest["context"]!.ToJsonString());
        Assert.Equal(loginRequest["session_id"]!.GetValue<string>(), consentRequest["login_session_id"]!.GetValue<string>());

        var consented = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/consent/accept?consent_challenge={Uri.EscapeDataString(consentChallenge)}",
            """{"grant_scope":["openid","photos.read"],"grant_access_token_audience":["https://api.example"],"session":{"id_token":{"email":"a@example.com","sub":"spoofed"},"access_token":{"role":"admin"}}}""")).Json(HttpStatusCode.OK);
        var callback = await browser.GetRedirectAsync(consented["redirect_to"]!.GetValue<string>());
        Assert.StartsWith(RedirectUri + "?code=ory_ac_", callback.ToString());
        var q = Query(callback);
        Assert.Equal("state-123456", q["state"]);
        Assert.Equal("openid photos.read", q["scope"]);

        var res = await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "authorization_code"), ("code", q["code"]), ("redirect_uri", RedirectUri), ("code_verifier", verifier)));
        var t = (await res.Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal("no-store", res.Headers.CacheControl?.ToString());
        Assert.Equal(["access_token", "expires_in", "id_token", "scope", "token_type"], t.Select(kv => kv.Key));
        Assert.Equal("bearer", t["token_type"]!.GetValue<string>());
        var access = t["access_token"]!.GetValue<string>();

        // The ID token verifies against the published JWKS, and carries Hydra's claims.
        var jwks = new JsonWebKeySet(await s.Public.GetStringAsync("/.well-known/jwks.json"));
        var validation = await new JsonWebTokenHandler().ValidateTokenAsync(t["id_token"]!.GetValue<string>(), new TokenValidationParameters
        {
            ValidIssuer = s.PublicUrl + "/",
            ValidAudience = id,
            IssuerSigningKeys = jwks.GetSigningKeys(),
        });
        Assert.True(validation.IsValid, validation.Exception?.ToString());
        var jwt = (JsonWebToken)validation.SecurityToken;
        Assert.Equal("user-1", jwt.Subject);
        Assert.Equal("nonce-abcdefgh", jwt.GetClaim("nonce").Value);
        Assert.Equal("a@example.com", jwt.GetClaim("email").Value);
        Assert.Equal("urn:mfa", jwt.GetClaim("acr").Value);
        Assert.Equal(loginRequest["session_id"]!.GetValue<string>(), jwt.GetClaim("sid").Value);
        Assert.True(jwt.TryGetPayloadValue<long>("auth_time", out _));
        Assert.Equal(Gatehouse.OAuth2.Protocol.IdTokens.HalfHash(access, "RS256"), jwt.GetClaim("at_hash").Value);
        Assert.Equal(jwks.Keys[0].Kid, jwt.Kid);

        var i = await (await s.AdminWithKey.PostAsync("/admin/oauth2/introspect", new FormUrlEncodedContent([new("token", access)]))).Json(HttpStatusCode.OK);
        Assert.True(i["active"]!.GetValue<bool>());
        Assert.Equal("user-1", i["sub"]!.GetValue<string>());
        Assert.Equal("admin", i["ext"]!["role"]!.GetValue<string>());
        Assert.Equal(["https://api.example"], i["aud"]!.AsArray().Select(x => x!.GetValue<string>()));

        var userinfo = new HttpRequestMessage(HttpMethod.Get, "/userinfo");
        userinfo.Headers.Authorization = new AuthenticationHeaderValue("Bearer", access);
        var info = (await (await s.Public.SendAsync(userinfo)).Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal("user-1", info["sub"]!.GetValue<string>());
        Assert.Equal("a@example.com", info["email"]!.GetValue<string>());
        Assert.Equal([id], info["aud"]!.AsArray().Select(x => x!.GetValue<string>()));
        foreach (var absent in new[] { "nonce", "at_hash", "exp", "sid", "jti" }) Assert.Null(info[absent]);
        var noToken = await s.Public.GetAsync("/userinfo");
        var noTokenError = await noToken.OAuth2Error(HttpStatusCode.Unauthorized, "request_unauthorized");
        // fosite's ErrRequestUnauthorized with its default hint.
        Assert.Equal("The request could not be authorized. Check that you provided valid credentials in the right format.", noTokenError["error_description"]!.GetValue<string>());
        Assert.StartsWith("Bearer error=", noToken.Headers.WwwAuthenticate.ToString());
        var badToken = new HttpRequestMessage(HttpMethod.Get, "/userinfo");
        badToken.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "ory_at_nope");
        await (await s.Public.SendAsync(badToken)).OAuth2Error(HttpStatusCode.Unauthorized, "token_inactive");

        // Reusing the code fails and revokes what it issued.
        var reuse = await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "authorization_code"), ("code", q["code"]), ("redirect_uri", RedirectUri), ("code_verifier", verifier)));
        var e = await reuse.OAuth2Error(HttpStatusCode.BadRequest, "invalid_grant");
        Assert.Contains("already been used", e["error_description"]!.GetValue<string>());
        Assert.False((await (await s.AdminWithKey.PostAsync("/admin/oauth2/introspect", new FormUrlEncodedContent([new("token", access)]))).Json(HttpStatusCode.OK))["active"]!.GetValue<bool>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Invalid_authorization_requests_are_refused_where_hydra_sends_them_and_store_nothing(string db)
    {
        await using var s = await StartAsync(db);
        var (id, _) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid photos.read"}""");
        var (pub, _) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid","token_endpoint_auth_method":"none"}""");
        var browser = new Browser(s);
        var (_, challenge) = Pkce();

        // Client or redirect URI not validated: not sent to the redirect URI; without urls.error, to Hydra's fallback page.
        (await browser.Http.GetAsync(AuthorizeUrl("unknown-client", challenge))).FallbackError(s.PublicUrl, "invalid_client");
        (await browser.Http.GetAsync(AuthorizeUrl(id, challenge).Replace(Uri.EscapeDataString(RedirectUri), Uri.EscapeDataString("https://evil.example/cb"), StringComparison.Ordinal))).FallbackError(s.PublicUrl, "invalid_request");
        // fosite parses response_mode before it validates the redirect URI (ParseResponseMode): not sent to the client either.
        (await browser.Http.GetAsync(AuthorizeUrl(id, challenge) + "&response_mode=web_message")).FallbackError(s.PublicUrl, "unsupported_response_mode");
        // An OpenID Connect request must name its redirect URI (validateAuthorizeRedirectURI), even for a client with one.
        (await browser.Http.GetAsync(AuthorizeUrl(id, challenge).Replace("&redirect_uri=" + Uri.EscapeDataString(RedirectUri), "", StringComparison.Ordinal))).FallbackError(s.PublicUrl, "invalid_request");

        // Then errors go to the client's redirect URI, with the state.
        async Task ExpectRedirectError(string url, string error, string state = "state-123456")
        {
            var location = await browser.GetRedirectAsync(url);
            Assert.StartsWith(RedirectUri + "?", location.ToString());
            var q = Query(location);
            Assert.Equal(error, q["error"]);
            Assert.False(string.IsNullOrEmpty(q["error_description"]));
            if (state.Length >= 8) Assert.Equal(state, q["state"]);
        }
        await ExpectRedirectError(AuthorizeUrl(id, challenge).Replace("response_type=code", "response_type=token", StringComparison.Ordinal), "unsupported_response_type");
        await ExpectRedirectError(AuthorizeUrl(id, challenge).Replace("response_type=code", "response_type=id_token", StringComparison.Ordinal), "unsupported_response_type");
        await ExpectRedirectError(AuthorizeUrl(id, challenge, scope: "openid admin"), "invalid_scope");
        await ExpectRedirectError(AuthorizeUrl(id, challenge) + "&audience=https%3A%2F%2Fother.example", "invalid_request");
        await ExpectRedirectError(AuthorizeUrl(id, challenge, state: "short"), "invalid_state", "short");
        await ExpectRedirectError(AuthorizeUrl(id, challenge, nonce: "tiny"), "insufficient_entropy");
        await ExpectRedirectError(AuthorizeUrl(id, challenge) + "&prompt=none", "login_required");
        await ExpectRedirectError(AuthorizeUrl(id, challenge) + "&prompt=none%20login", "invalid_request");
        await ExpectRedirectError(AuthorizeUrl(id, challenge) + "&max_age=-1", "invalid_request");
        await ExpectRedirectError(AuthorizeUrl(id, challenge) + "&request=eyJhbGciOiJub25lIn0.e30.", "request_not_supported");
        // fosite's newAuthorizeRequest: registration after the scope and audience checks, before the response type's.
        await ExpectRedirectError(AuthorizeUrl(id, challenge) + "&registration=%7B%7D", "registration_not_supported");
        await ExpectRedirectError(AuthorizeUrl(id, challenge).Replace("response_type=code", "response_type=token", StringComparison.Ordinal) + "&registration=%7B%7D", "registration_not_supported");
        await ExpectRedirectError(AuthorizeUrl(id, challenge, state: "short") + "&registration=%7B%7D", "registration_not_supported", "short");
        await ExpectRedirectError(AuthorizeUrl(id, challenge, scope: "openid admin") + "&registration=%7B%7D", "invalid_scope");
        await ExpectRedirectError(AuthorizeUrl(id, challenge) + "&audience=https%3A%2F%2Fother.example&registration=%7B%7D", "invalid_request");
        await ExpectRedirectError(AuthorizeUrl(id, null) + $"&code_challenge={challenge}&code_challenge_method=plain", "invalid_request");
        await ExpectRedirectError(AuthorizeUrl(id, null) + "&code_challenge=short&code_challenge_method=S256", "invalid_request");
        // PKCE is required for public clients.
        await ExpectRedirectError(AuthorizeUrl(pub, null, scope: "openid"), "invalid_request");

        await using (var scope = s.Services.CreateAsyncScope())
            Assert.Equal(0, scope.ServiceProvider.GetRequiredService<Gatehouse.Persistence.GatehouseDbContext>().OAuth2Flows.Count());

        // A public client with PKCE gets to the login app; a confidential one may go without.
        Assert.StartsWith(LoginUrl, (await browser.GetRedirectAsync(AuthorizeUrl(pub, challenge, scope: "openid"))).ToString());
        // fosite reads parameters with Go's Form.Get: a repeated one counts with its first value, and is no error.
        Assert.StartsWith(LoginUrl, (await browser.GetRedirectAsync(AuthorizeUrl(id, challenge) + "&client_id=unknown-client&state=short")).ToString());
        Assert.StartsWith(LoginUrl, (await browser.GetRedirectAsync(AuthorizeUrl(id, null))).ToString());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task With_acr_values_and_a_login_without_acr_the_id_token_says_acr_0_but_not_on_refresh_nor_at_userinfo(string db)
    {
        // fosite GenerateIDToken (handler/openid/strategy_jwt.go): acr_values requested, no acr → "0", except for grant_type=refresh_token.
        await using var s = await StartAsync(db);
        var (id, secret) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid offline_access","grant_types":["authorization_code","refresh_token"]}""");
        var browser = new Browser(s);
        static JsonObject Payload(JsonNode t) => JsonNode.Parse(Base64UrlEncoder.Decode(t["id_token"]!.GetValue<string>().Split('.')[1]))!.AsObject();

        var (verifier, challenge) = Pkce();
        var callback = await LoginAndConsentAsync(s, browser, AuthorizeUrl(id, challenge, scope: "openid offline_access", extra: "&acr_values=urn:silver"), """{"subject":"frank"}""", """{"grant_scope":["openid","offline_access"]}""");
        var t = await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "authorization_code"), ("code", Query(callback)["code"]), ("redirect_uri", RedirectUri), ("code_verifier", verifier)))).Json(HttpStatusCode.OK);
        Assert.Equal("0", Payload(t)["acr"]!.GetValue<string>());
        using (var req = new HttpRequestMessage(HttpMethod.Get, "/userinfo"))
        {
            req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", t["access_token"]!.GetValue<string>());
            Assert.Null((await (await s.Public.SendAsync(req)).Json(HttpStatusCode.OK))["acr"]);
        }
        var refreshed = await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "refresh_token"), ("refresh_token", t["refresh_token"]!.GetValue<string>())))).Json(HttpStatusCode.OK);
        Assert.Null(Payload(refreshed)["acr"]);

        // Without acr_values there is no acr; a login's acr is kept.
        (verifier, challenge) = Pkce();
        callback = await LoginAndConsentAsync(s, browser, AuthorizeUrl(id, challenge, scope: "openid"), """{"subject":"frank"}""", """{"grant_scope":["openid"]}""");
        t = await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "authorization_code"), ("code", Query(callback)["code"]), ("redirect_uri", RedirectUri), ("code_verifier", verifier)))).Json(HttpStatusCode.OK);
        Assert.Null(Payload(t)["acr"]);
        (verifier, challenge) = Pkce();
        callback = await LoginAndConsentAsync(s, browser, AuthorizeUrl(id, challenge, scope: "openid", extra: "&acr_values=urn:silver"), """{"subject":"frank","acr":"urn:gold"}""", """{"grant_scope":["openid"]}""");
        t = await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "authorization_code"), ("code", Query(callback)["code"]), ("redirect_uri", RedirectUri), ("code_verifier", verifier)))).Json(HttpStatusCode.OK);
        Assert.Equal("urn:gold", Payload(t)["acr"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Untrusted_errors_go_to_urls_error_when_configured(string db)
    {
        await using var s = await StartAsync(db, o => o.Urls.Error = "https://login.example/error");
        var browser = new Browser(s);
        var res = await browser.Http.GetAsync(AuthorizeUrl("unknown-client", null));
        // Hydra's forwardError: 302, and fosite's ToValues without the legacy fields (the hint is in error_description).
        Assert.Equal(HttpStatusCode.Found, res.StatusCode);
        Assert.StartsWith("https://login.example/error?error=invalid_client", res.Headers.Location!.ToString());
        var q = Query(res.Headers.Location!);
        Assert.Equal(["error", "error_description"], q.Keys);
        Assert.EndsWith("The requested OAuth 2.0 Client does not exist.", q["error_description"]);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Userinfo_takes_the_access_token_from_the_header_a_form_body_or_the_query_as_fosite_does(string db)
    {
        await using var s = await StartAsync(db);
        var (id, secret) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid"}""");
        var browser = new Browser(s);
        var (verifier, challenge) = Pkce();
        var callback = await LoginAndConsentAsync(s, browser, AuthorizeUrl(id, challenge, scope: "openid"), """{"subject":"user-q"}""", """{"grant_scope":["openid"]}""");
        var tokens = await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "authorization_code"), ("code", Query(callback)["code"]), ("redirect_uri", RedirectUri), ("code_verifier", verifier)))).Json(HttpStatusCode.OK);
        var access = tokens["access_token"]!.GetValue<string>();
        async Task<string> Subject(HttpResponseMessage res) => (await res.Json(HttpStatusCode.OK))["sub"]!.GetValue<string>();
        FormUrlEncodedContent Form(string token) => new([new("access_token", token)]);

        // RFC 6750 2.3 (fosite reads Go's Request.Form, which holds the query for every method).
        Assert.Equal("user-q", await Subject(await s.Public.GetAsync("/userinfo?access_token=" + Uri.EscapeDataString(access))));
        Assert.Equal("user-q", await Subject(await s.Public.PostAsync("/userinfo?access_token=" + Uri.EscapeDataString(access), null)));
        // RFC 6750 2.2; the body's value comes before the query's.
        Assert.Equal("user-q", await Subject(await s.Public.PostAsync("/userinfo", Form(access))));
        Assert.Equal("user-q", await Subject(await s.Public.PostAsync("/userinfo?access_token=ory_at_nope", Form(access))));
        // A Bearer header wins over both; another scheme is ignored.
        using (var bearer = new HttpRequestMessage(HttpMethod.Get, "/userinfo?access_token=" + Uri.EscapeDataString(access)))
        {
            bearer.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "ory_at_nope");
            await (await s.Public.SendAsync(bearer)).OAuth2Error(HttpStatusCode.Unauthorized, "token_inactive");
        }
        using (var basic = new HttpRequestMessage(HttpMethod.Get, "/userinfo?access_token=" + Uri.EscapeDataString(access)))
        {
            basic.Headers.Authorization = new AuthenticationHeaderValue("Basic", "Zm9vOmJhcg==");
            Assert.Equal("user-q", await Subject(await s.Public.SendAsync(basic)));
        }
        // A wrong token in the query is inactive; a body that cannot be parsed holds no token.
        await (await s.Public.GetAsync("/userinfo?access_token=ory_at_nope")).OAuth2Error(HttpStatusCode.Unauthorized, "token_inactive");
        using var broken = new StringContent("--x\r\nnot a part", Encoding.UTF8);
        broken.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=x");
        var unparsed = await s.Public.PostAsync("/userinfo", broken);
        await unparsed.OAuth2Error(HttpStatusCode.Unauthorized, "request_unauthorized");
        Assert.StartsWith("Bearer error=\"request_unauthorized\"", unparsed.Headers.WwwAuthenticate.ToString());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Token_requests_with_a_wrong_verifier_redirect_uri_or_client_fail_and_the_code_expires(string db)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var s = await StartAsync(db, clock: clock);
        var (id, secret) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}","https://app.example/other"],"scope":"openid"}""");
        var (other, otherSecret) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid"}""");
        var browser = new Browser(s);
        var (verifier, challenge) = Pkce();
        var callback = await LoginAndConsentAsync(s, browser, AuthorizeUrl(id, challenge, scope: "openid"), """{"subject":"u"}""", """{"grant_scope":["openid"]}""");
        var code = Query(callback)["code"];
        (string, string)[] Form(string? v = null, string redirect = RedirectUri) => [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirect), .. v is null ? Array.Empty<(string, string)>() : [("code_verifier", v)]];

        await (await s.Public.SendAsync(TokenRequest(id, secret, Form()))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_grant");
        await (await s.Public.SendAsync(TokenRequest(id, secret, Form(Pkce().Verifier)))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_grant");
        await (await s.Public.SendAsync(TokenRequest(id, secret, Form(verifier, "https://app.example/other")))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_grant");
        await (await s.Public.SendAsync(TokenRequest(other, otherSecret, Form(verifier)))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_grant");
        await (await s.Public.SendAsync(TokenRequest(id, secret + "x", Form(verifier)))).OAuth2Error(HttpStatusCode.Unauthorized, "invalid_client");
        await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "authorization_code"), ("code", "ory_ac_unknown"), ("code_verifier", verifier)))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_grant");

        // None of that spent the code; past ttl.auth_code (10m) it is expired.
        clock.Advance(TimeSpan.FromMinutes(11));
        var expired = await (await s.Public.SendAsync(TokenRequest(id, secret, Form(verifier)))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_grant");
        Assert.Contains("expired", expired["error_description"]!.GetValue<string>());

        // A fresh code before it expires works.
        var (v2, c2) = Pkce();
        var callback2 = await LoginAndConsentAsync(s, browser, AuthorizeUrl(id, c2, scope: "openid"), """{"subject":"u"}""", """{"grant_scope":["openid"]}""");
        clock.Advance(TimeSpan.FromMinutes(9));
        await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "authorization_code"), ("code", Query(callback2)["code"]), ("redirect_uri", RedirectUri), ("code_verifier", v2)))).Json(HttpStatusCode.OK);

        // Login and consent challenges expire after ttl.login_consent_request (30m).
        var toLogin = await browser.GetRedirectAsync(AuthorizeUrl(id, c2, scope: "openid"));
        clock.Advance(TimeSpan.FromMinutes(31));
        await (await s.AdminWithKey.GetAsync("/admin/oauth2/auth/requests/login?login_challenge=" + Uri.EscapeDataString(Query(toLogin)["login_challenge"]))).OAuth2Error(HttpStatusCode.NotFound);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Rejected_login_and_consent_send_the_error_to_the_client_and_bad_admin_calls_change_nothing(string db)
    {
        await using var s = await StartAsync(db);
        var (id, _) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid"}""");
        var browser = new Browser(s);
        var (_, challenge) = Pkce();

        var toLogin = await browser.GetRedirectAsync(AuthorizeUrl(id, challenge, scope: "openid"));
        var lc = Uri.EscapeDataString(Query(toLogin)["login_challenge"]);
        // Bad admin calls: clear errors, and the request stays usable.
        await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?login_challenge={lc}", """{"remember":true}""")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
        await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?login_challenge={lc}", """{"subject":7}""")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
        await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?login_challenge={lc}", """{"subject":"u","amr":"pwd"}""")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
        await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?login_challenge={lc}", """{"subject":""")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
        await (await s.AdminWithKey.PutJson("/admin/oauth2/auth/requests/login/accept", """{"subject":"u"}""")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
        await (await s.AdminWithKey.PutJson("/admin/oauth2/auth/requests/login/accept?login_challenge=nope", """{"subject":"u"}""")).OAuth2Error(HttpStatusCode.NotFound);
        await (await s.AdminWithKey.GetAsync("/admin/oauth2/auth/requests/consent?consent_challenge=nope")).OAuth2Error(HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.Admin.GetAsync($"/admin/oauth2/auth/requests/login?login_challenge={lc}")).StatusCode);
        await (await s.AdminWithKey.GetAsync($"/admin/oauth2/auth/requests/login?login_challenge={lc}")).Json(HttpStatusCode.OK);

        var rejected = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/reject?login_challenge={lc}",
            """{"error":"access_denied","error_description":"The resource owner denied the request","error_hint":"Wrong password."}""")).Json(HttpStatusCode.OK);
        var back = await browser.GetRedirectAsync(rejected["redirect_to"]!.GetValue<string>());
        var q = Query(back);
        Assert.Equal("access_denied", q["error"]);
        Assert.Equal("The resource owner denied the request Wrong password.", q["error_description"]);
        Assert.Equal("state-123456", q["state"]);
        // Rejected: the request is used up.
        await (await s.AdminWithKey.GetAsync($"/admin/oauth2/auth/requests/login?login_challenge={lc}")).Json(HttpStatusCode.Gone);

        // Consent rejected with the defaults.
        var toLogin2 = await browser.GetRedirectAsync(AuthorizeUrl(id, challenge, scope: "openid"));
        var accepted = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?login_challenge={Uri.EscapeDataString(Query(toLogin2)["login_challenge"])}", """{"subject":"u"}""")).Json(HttpStatusCode.OK);
        var toConsent = await browser.GetRedirectAsync(accepted["redirect_to"]!.GetValue<string>());
        var cc = Uri.EscapeDataString(Query(toConsent)["consent_challenge"]);
        await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/consent/accept?consent_challenge={cc}", """{"grant_scope":"openid"}""")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
        await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/consent/accept?consent_challenge={cc}", """{"session":{"id_token":[1]}}""")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
        var denied = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/consent/reject?consent_challenge={cc}", "{}")).Json(HttpStatusCode.OK);
        var back2 = Query(await browser.GetRedirectAsync(denied["redirect_to"]!.GetValue<string>()));
        Assert.Equal("consent request denied", back2["error"]);
        await (await s.AdminWithKey.GetAsync($"/admin/oauth2/auth/requests/consent?consent_challenge={cc}")).Json(HttpStatusCode.Gone);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Unknown_and_spent_verifiers_send_access_denied_to_the_client_and_the_code_comes_with_a_303(string db)
    {
        await using var s = await StartAsync(db);
        var (id, _) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid"}""");
        var browser = new Browser(s);
        var (_, challenge) = Pkce();
        var authorize = AuthorizeUrl(id, challenge, scope: "openid");

        // An unknown verifier on a valid request: Hydra's access_denied, at the client's redirect URI, with the state.
        foreach (var which in new[] { "login_verifier", "consent_verifier" })
        {
            var res = await browser.Http.GetAsync($"{authorize}&{which}=bogus");
            Assert.Equal(HttpStatusCode.SeeOther, res.StatusCode);
            Assert.StartsWith(RedirectUri + "?", res.Headers.Location!.ToString());
            var q = Query(res.Headers.Location!);
            Assert.Equal("access_denied", q["error"]);
            Assert.EndsWith($"The {which.Replace("_verifier", "")} verifier has already been used, has not been granted, or is invalid.", q["error_description"]);
            Assert.Equal("state-123456", q["state"]);
        }
        // Without a valid request in the query there is no client to send it to: the request's own error goes to urls.error.
        (await browser.Http.GetAsync("/oauth2/auth?login_verifier=bogus")).FallbackError(s.PublicUrl, "invalid_client");
        (await browser.Http.GetAsync($"/oauth2/auth?client_id={id}&redirect_uri={Uri.EscapeDataString(RedirectUri + "/other")}&consent_verifier=bogus")).FallbackError(s.PublicUrl, "invalid_request");

        // A verifier used before: access_denied as well.
        var toLogin = await browser.GetRedirectAsync(authorize);
        var accepted = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?login_challenge={Uri.EscapeDataString(Query(toLogin)["login_challenge"])}", """{"subject":"u"}""")).Json(HttpStatusCode.OK);
        var loginVerifierUrl = accepted["redirect_to"]!.GetValue<string>();
        var toConsent = await browser.GetRedirectAsync(loginVerifierUrl);
        var again = Query(await browser.GetRedirectAsync(loginVerifierUrl));
        Assert.Equal("access_denied", again["error"]);
        Assert.EndsWith("The login verifier has already been used.", again["error_description"]);

        // The code goes to the client with a 303 (fosite's WriteAuthorizeResponse); the consent verifier then is spent too.
        var consented = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/consent/accept?consent_challenge={Uri.EscapeDataString(Query(toConsent)["consent_challenge"])}", """{"grant_scope":["openid"]}""")).Json(HttpStatusCode.OK);
        var consentVerifierUrl = consented["redirect_to"]!.GetValue<string>();
        var code = await browser.Http.GetAsync(consentVerifierUrl);
        Assert.Equal(HttpStatusCode.SeeOther, code.StatusCode);
        Assert.True(Query(code.Headers.Location!).ContainsKey("code"));
        var spent = Query(await browser.GetRedirectAsync(consentVerifierUrl));
        Assert.Equal("access_denied", spent["error"]);
        Assert.EndsWith("The consent verifier has already been used.", spent["error_description"]);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_app_that_accepts_twice_can_send_the_browser_to_the_first_answer(string db)
    {
        await using var s = await StartAsync(db);
        var (id, secret) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid"}""");
        var browser = new Browser(s);
        var (verifier, challenge) = Pkce();

        // A retried accept (a timeout, a double submit): the first answer still leads on, with what the last one said.
        var lc = Uri.EscapeDataString(Query(await browser.GetRedirectAsync(AuthorizeUrl(id, challenge, scope: "openid")))["login_challenge"]);
        var first = (await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?login_challenge={lc}", """{"subject":"first"}""")).Json(HttpStatusCode.OK))["redirect_to"]!.GetValue<string>();
        var second = (await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?login_challenge={lc}", """{"subject":"second"}""")).Json(HttpStatusCode.OK))["redirect_to"]!.GetValue<string>();
        Assert.Equal(first, second);
        var toConsent = await browser.GetRedirectAsync(first);
        Assert.StartsWith(ConsentUrl + "?consent_challenge=", toConsent.ToString());
        var cc = Uri.EscapeDataString(Query(toConsent)["consent_challenge"]);
        Assert.Equal("second", (await (await s.AdminWithKey.GetAsync($"/admin/oauth2/auth/requests/consent?consent_challenge={cc}")).Json(HttpStatusCode.OK))["subject"]!.GetValue<string>());

        var c1 = (await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/consent/accept?consent_challenge={cc}", """{"grant_scope":["openid"]}""")).Json(HttpStatusCode.OK))["redirect_to"]!.GetValue<string>();
        var c2 = (await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/consent/accept?consent_challenge={cc}", """{"grant_scope":["openid"]}""")).Json(HttpStatusCode.OK))["redirect_to"]!.GetValue<string>();
        Assert.Equal(c1, c2);
        var callback = await browser.GetRedirectAsync(c1);
        var tokens = await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "authorization_code"), ("code", Query(callback)["code"]), ("redirect_uri", RedirectUri), ("code_verifier", verifier)))).Json(HttpStatusCode.OK);
        Assert.Equal("second", new JsonWebToken(tokens["id_token"]!.GetValue<string>()).Subject);
        // Each verifier still works once, and an accept after it was used is 410.
        Assert.Equal("access_denied", Query(await browser.GetRedirectAsync(c2))["error"]);
        await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/consent/accept?consent_challenge={cc}", """{"grant_scope":["openid"]}""")).Json(HttpStatusCode.Gone);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_remembered_consent_is_offered_as_skip_and_prompt_consent_asks_again(string db)
    {
        await using var s = await StartAsync(db);
        var (id, _) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid photos.*"}""");
        var browser = new Browser(s);
        await LoginAndConsentAsync(s, browser, AuthorizeUrl(id, null, scope: "openid photos.read"), """{"subject":"carol"}""", """{"grant_scope":["openid","photos.*"],"remember":true,"remember_for":3600}""");

        async Task<JsonNode> ConsentRequestAsync(string url)
        {
            var toLogin = await browser.GetRedirectAsync(url);
            var accepted = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?login_challenge={Uri.EscapeDataString(Query(toLogin)["login_challenge"])}", """{"subject":"carol"}""")).Json(HttpStatusCode.OK);
            var toConsent = await browser.GetRedirectAsync(accepted["redirect_to"]!.GetValue<string>());
            return await (await s.AdminWithKey.GetAsync($"/admin/oauth2/auth/requests/consent?consent_challenge={Uri.EscapeDataString(Query(toConsent)["consent_challenge"])}")).Json(HttpStatusCode.OK);
        }
        Assert.True((await ConsentRequestAsync(AuthorizeUrl(id, null, scope: "openid photos.write")))["skip"]!.GetValue<bool>());
        Assert.False((await ConsentRequestAsync(AuthorizeUrl(id, null, scope: "openid photos.write", extra: "&prompt=consent")))["skip"]!.GetValue<bool>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Negative_client_lifespans_expire_tokens_at_issue_and_a_negative_id_token_lifespan_is_a_server_error(string db)
    {
        // Hydra stores negative lifespans; fosite's GenerateIDToken refuses an exp in the past (server_error, its reason
        // only in the debug field Hydra does not show) and takes a zero lifespan as one hour; a negative refresh-token
        // lifespan leaves the refresh token without expiry (fosite sets one only when rtLifespan > -1).
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var s = await StartAsync(db, clock: clock);
        var browser = new Browser(s);
        var (refused, refusedSecret) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid photos.read","authorization_code_grant_id_token_lifespan":"-1m"}""");
        var (verifier, challenge) = Pkce();
        var callback = await LoginAndConsentAsync(s, browser, AuthorizeUrl(refused, challenge), """{"subject":"erin"}""", """{"grant_scope":["openid","photos.read"]}""");
        var error = await (await s.Public.SendAsync(TokenRequest(refused, refusedSecret, ("grant_type", "authorization_code"), ("code", Query(callback)["code"]), ("redirect_uri", RedirectUri), ("code_verifier", verifier))))
            .OAuth2Error(HttpStatusCode.InternalServerError, "server_error");
        Assert.Equal("The authorization server encountered an unexpected condition that prevented it from fulfilling the request.", error["error_description"]!.GetValue<string>());
        // Nothing was issued for that exchange.
        await using (var scope = s.Services.CreateAsyncScope())
        {
            var db2 = scope.ServiceProvider.GetRequiredService<Gatehouse.Persistence.GatehouseDbContext>();
            Assert.Equal(0, await db2.OAuth2Tokens.CountAsync(t => t.ClientId == refused && t.Kind != OAuth2TokenKinds.AuthorizationCode, TestContext.Current.CancellationToken));
        }

        var (expired, expiredSecret) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid offline_access photos.read","grant_types":["authorization_code","refresh_token"],"authorization_code_grant_id_token_lifespan":"0s","authorization_code_grant_access_token_lifespan":"-1m","authorization_code_grant_refresh_token_lifespan":"-1h"}""");
        (verifier, challenge) = Pkce();
        callback = await LoginAndConsentAsync(s, browser, AuthorizeUrl(expired, challenge, scope: "openid offline_access photos.read"), """{"subject":"erin"}""", """{"grant_scope":["openid","offline_access","photos.read"]}""");
        var t = await (await s.Public.SendAsync(TokenRequest(expired, expiredSecret, ("grant_type", "authorization_code"), ("code", Query(callback)["code"]), ("redirect_uri", RedirectUri), ("code_verifier", verifier)))).Json(HttpStatusCode.OK);
        Assert.Equal(-60, t["expires_in"]!.GetValue<long>());
        var introspected = await (await s.AdminWithKey.PostAsync("/admin/oauth2/introspect", new FormUrlEncodedContent([new("token", t["access_token"]!.GetValue<string>())]))).Json(HttpStatusCode.OK);
        Assert.False(introspected["active"]!.GetValue<bool>());
        var idToken = new JsonWebToken(t["id_token"]!.GetValue<string>());
        Assert.Equal(TimeSpan.FromHours(1), idToken.ValidTo - idToken.IssuedAt);

        // The refresh token does not expire; introspection shows its issue time plus ttl.refresh_token (720h), as Hydra's.
        var refreshToken = t["refresh_token"]!.GetValue<string>();
        clock.Advance(TimeSpan.FromHours(1000));
        var rt = await (await s.AdminWithKey.PostAsync("/admin/oauth2/introspect", new FormUrlEncodedContent([new("token", refreshToken)]))).Json(HttpStatusCode.OK);
        Assert.True(rt["active"]!.GetValue<bool>());
        Assert.Equal(720 * 3600, rt["exp"]!.GetValue<long>() - rt["iat"]!.GetValue<long>());
        await (await s.Public.SendAsync(TokenRequest(expired, expiredSecret, ("grant_type", "refresh_token"), ("refresh_token", refreshToken)))).Json(HttpStatusCode.OK);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_refresh_rechecks_the_granted_scopes_and_audience_against_the_clients_current_ones_and_spends_nothing_when_refused(string db)
    {
        // fosite flow_refresh.go HandleTokenEndpointRequest: GetScopeStrategy(client scopes, each granted scope) → invalid_scope,
        // GetAudienceStrategy(client audience, granted audience) → invalid_request.
        await using var s = await StartAsync(db);
        var (id, secret) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid offline_access photos.*","audience":["https://api.example/v1"],"grant_types":["authorization_code","refresh_token"]}""");
        var browser = new Browser(s);
        var (verifier, challenge) = Pkce();
        var callback = await LoginAndConsentAsync(s, browser, AuthorizeUrl(id, challenge, scope: "openid offline_access photos.read", extra: "&audience=" + Uri.EscapeDataString("https://api.example/v1")),
            """{"subject":"erin"}""", """{"grant_scope":["openid","offline_access","photos.read"],"grant_access_token_audience":["https://api.example/v1"]}""");
        var t = await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "authorization_code"), ("code", Query(callback)["code"]), ("redirect_uri", RedirectUri), ("code_verifier", verifier)))).Json(HttpStatusCode.OK);
        var rt = t["refresh_token"]!.GetValue<string>();
        Task<HttpResponseMessage> RefreshAsync() => s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "refresh_token"), ("refresh_token", rt)));
        async Task PatchAsync(string path, string value) =>
            await (await s.AdminWithKey.PatchJson("/admin/clients/" + id, $$"""[{"op":"replace","path":"{{path}}","value":{{value}}}]""")).Json(HttpStatusCode.OK);

        await PatchAsync("/scope", "\"openid offline_access\"");
        var e = await (await RefreshAsync()).OAuth2Error(HttpStatusCode.BadRequest, "invalid_scope");
        Assert.Equal("The requested scope is invalid, unknown, or malformed. The OAuth 2.0 Client is not allowed to request scope 'photos.read'.", e["error_description"]!.GetValue<string>());

        await PatchAsync("/scope", "\"openid offline_access photos.*\"");
        await PatchAsync("/audience", "[\"https://other.example\"]");
        e = await (await RefreshAsync()).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
        Assert.EndsWith("Requested audience 'https://api.example/v1' has not been whitelisted by the OAuth 2.0 Client.", e["error_description"]!.GetValue<string>());

        // A path prefix of the granted audience allows it (DefaultAudienceMatchingStrategy), and the refresh token was not spent.
        await PatchAsync("/audience", "[\"https://api.example/\"]");
        var refreshed = await (await RefreshAsync()).Json(HttpStatusCode.OK);
        Assert.Equal("openid offline_access photos.read", refreshed["scope"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_spent_refresh_token_presented_by_another_client_is_a_reuse_and_revokes_the_chain(string db)
    {
        // fosite checks reuse (and expiry) before the client (flow_refresh.go HandleTokenEndpointRequest).
        await using var s = await StartAsync(db);
        var (id, secret) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid offline_access","grant_types":["authorization_code","refresh_token"]}""");
        var (other, otherSecret) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid offline_access","grant_types":["authorization_code","refresh_token"]}""");
        var browser = new Browser(s);
        var (verifier, challenge) = Pkce();
        var callback = await LoginAndConsentAsync(s, browser, AuthorizeUrl(id, challenge, scope: "openid offline_access"), """{"subject":"erin"}""", """{"grant_scope":["openid","offline_access"]}""");
        var t = await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "authorization_code"), ("code", Query(callback)["code"]), ("redirect_uri", RedirectUri), ("code_verifier", verifier)))).Json(HttpStatusCode.OK);
        var rt1 = t["refresh_token"]!.GetValue<string>();
        var second = await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "refresh_token"), ("refresh_token", rt1)))).Json(HttpStatusCode.OK);

        var e = await (await s.Public.SendAsync(TokenRequest(other, otherSecret, ("grant_type", "refresh_token"), ("refresh_token", rt1)))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_grant");
        Assert.EndsWith("The refresh token was already used.", e["error_description"]!.GetValue<string>());
        var introspected = await (await s.AdminWithKey.PostAsync("/admin/oauth2/introspect", new FormUrlEncodedContent([new("token", second["refresh_token"]!.GetValue<string>())]))).Json(HttpStatusCode.OK);
        Assert.False(introspected["active"]!.GetValue<bool>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Refresh_tokens_rotate_and_reusing_one_revokes_the_whole_chain(string db)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var s = await StartAsync(db, clock: clock);
        var (id, secret) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid offline_access photos.read","grant_types":["authorization_code","refresh_token"]}""");
        var (other, otherSecret) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid offline_access","grant_types":["authorization_code","refresh_token"]}""");
        var (noRefresh, noRefreshSecret) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid offline_access"}""");
        var browser = new Browser(s);
        var (verifier, challenge) = Pkce();
        var callback = await LoginAndConsentAsync(s, browser, AuthorizeUrl(id, challenge, scope: "openid offline_access photos.read"), """{"subject":"dave"}""",
            """{"grant_scope":["openid","offline_access","photos.read"],"session":{"access_token":{"k":1}}}""");
        var first = (await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "authorization_code"), ("code", Query(callback)["code"]), ("redirect_uri", RedirectUri), ("code_verifier", verifier)))).Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal(["access_token", "expires_in", "id_token", "refresh_token", "scope", "token_type"], first.Select(kv => kv.Key));
        var rt1 = first["refresh_token"]!.GetValue<string>();
        Assert.StartsWith("ory_rt_", rt1);
        async Task<bool> ActiveAsync(string token) =>
            (await (await s.AdminWithKey.PostAsync("/admin/oauth2/introspect", new FormUrlEncodedContent([new("token", token)]))).Json(HttpStatusCode.OK))["active"]!.GetValue<bool>();
        var refreshIntrospection = await (await s.AdminWithKey.PostAsync("/admin/oauth2/introspect", new FormUrlEncodedContent([new("token", rt1)]))).Json(HttpStatusCode.OK);
        Assert.Equal("refresh_token", refreshIntrospection["token_use"]!.GetValue<string>());

        // Another client's refresh, an unknown token: refused, nothing spent.
        await (await s.Public.SendAsync(TokenRequest(other, otherSecret, ("grant_type", "refresh_token"), ("refresh_token", rt1)))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_grant");
        await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "refresh_token"), ("refresh_token", "ory_rt_unknown")))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_grant");
        await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "refresh_token")))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
        Assert.True(await ActiveAsync(rt1));

        // Rotation: a new pair; the old refresh token and the old access token are no longer active. fosite grants the
        // refresh what was granted before: a 'scope' parameter neither narrows nor widens it.
        var second = (await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "refresh_token"), ("refresh_token", rt1), ("scope", "openid photos.write")))).Json(HttpStatusCode.OK)).AsObject();
        var rt2 = second["refresh_token"]!.GetValue<string>();
        Assert.NotEqual(rt1, rt2);
        Assert.Equal("openid offline_access photos.read", second["scope"]!.GetValue<string>());
        Assert.NotNull(second["id_token"]);
        Assert.False(await ActiveAsync(rt1));
        Assert.False(await ActiveAsync(first["access_token"]!.GetValue<string>()));
        Assert.True(await ActiveAsync(second["access_token"]!.GetValue<string>()));
        var third = (await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "refresh_token"), ("refresh_token", rt2)))).Json(HttpStatusCode.OK)).AsObject();
        var rt3 = third["refresh_token"]!.GetValue<string>();

        // Reuse of a spent refresh token: refused, and every token of the chain is revoked.
        var reuse = await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "refresh_token"), ("refresh_token", rt1)))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_grant");
        Assert.EndsWith("or was issued to another client. The refresh token was already used.", reuse["error_description"]!.GetValue<string>());
        Assert.False(await ActiveAsync(rt3));
        Assert.False(await ActiveAsync(third["access_token"]!.GetValue<string>()));
        await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "refresh_token"), ("refresh_token", rt3)))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_grant");

        // A client without the refresh_token grant gets no refresh token; refresh tokens expire after ttl.refresh_token.
        var (v2, c2) = Pkce();
        var cb2 = await LoginAndConsentAsync(s, browser, AuthorizeUrl(noRefresh, c2, scope: "openid offline_access"), """{"subject":"dave"}""", """{"grant_scope":["openid","offline_access"]}""");
        var t2 = await (await s.Public.SendAsync(TokenRequest(noRefresh, noRefreshSecret, ("grant_type", "authorization_code"), ("code", Query(cb2)["code"]), ("redirect_uri", RedirectUri), ("code_verifier", v2)))).Json(HttpStatusCode.OK);
        Assert.Null(t2["refresh_token"]);
        var (v3, c3) = Pkce();
        var cb3 = await LoginAndConsentAsync(s, browser, AuthorizeUrl(id, c3, scope: "offline_access"), """{"subject":"dave"}""", """{"grant_scope":["offline_access"]}""");
        var t3 = await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "authorization_code"), ("code", Query(cb3)["code"]), ("redirect_uri", RedirectUri), ("code_verifier", v3)))).Json(HttpStatusCode.OK);
        Assert.Null(t3["id_token"]);
        clock.Advance(TimeSpan.FromHours(721));
        var expired = await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "refresh_token"), ("refresh_token", t3["refresh_token"]!.GetValue<string>())))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_grant");
        Assert.Contains("expired", expired["error_description"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_refresh_that_loses_the_race_to_a_concurrent_one_is_refused_without_revoking_the_chain(string db)
    {
        var race = new ConcurrentSpend();
        await using var s = await StartAsync(db, configureServices: services => services.AddScoped<IOAuth2TokenStore>(sp =>
            new ConcurrentSpendStore(ActivatorUtilities.CreateInstance<EfOAuth2TokenStore>(sp), race)));
        var (id, secret) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid offline_access","grant_types":["authorization_code","refresh_token"]}""");
        var (verifier, challenge) = Pkce();
        var callback = await LoginAndConsentAsync(s, new Browser(s), AuthorizeUrl(id, challenge, scope: "openid offline_access"), """{"subject":"erin"}""",
            """{"grant_scope":["openid","offline_access"]}""");
        var first = await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "authorization_code"), ("code", Query(callback)["code"]), ("redirect_uri", RedirectUri), ("code_verifier", verifier)))).Json(HttpStatusCode.OK);
        async Task<bool> ActiveAsync(string token) =>
            (await (await s.AdminWithKey.PostAsync("/admin/oauth2/introspect", new FormUrlEncodedContent([new("token", token)]))).Json(HttpStatusCode.OK))["active"]!.GetValue<bool>();

        // The refresh token is read as active, then spent by "the other request" just before this one spends it.
        race.Armed = true;
        var lost = await (await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "refresh_token"), ("refresh_token", first["refresh_token"]!.GetValue<string>())))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
        Assert.False(race.Armed);
        Assert.EndsWith("Failed to refresh token because of multiple concurrent requests using the same token. Please retry the request.", lost["error_description"]!.GetValue<string>());
        // Not taken for a reuse: nothing of the grant was revoked (only the refresh token the winner spent is inactive).
        Assert.True(await ActiveAsync(first["access_token"]!.GetValue<string>()));
        Assert.False(await ActiveAsync(first["refresh_token"]!.GetValue<string>()));
    }

    private sealed class ConcurrentSpend
    {
        public volatile bool Armed;
    }

    /// <summary>When armed, spends a token just before the caller does, as a concurrent request that read it too would.</summary>
    private sealed class ConcurrentSpendStore(IOAuth2TokenStore inner, ConcurrentSpend race) : IOAuth2TokenStore
    {
        public Task AddAsync(IReadOnlyList<OAuth2Token> tokens, CancellationToken ct) => inner.AddAsync(tokens, ct);

        public Task<OAuth2Token?> FindAsync(byte[] signature, CancellationToken ct) => inner.FindAsync(signature, ct);

        public async Task<bool> DeactivateAsync(byte[] signature, CancellationToken ct)
        {
            if (race.Armed)
            {
                race.Armed = false;
                Assert.True(await inner.DeactivateAsync(signature, ct));
            }
            return await inner.DeactivateAsync(signature, ct);
        }

        public Task<int> RevokeRequestAsync(Guid requestId, string? kind, CancellationToken ct) => inner.RevokeRequestAsync(requestId, kind, ct);

        public Task<bool> UseWithinGraceAsync(byte[] signature, DateTime now, TimeSpan period, int count, CancellationToken ct) => inner.UseWithinGraceAsync(signature, now, period, count, ct);

        public Task<int> RevokeAccessTokenAsync(Guid pk, CancellationToken ct) => inner.RevokeAccessTokenAsync(pk, ct);

        public Task<int> DeleteForClientAsync(string clientId, CancellationToken ct) => inner.DeleteForClientAsync(clientId, ct);
    }
}
