using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.OAuth2.Keys;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.OAuth2;

/// <summary>
/// The device authorization grant (RFC 8628) as Hydra v26.2 serves it, driven the way a device, a user-code page, a login
/// app and a consent app drive it (the admin API and the redirects), with a fake clock for polling and expiry, on both
/// databases.
/// </summary>
public sealed class DeviceFlowTests
{
    private const string LoginUrl = "https://login.example/login";
    private const string ConsentUrl = "https://login.example/consent";
    private const string VerificationUrl = "https://login.example/device";
    private const string SuccessUrl = "https://login.example/device/done";
    private const string GrantType = "urn:ietf:params:oauth:grant-type:device_code";

    private static async Task<(TestServer Server, FakeTimeProvider Clock)> StartAsync(string db, Action<Gatehouse.Config.GatehouseOptions>? configure = null)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var s = await TestServer.StartAsync(db, o =>
        {
            o.Urls.Login = LoginUrl;
            o.Urls.Consent = ConsentUrl;
            o.Urls.Device.Verification = VerificationUrl;
            o.Urls.Device.Success = SuccessUrl;
            configure?.Invoke(o);
        }, services =>
        {
            services.AddSingleton(new KeyGeneration { RsaBits = 2048 });
            services.AddSingleton<TimeProvider>(clock);
        });
        return (s, clock);
    }

    private sealed class Browser(TestServer s) : IDisposable
    {
        private readonly HttpClientHandler _handler = new() { AllowAutoRedirect = false, CookieContainer = new CookieContainer(), UseCookies = true };
        public HttpClient Client => _client ??= new HttpClient(_handler) { BaseAddress = new Uri(s.PublicUrl) };
        private HttpClient? _client;

        public async Task<Uri> GetRedirectAsync(string url)
        {
            var res = await Client.GetAsync(url);
            Assert.True(res.StatusCode is HttpStatusCode.Found or HttpStatusCode.SeeOther, $"expected a redirect from {url}, got {(int)res.StatusCode}: {await res.Content.ReadAsStringAsync()}");
            return res.Headers.Location!;
        }

        public void Dispose()
        {
            _client?.Dispose();
            _handler.Dispose();
        }
    }

    private static async Task<(string Id, string Secret)> CreateClientAsync(TestServer s, string json =
        """{"client_name":"TV","grant_types":["urn:ietf:params:oauth:grant-type:device_code","refresh_token"],"scope":"openid offline_access photos.*","audience":["https://api.example"],"token_endpoint_auth_method":"none"}""")
    {
        var c = await (await s.AdminWithKey.PostJson("/admin/clients", json)).Json(HttpStatusCode.Created);
        return (c["client_id"]!.GetValue<string>(), c["client_secret"]?.GetValue<string>() ?? "");
    }

    private static Dictionary<string, string> Query(Uri u) => QueryHelpers.ParseQuery(u.Query).ToDictionary(kv => kv.Key, kv => kv.Value.ToString());

    private static Task<HttpResponseMessage> PostForm(TestServer s, string url, string? basic, params (string, string)[] form)
    {
        var req = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(form.Select(f => new KeyValuePair<string, string>(f.Item1, f.Item2))) };
        if (basic is not null) req.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(basic)));
        return s.Public.SendAsync(req);
    }

    private static async Task<JsonObject> DeviceAuthAsync(TestServer s, string clientId, string scope = "openid offline_access photos.read", string? audience = null)
    {
        var form = new List<(string, string)> { ("client_id", clientId), ("scope", scope) };
        if (audience is not null) form.Add(("audience", audience));
        var res = await PostForm(s, "/oauth2/device/auth", null, [.. form]);
        Assert.Equal("no-store", res.Headers.CacheControl?.ToString());
        return (await res.Json(HttpStatusCode.OK)).AsObject();
    }

    private static Task<HttpResponseMessage> PollAsync(TestServer s, string clientId, string deviceCode) =>
        PostForm(s, "/oauth2/token", null, ("grant_type", GrantType), ("client_id", clientId), ("device_code", deviceCode));

    private static Task<HttpResponseMessage> AcceptUserCodeAsync(TestServer s, string challenge, string body) =>
        s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/device/accept?device_challenge={Uri.EscapeDataString(challenge)}", body);

    /// <summary>From <c>/oauth2/device/verify</c> to the user-code page: the device challenge.</summary>
    private static async Task<string> DeviceChallengeAsync(Browser b, string? userCode = null)
    {
        var toPage = await b.GetRedirectAsync("/oauth2/device/verify" + (userCode is null ? "" : "?user_code=" + Uri.EscapeDataString(userCode)));
        Assert.StartsWith(VerificationUrl + "?device_challenge=", toPage.ToString());
        return Query(toPage)["device_challenge"];
    }

    /// <summary>User code, login and consent through the admin API; returns where the browser ends.</summary>
    private static async Task<Uri> ApproveAsync(TestServer s, Browser b, string userCode, string consentAccept = """{"grant_scope":["openid","offline_access","photos.read"],"grant_access_token_audience":["https://api.example"],"session":{"id_token":{"email":"tv@example.com"}}}""")
    {
        var challenge = await DeviceChallengeAsync(b, userCode);
        var accepted = await (await AcceptUserCodeAsync(s, challenge, $$"""{"user_code":"{{userCode}}"}""")).Json(HttpStatusCode.OK);
        var toLogin = await b.GetRedirectAsync(accepted["redirect_to"]!.GetValue<string>());
        Assert.StartsWith(LoginUrl + "?login_challenge=", toLogin.ToString());
        var loginChallenge = Query(toLogin)["login_challenge"];
        var login = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?login_challenge={Uri.EscapeDataString(loginChallenge)}", """{"subject":"user-1"}""")).Json(HttpStatusCode.OK);
        var toConsent = await b.GetRedirectAsync(login["redirect_to"]!.GetValue<string>());
        Assert.StartsWith(ConsentUrl + "?consent_challenge=", toConsent.ToString());
        var consentChallenge = Query(toConsent)["consent_challenge"];
        var consent = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/consent/accept?consent_challenge={Uri.EscapeDataString(consentChallenge)}", consentAccept)).Json(HttpStatusCode.OK);
        return await b.GetRedirectAsync(consent["redirect_to"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_token_hook_runs_for_the_device_code_and_a_refusal_leaves_the_device_code_usable(string db)
    {
        // Hydra's token hook runs at /oauth2/token for the device code grant too, before fosite spends the device code.
        await using var hooks = await Hooks.HookReceiver.StartAsync();
        var status = 403;
        var url = hooks.On("/token", (_, _) => Task.FromResult((status, status == 200 ? """{"session":{"access_token":{"device":"tv"},"id_token":{"device":"tv"}}}""" : null)));
        var (s, clock) = await StartAsync(db, o => o.Oauth2.TokenHook = new Gatehouse.Config.TokenHookOptions { Url = url });
        await using var _ = s;
        var (id, _) = await CreateClientAsync(s);
        var auth = await DeviceAuthAsync(s, id);
        var deviceCode = auth["device_code"]!.GetValue<string>();
        using var b = new Browser(s);
        await ApproveAsync(s, b, auth["user_code"]!.GetValue<string>());

        clock.Advance(TimeSpan.FromSeconds(5));
        await (await PollAsync(s, id, deviceCode)).OAuth2Error(HttpStatusCode.Forbidden, "access_denied");
        status = 200;
        clock.Advance(TimeSpan.FromSeconds(5));
        var tokens = await (await PollAsync(s, id, deviceCode)).Json(HttpStatusCode.OK);

        var body = JsonNode.Parse(hooks.Received("/token")[1].Body)!;
        Assert.Equal($$"""{"client_id":["{{id}}"],"grant_type":["{{GrantType}}"]}""", body["request"]!["payload"]!.ToJsonString());
        Assert.Equal("""{"email":"tv@example.com"}""", body["session"]!["id_token"]!["id_token_claims"]!["ext"]!.AsObject().Where(kv => kv.Key != "sid").Aggregate(new JsonObject(), (o, kv) => { o[kv.Key] = kv.Value?.DeepClone(); return o; }).ToJsonString());
        var introspected = await (await s.AdminWithKey.PostAsync("/admin/oauth2/introspect", new FormUrlEncodedContent([new("token", tokens["access_token"]!.GetValue<string>())]))).Json(HttpStatusCode.OK);
        Assert.Equal("""{"device":"tv"}""", introspected["ext"]!.ToJsonString());
        var idToken = JsonNode.Parse(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Decode(tokens["id_token"]!.GetValue<string>().Split('.')[1]))!;
        Assert.Equal("tv", idToken["device"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_device_gets_tokens_after_the_user_enters_the_code_signs_in_and_consents(string db)
    {
        var (s, clock) = await StartAsync(db);
        await using var _ = s;
        var (id, _) = await CreateClientAsync(s);

        var auth = await DeviceAuthAsync(s, id, audience: "https://api.example");
        Assert.Equal(["device_code", "user_code", "verification_uri", "verification_uri_complete", "expires_in", "interval"], auth.Select(kv => kv.Key));
        var deviceCode = auth["device_code"]!.GetValue<string>();
        var userCode = auth["user_code"]!.GetValue<string>();
        Assert.StartsWith("ory_dc_", deviceCode);
        Assert.Equal(8, userCode.Length);
        Assert.All(userCode, c => Assert.Contains(c, "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY34679"));
        Assert.Equal(s.PublicUrl + "/oauth2/device/verify", auth["verification_uri"]!.GetValue<string>());
        Assert.Equal(s.PublicUrl + "/oauth2/device/verify?user_code=" + userCode, auth["verification_uri_complete"]!.GetValue<string>());
        Assert.Equal(600, auth["expires_in"]!.GetValue<long>());
        Assert.Equal(5, auth["interval"]!.GetValue<int>());
        // Codes are stored hashed only.
        await using (var scope = s.Services.CreateAsyncScope())
        {
            var row = await scope.ServiceProvider.GetRequiredService<Gatehouse.Persistence.GatehouseDbContext>().OAuth2DeviceRequests.SingleAsync(r => r.ClientId == id, TestContext.Current.CancellationToken);
            Assert.DoesNotContain(userCode, Encoding.UTF8.GetString(row.UserCode), StringComparison.Ordinal);
            Assert.Equal(32, row.DeviceCode.Length);
            Assert.Equal(32, row.UserCode.Length);
        }

        // Before the user acts: authorization_pending.
        var pending = await (await PollAsync(s, id, deviceCode)).OAuth2Error(HttpStatusCode.BadRequest, "authorization_pending");
        Assert.Equal("The authorization request is still pending as the end user hasn't yet completed the user-interaction steps.", pending["error_description"]!.GetValue<string>());

        using var b = new Browser(s);
        var done = await ApproveAsync(s, b, userCode);
        Assert.Equal(SuccessUrl + "?client_id=" + Uri.EscapeDataString(id), done.ToString());

        clock.Advance(TimeSpan.FromSeconds(5));
        var tokenResponse = await PollAsync(s, id, deviceCode);
        Assert.Equal("no-store", tokenResponse.Headers.CacheControl?.ToString());
        var tokens = (await tokenResponse.Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal(["access_token", "expires_in", "id_token", "refresh_token", "scope", "token_type"], tokens.Select(kv => kv.Key));
        Assert.Equal("openid offline_access photos.read", tokens["scope"]!.GetValue<string>());
        Assert.Equal("bearer", tokens["token_type"]!.GetValue<string>());
        var introspected = await (await s.AdminWithKey.PostAsync("/admin/oauth2/introspect", new FormUrlEncodedContent([new("token", tokens["access_token"]!.GetValue<string>())]))).Json(HttpStatusCode.OK);
        Assert.True(introspected["active"]!.GetValue<bool>());
        Assert.Equal("user-1", introspected["sub"]!.GetValue<string>());
        Assert.Equal(id, introspected["client_id"]!.GetValue<string>());
        Assert.Equal(["https://api.example"], introspected["aud"]!.AsArray().Select(a => a!.GetValue<string>()));

        // The refresh token works like any other.
        var refreshed = await (await PostForm(s, "/oauth2/token", null, ("grant_type", "refresh_token"), ("client_id", id), ("refresh_token", tokens["refresh_token"]!.GetValue<string>()))).Json(HttpStatusCode.OK);
        Assert.StartsWith("ory_at_", refreshed["access_token"]!.GetValue<string>());

        // The device code is single use: a second exchange is invalid_grant and revokes what it gave.
        clock.Advance(TimeSpan.FromSeconds(5));
        var reused = await (await PollAsync(s, id, deviceCode)).OAuth2Error(HttpStatusCode.BadRequest, "invalid_grant");
        Assert.EndsWith("The device code has already been used.", reused["error_description"]!.GetValue<string>());
        var revoked = await (await s.AdminWithKey.PostAsync("/admin/oauth2/introspect", new FormUrlEncodedContent([new("token", refreshed["access_token"]!.GetValue<string>())]))).Json(HttpStatusCode.OK);
        Assert.False(revoked["active"]!.GetValue<bool>());

        // The user code is spent too: a second acceptance of it is refused.
        using var b2 = new Browser(s);
        var challenge = await DeviceChallengeAsync(b2);
        await (await AcceptUserCodeAsync(s, challenge, $$"""{"user_code":"{{userCode}}"}""")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Polling_faster_than_the_interval_is_slow_down_and_the_interval_grows_by_five_seconds(string db)
    {
        var (s, clock) = await StartAsync(db, o => o.Oauth2.DeviceAuthorization.TokenPollingInterval = TimeSpan.FromSeconds(2));
        await using var _ = s;
        var (id, _) = await CreateClientAsync(s);
        var auth = await DeviceAuthAsync(s, id);
        Assert.Equal(2, auth["interval"]!.GetValue<int>());
        var code = auth["device_code"]!.GetValue<string>();

        await (await PollAsync(s, id, code)).OAuth2Error(HttpStatusCode.BadRequest, "authorization_pending");
        clock.Advance(TimeSpan.FromSeconds(1));
        var slow = await (await PollAsync(s, id, code)).OAuth2Error(HttpStatusCode.BadRequest, "slow_down");
        Assert.Equal("The authorization request was rate-limited to prevent system overload. Ensure that you don't call the token endpoint sooner than the polling interval",
            slow["error_description"]!.GetValue<string>());
        // Now 7 s: 2 s later is still too early (slow_down again: 12 s); 12 s after that it is pending again.
        clock.Advance(TimeSpan.FromSeconds(2));
        await (await PollAsync(s, id, code)).OAuth2Error(HttpStatusCode.BadRequest, "slow_down");
        clock.Advance(TimeSpan.FromSeconds(12));
        await (await PollAsync(s, id, code)).OAuth2Error(HttpStatusCode.BadRequest, "authorization_pending");
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Expired_codes_are_expired_token_and_the_cleanup_removes_them(string db)
    {
        var (s, clock) = await StartAsync(db, o => o.Ttl.DeviceUserCode = TimeSpan.FromMinutes(2));
        await using var _ = s;
        var (id, _) = await CreateClientAsync(s);
        var auth = await DeviceAuthAsync(s, id);
        Assert.Equal(120, auth["expires_in"]!.GetValue<long>());
        clock.Advance(TimeSpan.FromMinutes(2));

        var expired = await (await PollAsync(s, id, auth["device_code"]!.GetValue<string>())).OAuth2Error(HttpStatusCode.BadRequest, "expired_token");
        Assert.StartsWith("The device_code has expired, and the device authorization session has concluded. Device code expired at '", expired["error_description"]!.GetValue<string>());
        using var b = new Browser(s);
        var challenge = await DeviceChallengeAsync(b);
        var refused = await (await AcceptUserCodeAsync(s, challenge, $$"""{"user_code":"{{auth["user_code"]}}"}""")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
        Assert.EndsWith("The 'user_code' session could not be found or has expired or is otherwise malformed.", refused["error_description"]!.GetValue<string>());

        var fresh = await DeviceAuthAsync(s, id);
        var cleaned = await s.Services.GetRequiredService<Gatehouse.Persistence.Cleanup.DatabaseCleanup>().RunAsync(TimeSpan.Zero, 10, TimeSpan.Zero, null, TestContext.Current.CancellationToken);
        Assert.Contains(cleaned.Tables, t => t.Name == "expired OAuth2 device authorizations" && t.Deleted == 1);
        await (await PollAsync(s, id, fresh["device_code"]!.GetValue<string>())).OAuth2Error(HttpStatusCode.BadRequest, "authorization_pending");

        // A device challenge lives ttl.login_consent_request (30m): later it is Hydra's 401.
        var late = await DeviceChallengeAsync(b);
        clock.Advance(TimeSpan.FromMinutes(31));
        var lateAnswer = await (await AcceptUserCodeAsync(s, late, $$"""{"user_code":"{{fresh["user_code"]}}"}""")).OAuth2Error(HttpStatusCode.Unauthorized, "request_unauthorized");
        Assert.EndsWith("The device request has expired, please try again.", lateAnswer["error_description"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Denied_consent_is_access_denied_for_the_device(string db)
    {
        var (s, clock) = await StartAsync(db);
        await using var _ = s;
        var (id, _) = await CreateClientAsync(s);
        var auth = await DeviceAuthAsync(s, id);
        using var b = new Browser(s);
        var challenge = await DeviceChallengeAsync(b);
        var accepted = await (await AcceptUserCodeAsync(s, challenge, $$"""{"user_code":"{{auth["user_code"]}}"}""")).Json(HttpStatusCode.OK);
        var toLogin = await b.GetRedirectAsync(accepted["redirect_to"]!.GetValue<string>());
        var login = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?login_challenge={Uri.EscapeDataString(Query(toLogin)["login_challenge"])}", """{"subject":"user-1"}""")).Json(HttpStatusCode.OK);
        var toConsent = await b.GetRedirectAsync(login["redirect_to"]!.GetValue<string>());
        var consentChallenge = Query(toConsent)["consent_challenge"];
        // A device's consent is never skipped, even for a remembered consent.
        var consentRequest = await (await s.AdminWithKey.GetAsync($"/admin/oauth2/auth/requests/consent?consent_challenge={Uri.EscapeDataString(consentChallenge)}")).Json(HttpStatusCode.OK);
        Assert.False(consentRequest["skip"]!.GetValue<bool>());
        Assert.Equal(s.PublicUrl + "/oauth2/device/verify?client_id=" + Uri.EscapeDataString(id), consentRequest["request_url"]!.GetValue<string>());
        var rejected = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/consent/reject?consent_challenge={Uri.EscapeDataString(consentChallenge)}",
            """{"error":"access_denied","error_description":"The resource owner denied the request"}""")).Json(HttpStatusCode.OK);
        // The browser gets the error (no redirect URI to send it to: Hydra's error JSON).
        var res = await b.Client.GetAsync(rejected["redirect_to"]!.GetValue<string>());
        await res.OAuth2Error(HttpStatusCode.BadRequest, "access_denied");

        var denied = await (await PollAsync(s, id, auth["device_code"]!.GetValue<string>())).OAuth2Error(HttpStatusCode.Forbidden, "access_denied");
        Assert.StartsWith("The resource owner or authorization server denied the request.", denied["error_description"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Device_verify_errors_are_error_json_even_with_urls_error_set(string db)
    {
        // Hydra's performOAuth2DeviceVerificationFlow writes every error with its JSON writer; it never forwards to urls.error.
        var (s, _) = await StartAsync(db, o => o.Urls.Error = "https://login.example/error");
        await using var _ = s;
        var (id, _) = await CreateClientAsync(s);
        var auth = await DeviceAuthAsync(s, id);
        using var b = new Browser(s);

        var unknown = await (await b.Client.GetAsync("/oauth2/device/verify?device_verifier=nope&client_id=" + Uri.EscapeDataString(id))).OAuth2Error(HttpStatusCode.Forbidden, "access_denied");
        Assert.EndsWith("The device verifier has already been used, has not been granted, or is invalid.", unknown["error_description"]!.GetValue<string>());

        var challenge = await DeviceChallengeAsync(b);
        var accepted = await (await AcceptUserCodeAsync(s, challenge, $$"""{"user_code":"{{auth["user_code"]}}"}""")).Json(HttpStatusCode.OK);
        var redirectTo = accepted["redirect_to"]!.GetValue<string>();
        var verifier = QueryHelpers.ParseQuery(new Uri(redirectTo).Query)["device_verifier"].ToString();
        var noClient = await (await b.Client.GetAsync("/oauth2/device/verify?device_verifier=" + Uri.EscapeDataString(verifier))).OAuth2Error(HttpStatusCode.Unauthorized, "invalid_client");
        Assert.EndsWith("Query parameter 'client_id' is missing.", noClient["error_description"]!.GetValue<string>());
        // The verifier was spent by that try: a second use is refused the same way.
        await (await b.Client.GetAsync(redirectTo)).OAuth2Error(HttpStatusCode.Forbidden, "access_denied");

        var unknownConsent = await b.Client.GetAsync("/oauth2/device/verify?consent_verifier=nope");
        Assert.Null(unknownConsent.Headers.Location);
        await unknownConsent.OAuth2Error(HttpStatusCode.Forbidden, "access_denied");
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_accepted_user_code_can_be_accepted_again_until_the_device_is_answered(string db)
    {
        // Hydra v26.2: acceptUserCodeRequest (consent/handler.go) decodes the stateless device challenge
        // (flow.DecodeFromDeviceChallenge) and changes no state; the user code stays unused (persister_device.go
        // GetUserCodeSession) until the consent is given (oauth2/handler.go performOAuth2DeviceVerificationFlow sets
        // UserCodeAccepted). So the same challenge and code are accepted again, also once a verifier started a login.
        var (s, _) = await StartAsync(db);
        await using var _ = s;
        var (id, _) = await CreateClientAsync(s);
        var userCode = (await DeviceAuthAsync(s, id))["user_code"]!.GetValue<string>();
        using var b = new Browser(s);
        var challenge = await DeviceChallengeAsync(b, userCode);
        var first = (await (await AcceptUserCodeAsync(s, challenge, $$"""{"user_code":"{{userCode}}"}""")).Json(HttpStatusCode.OK))["redirect_to"]!.GetValue<string>();
        Assert.StartsWith(LoginUrl + "?login_challenge=", (await b.GetRedirectAsync(first)).ToString());

        var again = (await (await AcceptUserCodeAsync(s, challenge, $$"""{"user_code":"{{userCode}}"}""")).Json(HttpStatusCode.OK))["redirect_to"]!.GetValue<string>();
        Assert.NotEqual(first, again);
        using (var other = new Browser(s))
            await (await AcceptUserCodeAsync(s, await DeviceChallengeAsync(other), $$"""{"user_code":"{{userCode}}"}""")).Json(HttpStatusCode.OK);

        // The new verifier leads through login and consent to the device's tokens.
        var toLogin = await b.GetRedirectAsync(again);
        var login = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?login_challenge={Uri.EscapeDataString(Query(toLogin)["login_challenge"])}", """{"subject":"user-2"}""")).Json(HttpStatusCode.OK);
        var toConsent = await b.GetRedirectAsync(login["redirect_to"]!.GetValue<string>());
        var consent = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/consent/accept?consent_challenge={Uri.EscapeDataString(Query(toConsent)["consent_challenge"])}", """{"grant_scope":["openid"]}""")).Json(HttpStatusCode.OK);
        Assert.Equal(SuccessUrl + "?client_id=" + Uri.EscapeDataString(id), (await b.GetRedirectAsync(consent["redirect_to"]!.GetValue<string>())).ToString());

        // Now the user code is used: Hydra's GetUserCodeSession answers ErrInactiveToken, written as this invalid_request.
        var used = await (await AcceptUserCodeAsync(s, challenge, $$"""{"user_code":"{{userCode}}"}""")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
        Assert.EndsWith("The 'user_code' session could not be found or has expired or is otherwise malformed.", used["error_description"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Wrong_user_codes_are_refused_and_a_challenge_takes_five(string db)
    {
        var (s, _) = await StartAsync(db);
        await using var __ = s;
        var (id, _) = await CreateClientAsync(s);
        var auth = await DeviceAuthAsync(s, id);
        var userCode = auth["user_code"]!.GetValue<string>();
        using var b = new Browser(s);
        var challenge = await DeviceChallengeAsync(b);

        // Hydra's body checks.
        var noCode = await (await AcceptUserCodeAsync(s, challenge, "{}")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
        Assert.EndsWith("Field 'user_code' must not be empty.", noCode["error_description"]!.GetValue<string>());
        var wrongType = await (await AcceptUserCodeAsync(s, challenge, """{"user_code":1}""")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
        Assert.EndsWith("Unable to decode request body: json: cannot unmarshal number into Go struct field AcceptDeviceUserCodeRequest.user_code of type string", wrongType["error_description"]!.GetValue<string>());
        var noChallenge = await (await s.AdminWithKey.PutJson("/admin/oauth2/auth/requests/device/accept", $$"""{"user_code":"{{userCode}}"}""")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
        Assert.EndsWith("Query parameter 'device_challenge' is not defined but should have been.", noChallenge["error_description"]!.GetValue<string>());
        await (await AcceptUserCodeAsync(s, "unknown-challenge", $$"""{"user_code":"{{userCode}}"}""")).OAuth2Error(HttpStatusCode.NotFound);

        // Case matters (as in Hydra): a code in the wrong case is wrong.
        var flipped = new string([.. userCode.Select(c => char.IsUpper(c) ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c))]);
        for (var i = 0; i < 5; i++)
            await (await AcceptUserCodeAsync(s, challenge, $$"""{"user_code":"{{(i == 0 && flipped != userCode ? flipped : "wrong" + i)}}"}""")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
        // The challenge's budget is spent: even the right code is refused now, concurrently or not.
        var tooMany = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => AcceptUserCodeAsync(s, challenge, $$"""{"user_code":"{{userCode}}"}""")));
        foreach (var r in tooMany)
            Assert.Contains("Too many user codes were tried for this device challenge", (await r.OAuth2Error(HttpStatusCode.BadRequest, "invalid_request"))["error_description"]!.GetValue<string>());

        // Concurrent guesses on a fresh challenge: at most five are looked at.
        var fresh = await DeviceChallengeAsync(b);
        var guesses = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => AcceptUserCodeAsync(s, fresh, $$"""{"user_code":"guess{{i}}"}""")));
        var bodies = await Task.WhenAll(guesses.Select(g => g.Content.ReadAsStringAsync()));
        Assert.Equal(3, bodies.Count(x => x.Contains("Too many", StringComparison.Ordinal)));

        // A new challenge may take the right code.
        var third = await DeviceChallengeAsync(b);
        await (await AcceptUserCodeAsync(s, third, $$"""{"user_code":"{{userCode}}"}""")).Json(HttpStatusCode.OK);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Verifiers_work_once_in_the_browser_that_started_and_only_at_their_own_endpoint(string db)
    {
        var (s, _) = await StartAsync(db);
        await using var __ = s;
        var (id, _) = await CreateClientAsync(s);
        var auth = await DeviceAuthAsync(s, id);
        using var b = new Browser(s);
        var challenge = await DeviceChallengeAsync(b);
        var accepted = await (await AcceptUserCodeAsync(s, challenge, $$"""{"user_code":"{{auth["user_code"]}}"}""")).Json(HttpStatusCode.OK);
        var redirectTo = accepted["redirect_to"]!.GetValue<string>();
        Assert.StartsWith(s.PublicUrl + "/oauth2/device/verify?", redirectTo);
        Assert.Equal(id, Query(new Uri(redirectTo))["client_id"]);

        // Another browser lacks the device CSRF cookie.
        using var other = new Browser(s);
        await (await other.Client.GetAsync(redirectTo)).OAuth2Error(HttpStatusCode.Forbidden, "request_forbidden");
        // The verifier was spent by that attempt (once only, as Hydra's DecodeAndInvalidate).
        await (await b.Client.GetAsync(redirectTo)).OAuth2Error(HttpStatusCode.Forbidden, "access_denied");

        // A normal login verifier is refused at the device endpoint, and a device login verifier at /oauth2/auth.
        var challenge2 = await DeviceChallengeAsync(b);
        var accepted2 = await (await AcceptUserCodeAsync(s, challenge2, $$"""{"user_code":"{{auth["user_code"]}}"}""")).Json(HttpStatusCode.OK);
        var toLogin = await b.GetRedirectAsync(accepted2["redirect_to"]!.GetValue<string>());
        var loginRequest = await (await s.AdminWithKey.GetAsync($"/admin/oauth2/auth/requests/login?login_challenge={Uri.EscapeDataString(Query(toLogin)["login_challenge"])}")).Json(HttpStatusCode.OK);
        Assert.Equal(["openid", "offline_access", "photos.read"], loginRequest["requested_scope"]!.AsArray().Select(x => x!.GetValue<string>()));
        Assert.Equal(id, loginRequest["client"]!["client_id"]!.GetValue<string>());
        var login = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?login_challenge={Uri.EscapeDataString(Query(toLogin)["login_challenge"])}", """{"subject":"user-1"}""")).Json(HttpStatusCode.OK);
        var verifier = Query(new Uri(login["redirect_to"]!.GetValue<string>()))["login_verifier"];
        // At /oauth2/auth the request in the query is checked first (fosite), and this one names no client.
        (await b.Client.GetAsync("/oauth2/auth?login_verifier=" + Uri.EscapeDataString(verifier))).FallbackError(s.PublicUrl, "invalid_client");
        // It still works where it belongs.
        Assert.StartsWith(ConsentUrl, (await b.GetRedirectAsync(login["redirect_to"]!.GetValue<string>())).ToString());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Device_authorization_and_token_requests_are_checked_as_fosite_does(string db)
    {
        var (s, _) = await StartAsync(db);
        await using var __ = s;
        var (id, _) = await CreateClientAsync(s);
        var (confidential, secret) = await CreateClientAsync(s, """{"grant_types":["urn:ietf:params:oauth:grant-type:device_code"],"scope":"openid"}""");
        var (noGrant, noGrantSecret) = await CreateClientAsync(s, """{"grant_types":["client_credentials"],"scope":"openid"}""");

        await (await PostForm(s, "/oauth2/device/auth", null, ("client_id", id), ("scope", "admin"))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_scope");
        var audience = await (await PostForm(s, "/oauth2/device/auth", null, ("client_id", id), ("audience", "https://other.example"))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
        Assert.EndsWith("Requested audience 'https://other.example' has not been whitelisted by the OAuth 2.0 Client.", audience["error_description"]!.GetValue<string>());
        await (await PostForm(s, "/oauth2/device/auth", null, ("client_id", "nobody"))).OAuth2Error(HttpStatusCode.Unauthorized, "invalid_client");
        await (await PostForm(s, "/oauth2/device/auth", $"{confidential}:wrong-secret", ("client_id", confidential))).OAuth2Error(HttpStatusCode.Unauthorized, "invalid_client");
        var mismatch = await (await PostForm(s, "/oauth2/device/auth", $"{confidential}:{secret}", ("scope", "openid"))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_request");
        Assert.EndsWith("Provided client_id mismatch.", mismatch["error_description"]!.GetValue<string>());
        var grant = await (await PostForm(s, "/oauth2/device/auth", $"{noGrant}:{noGrantSecret}", ("client_id", noGrant))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_grant");
        Assert.EndsWith("The requested OAuth 2.0 Client does not have the 'urn:ietf:params:oauth:grant-type:device_code' grant.", grant["error_description"]!.GetValue<string>());
        var empty = await s.Public.PostAsync("/oauth2/device/auth", new FormUrlEncodedContent([]));
        Assert.EndsWith("The POST body can not be empty.", (await empty.OAuth2Error(HttpStatusCode.BadRequest, "invalid_request"))["error_description"]!.GetValue<string>());
        // A confidential client authenticates with its secret (and names itself in the body, as fosite requires).
        var confidentialAuth = await (await PostForm(s, "/oauth2/device/auth", $"{confidential}:{secret}", ("client_id", confidential), ("scope", "openid"))).Json(HttpStatusCode.OK);

        var code = (await DeviceAuthAsync(s, id))["device_code"]!.GetValue<string>();
        // Another client's device code, an unknown one, a client without the grant.
        await (await PostForm(s, "/oauth2/token", $"{confidential}:{secret}", ("grant_type", GrantType), ("device_code", code))).OAuth2Error(HttpStatusCode.BadRequest, "invalid_grant");
        await (await PollAsync(s, id, "ory_dc_unknown")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_grant");
        await (await PollAsync(s, id, "")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_grant");
        var unauthorized = await (await PostForm(s, "/oauth2/token", $"{noGrant}:{noGrantSecret}", ("grant_type", GrantType), ("device_code", code))).OAuth2Error(HttpStatusCode.BadRequest, "unauthorized_client");
        Assert.EndsWith("The OAuth 2.0 Client is not allowed to use authorization grant 'urn:ietf:params:oauth:grant-type:device_code'.", unauthorized["error_description"]!.GetValue<string>());
        await (await PostForm(s, "/oauth2/token", $"{confidential}:wrong", ("grant_type", GrantType), ("device_code", confidentialAuth["device_code"]!.GetValue<string>()))).OAuth2Error(HttpStatusCode.Unauthorized, "invalid_client");
        // None of that disturbed the right client's code.
        await (await PollAsync(s, id, code)).OAuth2Error(HttpStatusCode.BadRequest, "authorization_pending");
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task User_code_presets_and_a_custom_character_set_shape_the_code(string db)
    {
        var (s, _) = await StartAsync(db, o => o.Oauth2.DeviceAuthorization.UserCode = new Gatehouse.Config.DeviceUserCodeOptions { EntropyPreset = "low" });
        await using var __ = s;
        var (id, _) = await CreateClientAsync(s);
        var code = (await DeviceAuthAsync(s, id))["user_code"]!.GetValue<string>();
        Assert.Matches("^[0-9]{9}$", code);

        var (s2, _) = await StartAsync(db, o => o.Oauth2.DeviceAuthorization.UserCode = new Gatehouse.Config.DeviceUserCodeOptions { Length = 10, CharacterSet = "BCDFGHJKLM" });
        await using var ___ = s2;
        var (id2, _) = await CreateClientAsync(s2);
        Assert.Matches("^[BCDFGHJKLM]{10}$", (await DeviceAuthAsync(s2, id2))["user_code"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_clients_device_lifespans_apply(string db)
    {
        var (s, clock) = await StartAsync(db);
        await using var __ = s;
        var (id, _) = await CreateClientAsync(s);
        await (await s.AdminWithKey.PutJson($"/admin/clients/{id}/lifespans",
            """{"device_authorization_grant_access_token_lifespan":"5m","device_authorization_grant_id_token_lifespan":"6m","device_authorization_grant_refresh_token_lifespan":"7m"}""")).Json(HttpStatusCode.OK);
        var client = await (await s.AdminWithKey.GetAsync($"/admin/clients/{id}")).Json(HttpStatusCode.OK);
        Assert.Equal("5m0s", client["device_authorization_grant_access_token_lifespan"]!.GetValue<string>());
        var auth = await DeviceAuthAsync(s, id);
        using var b = new Browser(s);
        await ApproveAsync(s, b, auth["user_code"]!.GetValue<string>());
        var tokens = await (await PollAsync(s, id, auth["device_code"]!.GetValue<string>())).Json(HttpStatusCode.OK);
        Assert.Equal(300, tokens["expires_in"]!.GetValue<long>());
        var idToken = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(tokens["id_token"]!.GetValue<string>());
        Assert.Equal(TimeSpan.FromMinutes(6), idToken.ValidTo - idToken.IssuedAt);
        Assert.Equal("tv@example.com", idToken.GetClaim("email").Value);
        Assert.Equal("user-1", idToken.Subject);
    }
}
