using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Sessions;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using OtpNet;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

/// <summary>A server per provider with TOTP on and a fake clock, shared by the tests of a class (each uses its own identities).</summary>
public sealed class TotpServerFixture : IAsyncDisposable
{
    public const string Issuer = "Gatehouse Test";

    /// <summary>The default test schema with the email also marked as the TOTP account name.</summary>
    public const string Schema = """
    {
      "$schema": "http://json-schema.org/draft-07/schema#",
      "type": "object",
      "properties": {
        "traits": {
          "type": "object",
          "properties": {
            "email": {
              "type": "string", "format": "email", "title": "E-Mail",
              "ory.sh/kratos": {
                "credentials": { "password": { "identifier": true }, "totp": { "account_name": true } },
                "verification": { "via": "email" }, "recovery": { "via": "email" }
              }
            }
          },
          "required": ["email"],
          "additionalProperties": false
        }
      }
    }
    """;

    private readonly Dictionary<string, Task<TestServer>> _servers = [];
    private readonly Lock _lock = new();

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero));

    public static void Configure(GatehouseOptions o)
    {
        FlowServerFixture.Configure(o);
        o.Selfservice.Methods.Totp.Enabled = true;
        o.Selfservice.Methods.Totp.Config.Issuer = Issuer;
        o.Identity.Schemas = [new IdentitySchemaEntry { Id = "default", Url = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(Schema)) }];
    }

    public Task<TestServer> Get(string provider, string key = "default", Action<GatehouseOptions>? extra = null)
    {
        lock (_lock)
        {
            if (!_servers.TryGetValue(provider + "/" + key, out var server))
            {
                server = TestServer.StartAsync(provider, o => { Configure(o); extra?.Invoke(o); }, services => services.AddSingleton<TimeProvider>(Clock));
                _servers[provider + "/" + key] = server;
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
    }
}

/// <summary>
/// TOTP (enrolment, unlink, second factor, replay, attempt limit, admin view) and the AAL rules around it: whoami and
/// settings refuse an aal1 session of an identity with a second factor (403 <c>session_aal2_required</c>), an
/// <c>aal=aal2</c> login upgrades the same session, and a cached whoami answer never outlives an enrolment.
/// </summary>
public sealed class TotpAndAalTests(TotpServerFixture fixture) : IClassFixture<TotpServerFixture>
{
    private FakeTimeProvider Clock => fixture.Clock;

    private static HttpRequestMessage WithToken(HttpMethod method, string url, string token, JsonNode? body = null)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Add("X-Session-Token", token);
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        return request;
    }

    private static Task<HttpResponseMessage> Send(TestServer s, HttpMethod method, string url, string token, JsonNode? body = null) =>
        s.Public.SendAsync(WithToken(method, url, token, body));

    /// <summary>The code an authenticator app shows now for <paramref name="secret"/> (computed here with Otp.NET).</summary>
    private string Code(string secret, int stepsAhead = 0) =>
        new Totp(Base32Encoding.ToBytes(secret)).ComputeTotp(Clock.GetUtcNow().UtcDateTime.AddSeconds(30 * stepsAhead));

    private static string Secret(JsonNode flow) =>
        flow["ui"]!["nodes"]!.AsArray().Single(n => n!["attributes"]!["id"]?.GetValue<string>() == "totp_secret_key")!["attributes"]!["text"]!["context"]!["secret"]!.GetValue<string>();

    private static async Task<JsonNode> SettingsFlow(TestServer s, string token) =>
        await (await Send(s, HttpMethod.Get, "/self-service/settings/api", token)).Json(HttpStatusCode.OK);

    private static async Task<JsonNode> PasswordLogin(TestServer s, string email)
    {
        var flow = await ApiFlow(s.Public, "login");
        return await (await s.Public.PostJson($"/self-service/login?flow={flow["id"]}",
            new JsonObject { ["method"] = "password", ["identifier"] = email, ["password"] = GoodPassword })).Json(HttpStatusCode.OK);
    }

    /// <summary>Registers (session token A), enrols TOTP with session A; returns the email, the secret and token A (now aal2).</summary>
    private async Task<(string Email, string Secret, string Token, string IdentityId)> EnrolledUser(TestServer s)
    {
        var (email, token, reg) = await RegisterApi(s);
        var flow = await SettingsFlow(s, token);
        var secret = Secret(flow);
        await (await Send(s, HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}", token,
            new JsonObject { ["method"] = "totp", ["totp_code"] = Code(secret) })).Json(HttpStatusCode.OK);
        // The enrolment spent this step's code; later logins use the next one.
        Clock.Advance(TimeSpan.FromSeconds(30));
        return (email, secret, token, reg["identity"]!["id"]!.GetValue<string>());
    }

    private static async Task<JsonObject> Whoami403(TestServer s, string token)
    {
        var body = (await (await Send(s, HttpMethod.Get, "/sessions/whoami", token)).Json(HttpStatusCode.Forbidden)).AsObject();
        return body;
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Settings_offer_a_qr_code_secret_and_code_field_with_the_key_kept_in_the_flow(string db)
    {
        var s = await fixture.Get(db);
        var (email, token, reg) = await RegisterApi(s);
        var flow = await SettingsFlow(s, token);
        var totp = flow["ui"]!["nodes"]!.AsArray().Where(n => n!["group"]!.GetValue<string>() == "totp").Select(n => n!.AsObject()).ToList();
        Assert.Equal(["img", "text", "input", "input"], totp.Select(n => n["type"]!.GetValue<string>()));

        var qr = totp[0]["attributes"]!;
        Assert.Equal("totp_qr", qr["id"]!.GetValue<string>());
        Assert.Equal(256, qr["width"]!.GetValue<int>());
        Assert.Equal(1050005, totp[0]["meta"]!["label"]!["id"]!.GetValue<long>());
        var src = qr["src"]!.GetValue<string>();
        Assert.StartsWith("data:image/png;base64,", src, StringComparison.Ordinal);
        var png = Convert.FromBase64String(src["data:image/png;base64,".Length..]);
        Assert.Equal([0x89, 0x50, 0x4E, 0x47], png[..4]);

        var text = totp[1]["attributes"]!["text"]!;
        Assert.Equal(1050006, text["id"]!.GetValue<long>());
        var secret = Secret(flow);
        Assert.Equal(secret, text["text"]!.GetValue<string>());
        Assert.Equal(20, Base32Encoding.ToBytes(secret).Length); // 160 bits, as Kratos
        Assert.Equal(1050017, totp[1]["meta"]!["label"]!["id"]!.GetValue<long>());
        Assert.Equal("totp_code", totp[2]["attributes"]!["name"]!.GetValue<string>());
        Assert.True(totp[2]["attributes"]!["required"]!.GetValue<bool>());
        Assert.Equal(1070006, totp[2]["meta"]!["label"]!["id"]!.GetValue<long>());
        Assert.Equal("totp", totp[3]["attributes"]!["value"]!.GetValue<string>());
        Assert.Equal(1070003, totp[3]["meta"]!["label"]!["id"]!.GetValue<long>());

        // Nothing is stored on the identity until a code confirms the key; the flow shows the same key when fetched again.
        var id = reg["identity"]!["id"]!.GetValue<string>();
        var identity = await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}?include_credential=totp")).Json(HttpStatusCode.OK);
        Assert.Null(identity["credentials"]!["totp"]);
        var fetched = await (await Send(s, HttpMethod.Get, $"/self-service/settings/flows?id={flow["id"]}", token)).Json(HttpStatusCode.OK);
        Assert.Equal(secret, Secret(fetched));
        Assert.Null(fetched["internal_context"]);
        Assert.DoesNotContain(email, secret, StringComparison.OrdinalIgnoreCase);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Enrolment_needs_the_right_code_then_stores_the_key_and_raises_the_session_to_aal2(string db)
    {
        var s = await fixture.Get(db);
        var (email, token, reg) = await RegisterApi(s);
        var id = reg["identity"]!["id"]!.GetValue<string>();
        var flow = await SettingsFlow(s, token);
        var secret = Secret(flow);
        var url = $"/self-service/settings?flow={flow["id"]}";

        var missing = await (await Send(s, HttpMethod.Post, url, token, new JsonObject { ["method"] = "totp" })).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4000002L, MessageIds(missing, "totp_code"));
        var wrong = Code(secret, stepsAhead: 5);
        var refused = await (await Send(s, HttpMethod.Post, url, token, new JsonObject { ["method"] = "totp", ["totp_code"] = wrong })).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4000008L, MessageIds(refused, "totp_code"));
        Assert.Equal("The provided authentication code is invalid, please try again.", Node(refused, "totp_code")!["messages"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(secret, Secret(refused)); // the same pending key
        Assert.Null((await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}?include_credential=totp")).Json(HttpStatusCode.OK))["credentials"]!["totp"]);

        var saved = await (await Send(s, HttpMethod.Post, url, token, new JsonObject { ["method"] = "totp", ["totp_code"] = Code(secret) })).Json(HttpStatusCode.OK);
        Assert.Equal("success", saved["state"]!.GetValue<string>());
        var unlink = Node(saved, "totp_unlink")!;
        Assert.Equal("submit", unlink["attributes"]!["type"]!.GetValue<string>());
        Assert.Equal("true", unlink["attributes"]!["value"]!.GetValue<string>());
        Assert.Equal(1050004, unlink["meta"]!["label"]!["id"]!.GetValue<long>());
        Assert.Null(Node(saved, "totp_code"));

        // Stored as Kratos stores it: identifiers [identity id], config {totp_url} (the admin API shows nothing else).
        var identity = await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}?include_credential=totp")).Json(HttpStatusCode.OK);
        var credential = identity["credentials"]!["totp"]!;
        Assert.Equal([id], credential["identifiers"]!.AsArray().Select(i => i!.GetValue<string>()));
        var config = credential["config"]!.AsObject();
        Assert.Equal(["totp_url"], config.Select(p => p.Key));
        var totpUrl = config["totp_url"]!.GetValue<string>();
        Assert.StartsWith($"otpauth://totp/Gatehouse%20Test:{email.ToLowerInvariant()}?algorithm=SHA1&digits=6&issuer=Gatehouse+Test&period=30&secret={secret}", totpUrl, StringComparison.Ordinal);
        // Without include_credential there is no config at all; whoami never shows credentials.
        Assert.Null((await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}")).Json(HttpStatusCode.OK))["credentials"]!["totp"]!["config"]);

        var whoami = await (await Send(s, HttpMethod.Get, "/sessions/whoami", token)).Json(HttpStatusCode.OK);
        Assert.Equal("aal2", whoami["authenticator_assurance_level"]!.GetValue<string>());
        Assert.Equal(["password:aal1", "totp:aal2"], whoami["authentication_methods"]!.AsArray().Select(m => $"{m!["method"]}:{m["aal"]}"));
        Assert.Null(whoami["identity"]!["credentials"]);
        Assert.DoesNotContain(secret, whoami.ToJsonString(), StringComparison.Ordinal);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Password_login_then_whoami_403_then_aal2_login_with_totp_upgrades_the_same_session(string db)
    {
        var s = await fixture.Get(db);
        var (email, secret, _, _) = await EnrolledUser(s);

        var login = await PasswordLogin(s, email);
        var token = login["session_token"]!.GetValue<string>();
        var sessionId = login["session"]!["id"]!.GetValue<string>();
        Assert.Equal("aal1", login["session"]!["authenticator_assurance_level"]!.GetValue<string>());
        Assert.Null(login["session"]!["identity"]); // Kratos omits it while the session is short of the identity's level

        var refused = await Whoami403(s, token);
        var stepUp = $"{s.PublicUrl}/self-service/login/browser?aal=aal2";
        Assert.Equal("session_aal2_required", refused["error"]!["id"]!.GetValue<string>());
        Assert.Equal("Session does not fulfill the requested Authenticator Assurance Level", refused["error"]!["message"]!.GetValue<string>());
        Assert.Equal("An active session was found but it does not fulfill the requested Authenticator Assurance Level. Please verify yourself with a second factor to resolve this issue.",
            refused["error"]!["reason"]!.GetValue<string>());
        Assert.Equal(stepUp, refused["error"]!["details"]!["redirect_browser_to"]!.GetValue<string>());
        Assert.Equal(stepUp, refused["redirect_browser_to"]!.GetValue<string>());
        Assert.Equal("session_aal2_required", (await (await Send(s, HttpMethod.Get, "/sessions", token)).Error(HttpStatusCode.Forbidden))["id"]!.GetValue<string>());

        var flow = await (await Send(s, HttpMethod.Get, "/self-service/login/api?aal=aal2", token)).Json(HttpStatusCode.OK);
        Assert.Equal("aal2", flow["requested_aal"]!.GetValue<string>());
        Assert.Contains(1010004L, MessageIds(flow));
        Assert.Equal(["totp_code", "method"], flow["ui"]!["nodes"]!.AsArray().Select(n => n!["attributes"]!["name"]!.GetValue<string>()));
        Assert.Equal(1010006, Node(flow, "totp_code")!["meta"]!["label"]!["id"]!.GetValue<long>());
        Assert.Equal(1010009, Node(flow, "method")!["meta"]!["label"]!["id"]!.GetValue<long>());
        var submit = $"/self-service/login?flow={flow["id"]}";

        var wrong = await (await Send(s, HttpMethod.Post, submit, token, new JsonObject { ["method"] = "totp", ["totp_code"] = Code(secret, stepsAhead: 7) })).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4000008L, MessageIds(wrong));
        var password = await (await Send(s, HttpMethod.Post, submit, token,
            new JsonObject { ["method"] = "password", ["identifier"] = email, ["password"] = GoodPassword })).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4010002L, MessageIds(password)); // an aal2 flow takes second factors only

        var done = await (await Send(s, HttpMethod.Post, submit, token, new JsonObject { ["method"] = "totp", ["totp_code"] = Code(secret) })).Json(HttpStatusCode.OK);
        Assert.Equal(sessionId, done["session"]!["id"]!.GetValue<string>());
        Assert.Equal("aal2", done["session"]!["authenticator_assurance_level"]!.GetValue<string>());
        // As any API login, the answer carries the session's token: the same one (Kratos's APIFlowResponse).
        Assert.Equal(token, done["session_token"]!.GetValue<string>());
        Assert.NotNull(done["continue_with"]);
        var whoami = await (await Send(s, HttpMethod.Get, "/sessions/whoami", token)).Json(HttpStatusCode.OK);
        Assert.Equal(sessionId, whoami["id"]!.GetValue<string>());
        Assert.Equal("aal2", whoami["authenticator_assurance_level"]!.GetValue<string>());
        Assert.Equal(["password:aal1", "totp:aal2"], whoami["authentication_methods"]!.AsArray().Select(m => $"{m!["method"]}:{m["aal"]}"));

        // Already aal2: another aal2 flow is refused as Kratos refuses it.
        var already = await (await Send(s, HttpMethod.Get, "/self-service/login/api?aal=aal2", token)).Error(HttpStatusCode.BadRequest);
        Assert.Equal("session_already_available", already["id"]!.GetValue<string>());
        Assert.Equal("you are already logged in", already["message"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_code_that_was_used_is_refused_within_its_window_and_the_next_one_works(string db)
    {
        var s = await fixture.Get(db);
        var (email, secret, _, _) = await EnrolledUser(s);
        async Task<HttpResponseMessage> StepUp(string code)
        {
            var token = (await PasswordLogin(s, email))["session_token"]!.GetValue<string>();
            var flow = await (await Send(s, HttpMethod.Get, "/self-service/login/api?aal=aal2", token)).Json(HttpStatusCode.OK);
            return await Send(s, HttpMethod.Post, $"/self-service/login?flow={flow["id"]}", token, new JsonObject { ["method"] = "totp", ["totp_code"] = code });
        }

        var code = Code(secret);
        await (await StepUp(code)).Json(HttpStatusCode.OK);
        Assert.Contains(4000008L, MessageIds(await (await StepUp(code)).Json(HttpStatusCode.BadRequest)));
        Clock.Advance(TimeSpan.FromSeconds(10)); // still the same step: still refused
        Assert.Contains(4000008L, MessageIds(await (await StepUp(code)).Json(HttpStatusCode.BadRequest)));
        Clock.Advance(TimeSpan.FromSeconds(30));
        // The previous step's code is within the ±1 step window but older than the one used: refused too.
        Assert.Contains(4000008L, MessageIds(await (await StepUp(code)).Json(HttpStatusCode.BadRequest)));
        await (await StepUp(Code(secret))).Json(HttpStatusCode.OK);

        // The same fresh code submitted twice at once: exactly one is accepted.
        Clock.Advance(TimeSpan.FromSeconds(30));
        var fresh = Code(secret);
        var results = await Task.WhenAll(StepUp(fresh), StepUp(fresh), StepUp(fresh));
        Assert.Equal(1, results.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(2, results.Count(r => r.StatusCode == HttpStatusCode.BadRequest));
        Clock.Advance(TimeSpan.FromSeconds(30));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Aal2_login_needs_a_session_and_an_identity_without_totp_gets_no_totp_field(string db)
    {
        var s = await fixture.Get(db);
        var noSession = await (await s.Public.GetAsync("/self-service/login/api?aal=aal2")).Error(HttpStatusCode.Unauthorized);
        Assert.Equal("session_aal1_required", noSession["id"]!.GetValue<string>());
        Assert.Equal("aal2 and aal3 can only be requested if a session exists already", noSession["message"]!.GetValue<string>());
        using (var browser = new Browser(s.PublicUrl, acceptJson: true))
            Assert.Equal("session_aal1_required", (await (await browser.Client.GetAsync("/self-service/login/browser?aal=aal2")).Error(HttpStatusCode.Unauthorized))["id"]!.GetValue<string>());
        Assert.Contains("Unable to parse AuthenticationMethod Assurance Level (AAL)",
            (await (await s.Public.GetAsync("/self-service/login/api?aal=aal3")).Error(HttpStatusCode.BadRequest))["reason"]!.GetValue<string>());

        var (_, token, _) = await RegisterApi(s);
        var flow = await (await Send(s, HttpMethod.Get, "/self-service/login/api?aal=aal2", token)).Json(HttpStatusCode.OK);
        Assert.Null(Node(flow, "totp_code"));
        var submitted = await (await Send(s, HttpMethod.Post, $"/self-service/login?flow={flow["id"]}", token,
            new JsonObject { ["method"] = "totp", ["totp_code"] = "123456" })).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4000011L, MessageIds(submitted));
        // Without a session the aal2 flow cannot be submitted either.
        Assert.Equal("session_aal1_required", (await (await s.Public.PostJson($"/self-service/login?flow={flow["id"]}",
            new JsonObject { ["method"] = "totp", ["totp_code"] = "123456" })).Error(HttpStatusCode.Unauthorized))["id"]!.GetValue<string>());
        // An identity without a second factor: its aal1 session passes whoami.
        await (await Send(s, HttpMethod.Get, "/sessions/whoami", token)).Json(HttpStatusCode.OK);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_cached_aal1_whoami_answer_is_not_served_after_the_identity_enrols_totp(string db)
    {
        var s = await fixture.Get(db);
        var cache = await s.WhoamiCacheOnAsync();

        var (email, tokenA, _) = await RegisterApi(s);
        await (await Send(s, HttpMethod.Get, "/sessions/whoami", tokenA)).Json(HttpStatusCode.OK);
        await (await Send(s, HttpMethod.Get, "/sessions/whoami", tokenA)).Json(HttpStatusCode.OK);
        Assert.True(cache.TryGet(SessionTokens.Hash(tokenA), out var entry), "whoami was not cached");
        Assert.False(entry.StepUpRequired);

        // Another session of the same identity enrols an authenticator app.
        var tokenB = (await PasswordLogin(s, email))["session_token"]!.GetValue<string>();
        var flow = await SettingsFlow(s, tokenB);
        await (await Send(s, HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}", tokenB,
            new JsonObject { ["method"] = "totp", ["totp_code"] = Code(Secret(flow)) })).Json(HttpStatusCode.OK);

        // Session A is still aal1: whoami now refuses it, and goes on refusing it from the cache.
        Assert.Equal("session_aal2_required", (await Whoami403(s, tokenA))["error"]!["id"]!.GetValue<string>());
        Assert.Equal("session_aal2_required", (await Whoami403(s, tokenA))["error"]!["id"]!.GetValue<string>());
        Assert.True(cache.TryGet(SessionTokens.Hash(tokenA), out var refusal), "the refusal was not cached");
        Assert.True(refusal.StepUpRequired);
        // Session B completed TOTP while enrolling: aal2.
        await (await Send(s, HttpMethod.Get, "/sessions/whoami", tokenB)).Json(HttpStatusCode.OK);
        Clock.Advance(TimeSpan.FromSeconds(30));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Settings_of_an_aal1_session_with_totp_step_up_first(string db)
    {
        var s = await fixture.Get(db);
        var (email, secret, _, _) = await EnrolledUser(s);
        var token = (await PasswordLogin(s, email))["session_token"]!.GetValue<string>();
        var error = await (await Send(s, HttpMethod.Get, "/self-service/settings/api", token)).Json(HttpStatusCode.Forbidden);
        Assert.Equal("session_aal2_required", error["error"]!["id"]!.GetValue<string>());
        Assert.Equal($"{s.PublicUrl}/self-service/login/browser?aal=aal2", error["redirect_browser_to"]!.GetValue<string>());
        // An API flow names no URL to come back to, even with a return_to (Kratos's createNativeSettingsFlow).
        var withReturnTo = await (await Send(s, HttpMethod.Get, $"/self-service/settings/api?return_to={Uri.EscapeDataString(s.PublicUrl + "/x")}", token)).Json(HttpStatusCode.Forbidden);
        Assert.Equal($"{s.PublicUrl}/self-service/login/browser?aal=aal2", withReturnTo["redirect_browser_to"]!.GetValue<string>());

        // A browser: 303 to the aal2 login, which returns to the settings when a return_to was asked for.
        using var browser = new Browser(s.PublicUrl);
        var loginFlow = await StartBrowserFlow(browser, "login");
        var signedIn = await browser.PostForm($"/self-service/login?flow={loginFlow["id"]}",
            [new("csrf_token", Csrf(loginFlow)), new("method", "password"), new("identifier", email), new("password", GoodPassword)]);
        // The first factor done, the browser goes on to the second (Kratos's checkAAL), with the session cookie set.
        Assert.Equal(HttpStatusCode.SeeOther, signedIn.StatusCode);
        Assert.Equal($"{s.PublicUrl}/self-service/login/browser?aal=aal2", signedIn.Headers.Location!.ToString());
        Assert.NotNull(browser.Cookie("ory_kratos_session"));
        var settings = await browser.Client.GetAsync("/self-service/settings/browser?return_to=http://app.example.com/after");
        Assert.Equal(HttpStatusCode.SeeOther, settings.StatusCode);
        var expected = $"{s.PublicUrl}/self-service/login/browser?aal=aal2&return_to="
            + Uri.EscapeDataString($"{s.PublicUrl}/self-service/settings/browser?return_to=http://app.example.com/after");
        Assert.Equal(expected, settings.Headers.Location!.ToString());

        var stepUp = await StartBrowserFlow(browser, "login", "?aal=aal2&return_to=http://app.example.com/after");
        Assert.Equal("aal2", stepUp["requested_aal"]!.GetValue<string>());
        var done = await browser.PostForm($"/self-service/login?flow={stepUp["id"]}",
            [new("csrf_token", Csrf(stepUp)), new("method", "totp"), new("totp_code", Code(secret))]);
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        Assert.Equal("http://app.example.com/after", done.Headers.Location!.ToString());
        var ok = await browser.Client.GetAsync("/self-service/settings/browser");
        Assert.Equal(HttpStatusCode.SeeOther, ok.StatusCode);
        Assert.Contains("/ui/settings?flow=", ok.Headers.Location!.ToString(), StringComparison.Ordinal);
        Clock.Advance(TimeSpan.FromSeconds(30));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_single_page_app_gets_422_to_the_aal2_login_carrying_return_to_and_login_challenge(string db)
    {
        var s = await fixture.Get(db);
        var (email, _, _, _) = await EnrolledUser(s);
        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        // The login flow now reads the challenge from the OAuth2 provider (issue 14), so it must be a real one.
        var challenge = await LoginChallengeAsync(s);
        var flow = await (await spa.Client.GetAsync($"/self-service/login/browser?return_to=http://app.example.com/x&login_challenge={Uri.EscapeDataString(challenge)}")).Json(HttpStatusCode.OK);
        var response = await spa.Client.PostAsync($"/self-service/login?flow={flow["id"]}", new StringContent(new JsonObject
        {
            ["csrf_token"] = Csrf(flow), ["method"] = "password", ["identifier"] = email, ["password"] = GoodPassword,
        }.ToJsonString(), Encoding.UTF8, "application/json"));
        var body = await response.Json((HttpStatusCode)422);
        Assert.Equal("browser_location_change_required", body["error"]!["id"]!.GetValue<string>());
        Assert.Equal($"{s.PublicUrl}/self-service/login/browser?aal=aal2&login_challenge={Uri.EscapeDataString(challenge)}&return_to={Uri.EscapeDataString("http://app.example.com/x")}",
            body["redirect_browser_to"]!.GetValue<string>());
        Assert.NotNull(spa.Cookie("ory_kratos_session"));
        Assert.Equal("session_aal2_required", (await (await spa.Client.GetAsync("/sessions/whoami")).Error(HttpStatusCode.Forbidden))["id"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_oauth2_client_asking_for_acr_values_aal2_gets_the_second_factor_and_acr_aal2(string db)
    {
        // whoami alone would accept aal1 here, so the step-up comes from the client's acr_values (issue 14).
        var s = await fixture.Get(db, "whoami-aal1", o => o.Session.Whoami.RequiredAal = "aal1");
        var (email, secret, _, id) = await EnrolledUser(s);
        var client = await (await s.AdminWithKey.PostJson("/admin/clients",
            """{"redirect_uris":["https://app.example/cb"],"token_endpoint_auth_method":"none","skip_consent":true,"scope":"openid"}""")).Json(HttpStatusCode.Created);
        var clientId = client["client_id"]!.GetValue<string>();
        var verifier = new string('v', 43);
        var pkce = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(System.Security.Cryptography.SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        using var b = new Browser(s.PublicUrl);
        async Task<Uri> Next(Uri url)
        {
            var res = await b.Client.GetAsync(url);
            Assert.True(res.StatusCode is HttpStatusCode.Found or HttpStatusCode.SeeOther, $"{url}: {(int)res.StatusCode} {await res.Content.ReadAsStringAsync()}");
            return new Uri(new Uri(s.PublicUrl), res.Headers.Location!);
        }
        async Task<JsonNode> FlowOf(Uri page) =>
            await (await b.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/self-service/login/flows?id={page.Query[(page.Query.IndexOf("flow=", StringComparison.Ordinal) + 5)..]}")
            { Headers = { Accept = { new("application/json") } } })).Json(HttpStatusCode.OK);

        // An OpenID Connect request names its redirect URI (fosite's validateAuthorizeRedirectURI), and the code exchange repeats it.
        var toLogin = await Next(new Uri(new Uri(s.PublicUrl), $"/oauth2/auth?response_type=code&client_id={clientId}&redirect_uri={Uri.EscapeDataString("https://app.example/cb")}&scope=openid&state=state-123456&acr_values=aal2&code_challenge={pkce}&code_challenge_method=S256"));
        var login = await FlowOf(await Next(toLogin));
        var first = await b.PostForm(login["ui"]!["action"]!.GetValue<string>(), [new("csrf_token", Csrf(login)), new("method", "password"), new("identifier", email), new("password", GoodPassword)]);
        Assert.Equal(HttpStatusCode.SeeOther, first.StatusCode);
        Assert.StartsWith($"{s.PublicUrl}/self-service/login/browser?aal=aal2&login_challenge=", first.Headers.Location!.ToString());
        var aal2 = await FlowOf(await Next(first.Headers.Location!));
        Assert.Equal("aal2", aal2["requested_aal"]!.GetValue<string>());
        Assert.Equal(clientId, aal2["oauth2_login_request"]!["client"]!["client_id"]!.GetValue<string>());
        var second = await b.PostForm(aal2["ui"]!["action"]!.GetValue<string>(), [new("csrf_token", Csrf(aal2)), new("method", "totp"), new("totp_code", Code(secret))]);
        Assert.Equal(HttpStatusCode.SeeOther, second.StatusCode);
        var next = second.Headers.Location!;
        Assert.StartsWith($"{s.PublicUrl}/oauth2/auth?", next.ToString());
        for (var i = 0; i < 4 && !next.ToString().StartsWith("https://app.example/cb", StringComparison.Ordinal); i++) next = await Next(next);
        var code = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(next.Query)["code"].ToString();
        Assert.StartsWith("ory_ac_", code);
        var tokens = await (await s.Public.PostAsync("/oauth2/token", new FormUrlEncodedContent(
            [new("grant_type", "authorization_code"), new("code", code), new("client_id", clientId), new("code_verifier", verifier), new("redirect_uri", "https://app.example/cb")]))).Json(HttpStatusCode.OK);
        var idToken = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(tokens["id_token"]!.GetValue<string>());
        Assert.Equal(id, idToken.Subject);
        Assert.Equal("aal2", idToken.GetClaim("acr").Value);
        Assert.Equal(["password", "totp"], idToken.GetPayloadValue<List<string>>("amr"));
    }

    /// <summary>A login challenge of Gatehouse's OAuth2 provider: an authorization request of a new client, as a browser sends it.</summary>
    private static async Task<string> LoginChallengeAsync(TestServer s)
    {
        var client = await (await s.AdminWithKey.PostJson("/admin/clients", """{"redirect_uris":["https://app.example/cb"],"token_endpoint_auth_method":"none"}""")).Json(HttpStatusCode.Created);
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(s.PublicUrl) };
        var auth = await http.GetAsync($"/oauth2/auth?response_type=code&client_id={client["client_id"]}&state=state-123456&code_challenge={new string('a', 43)}&code_challenge_method=S256");
        return Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(auth.Headers.Location!.Query)["login_challenge"].ToString();
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Unlinking_removes_the_app_and_the_identity_is_back_to_aal1(string db)
    {
        var s = await fixture.Get(db);
        var (email, _, tokenA, id) = await EnrolledUser(s);
        var flow = await SettingsFlow(s, tokenA);
        Assert.NotNull(Node(flow, "totp_unlink"));
        var done = await (await Send(s, HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}", tokenA,
            new JsonObject { ["method"] = "totp", ["totp_unlink"] = true })).Json(HttpStatusCode.OK);
        Assert.Null(Node(done, "totp_unlink"));
        Assert.NotNull(Node(done, "totp_code")); // a new key is offered
        Assert.Null((await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}")).Json(HttpStatusCode.OK))["credentials"]!["totp"]);
        var token = (await PasswordLogin(s, email))["session_token"]!.GetValue<string>();
        await (await Send(s, HttpMethod.Get, "/sessions/whoami", token)).Json(HttpStatusCode.OK);
    }

    private static Task<HttpResponseMessage> SendForm(TestServer s, string url, string token, KeyValuePair<string, string>[] fields)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(fields) };
        request.Headers.Add("X-Session-Token", token);
        return s.Public.SendAsync(request);
    }

    /// <summary>
    /// The unlink button posts only <c>totp_unlink=true</c> (no <c>method</c>), as a form without scripts sends it: Kratos's
    /// totp strategy takes it as its own; <c>totp_unlink=false</c> without a method is nobody's (4010004).
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_unlink_button_alone_is_taken_by_the_totp_method(string db)
    {
        var s = await fixture.Get(db);
        var (_, _, tokenA, id) = await EnrolledUser(s);
        var flow = await SettingsFlow(s, tokenA);
        var url = $"/self-service/settings?flow={flow["id"]}";
        var nobody = await (await SendForm(s, url, tokenA, [new("totp_unlink", "false")])).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4010004L, MessageIds(nobody));
        Assert.NotNull((await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}")).Json(HttpStatusCode.OK))["credentials"]!["totp"]);
        var done = await (await SendForm(s, url, tokenA, [new("totp_unlink", "true")])).Json(HttpStatusCode.OK);
        Assert.Equal("totp", done["active"]!.GetValue<string>());
        Assert.Null(Node(done, "totp_unlink"));
        Assert.Null((await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}")).Json(HttpStatusCode.OK))["credentials"]!["totp"]);
    }

    /// <summary>
    /// Kratos reads a totp submit's JSON as a form (<c>HTTPDecoderJSONFollowsFormFormat</c>): each member becomes its text,
    /// then the method's JSON schema types it. A number is a code like any other; <c>""</c> and null are left out, so the
    /// required code is missing (4000002, Kratos's own "should fail if code is empty" posts JSON ""); the login schema's
    /// <c>minLength: 6</c> is 4000003 on the node. <c>totp_unlink</c> is a Go bool: <c>"true"</c> unlinks, a value
    /// <c>strconv.ParseBool</c> refuses is Go's decode error — the flow with 4000001 from a form, a 400 error from JSON.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Totp_fields_are_read_as_kratos_reads_json_as_a_form(string db)
    {
        var s = await fixture.Get(db);
        var (email, secret, tokenA, id) = await EnrolledUser(s);
        var token = (await PasswordLogin(s, email))["session_token"]!.GetValue<string>();
        var flow = await (await Send(s, HttpMethod.Get, "/self-service/login/api?aal=aal2", token)).Json(HttpStatusCode.OK);
        var submit = $"/self-service/login?flow={flow["id"]}";
        async Task<JsonNode> Refused(JsonNode body) => await (await Send(s, HttpMethod.Post, submit, token, body)).Json(HttpStatusCode.BadRequest);

        // A wrong code sent as a number is compared as a code (4000008), not refused as a type.
        var far = Code(secret, stepsAhead: 9);
        var wrong = Refused(new JsonObject { ["method"] = "totp", ["totp_code"] = int.Parse("9" + far[1..], CultureInfo.InvariantCulture) });
        Assert.Equal([4000008L], MessageIds(await wrong));
        Assert.Equal([4000002L], MessageIds(await Refused(new JsonObject { ["method"] = "totp", ["totp_code"] = "" }), "totp_code"));
        var short5 = await Refused(new JsonObject { ["method"] = "totp", ["totp_code"] = 12345 });
        Assert.Equal([4000003L], MessageIds(short5, "totp_code"));
        Assert.Equal("length must be >= 6, but got 5", Node(short5, "totp_code")!["messages"]![0]!["text"]!.GetValue<string>());
        Assert.DoesNotContain(4000008L, MessageIds(short5));
        Assert.Equal([4000002L], MessageIds(await Refused(new JsonObject { ["method"] = "totp" }), "totp_code"));
        Assert.Equal([4000002L], MessageIds(await Refused(new JsonObject { ["method"] = "totp", ["totp_code"] = null }), "totp_code"));
        var form = new HttpRequestMessage(HttpMethod.Post, submit) { Content = new FormUrlEncodedContent([new("method", "totp"), new("totp_code", "")]) };
        form.Headers.Add("X-Session-Token", token);
        Assert.Equal([4000002L], MessageIds(await (await s.Public.SendAsync(form)).Json(HttpStatusCode.BadRequest), "totp_code"));
        // The right code as a JSON number (a step whose code has no leading zero, which a number cannot carry) signs in.
        while (Code(secret).StartsWith('0')) Clock.Advance(TimeSpan.FromSeconds(30));
        await (await Send(s, HttpMethod.Post, submit, token, new JsonObject { ["method"] = "totp", ["totp_code"] = int.Parse(Code(secret), CultureInfo.InvariantCulture) })).Json(HttpStatusCode.OK);

        // Settings: totp_unlink is a Go bool; a value ParseBool refuses is a decode error and the app stays.
        var settings = await SettingsFlow(s, tokenA);
        var url = $"/self-service/settings?flow={settings["id"]}";
        var unlinkNumber = await (await Send(s, HttpMethod.Post, url, tokenA, new JsonObject { ["method"] = "totp", ["totp_unlink"] = 5 })).Error(HttpStatusCode.BadRequest);
        Assert.Equal("json: cannot unmarshal string into Go struct field updateSettingsFlowWithTotpMethod.totp_unlink of type bool", unlinkNumber["message"]!.GetValue<string>());
        var unlinkForm = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent([new("totp_unlink", "yes")]) };
        unlinkForm.Headers.Add("X-Session-Token", tokenA);
        var refusedForm = await (await s.Public.SendAsync(unlinkForm)).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4000001L], MessageIds(refusedForm));
        Assert.Equal("Unable to decode JSON payload: json: cannot unmarshal string into Go struct field updateSettingsFlowWithTotpMethod.totp_unlink of type bool",
            refusedForm["ui"]!["messages"]![0]!["text"]!.GetValue<string>());
        Assert.NotNull((await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}")).Json(HttpStatusCode.OK))["credentials"]!["totp"]);
        // The JSON string "true" is a true totp_unlink, as the form value would be (no method needed, as a form's button).
        await (await Send(s, HttpMethod.Post, url, tokenA, new JsonObject { ["totp_unlink"] = "true" })).Json(HttpStatusCode.OK);
        Assert.Null((await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}")).Json(HttpStatusCode.OK))["credentials"]!["totp"]);

        // Enrolment: a wrong totp_code sent as a number is a wrong code (4000008), not a type error.
        var (_, newToken, _) = await RegisterApi(s);
        var enrol = await SettingsFlow(s, newToken);
        var codeNumber = await (await Send(s, HttpMethod.Post, $"/self-service/settings?flow={enrol["id"]}", newToken, new JsonObject { ["method"] = "totp", ["totp_code"] = 123456 })).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4000008L], MessageIds(codeNumber, "totp_code"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Admin_deletes_the_totp_credential_and_wrong_codes_are_limited_per_identity(string db)
    {
        var s = await fixture.Get(db);
        var (email, secret, _, id) = await EnrolledUser(s);
        var token = (await PasswordLogin(s, email))["session_token"]!.GetValue<string>();
        var flow = await (await Send(s, HttpMethod.Get, "/self-service/login/api?aal=aal2", token)).Json(HttpStatusCode.OK);
        var submit = $"/self-service/login?flow={flow["id"]}";
        var limit = s.Options.Gatehouse.RateLimits.SecondFactorPerIdentity.Limit;
        var wrong = Code(secret, stepsAhead: 9);
        for (var i = 0; i < limit; i++)
            Assert.Contains(4000008L, MessageIds(await (await Send(s, HttpMethod.Post, submit, token, new JsonObject { ["method"] = "totp", ["totp_code"] = wrong })).Json(HttpStatusCode.BadRequest)));
        var limited = await (await Send(s, HttpMethod.Post, submit, token, new JsonObject { ["method"] = "totp", ["totp_code"] = Code(secret) })).Error(HttpStatusCode.TooManyRequests);
        Assert.Equal("second_factor_per_identity", limited["details"]!["limit"]!.GetValue<string>());
        Assert.Equal(4290008, limited["details"]!["message"]!["id"]!.GetValue<long>());

        await (await s.AdminWithKey.DeleteAsync($"/admin/identities/{id}/credentials/totp")).Json(HttpStatusCode.NoContent);
        Assert.Null((await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}")).Json(HttpStatusCode.OK))["credentials"]!["totp"]);
        await (await Send(s, HttpMethod.Get, "/sessions/whoami", token)).Json(HttpStatusCode.OK);
        await (await s.AdminWithKey.DeleteAsync($"/admin/identities/{id}/credentials/totp")).Error(HttpStatusCode.NotFound);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task With_required_aal_aal1_whoami_and_settings_accept_an_aal1_session(string db)
    {
        var s = await fixture.Get(db, "aal1", o =>
        {
            o.Session.Whoami.RequiredAal = "aal1";
            o.Selfservice.Flows.Settings.RequiredAal = "aal1";
        });
        var (email, _, _, _) = await EnrolledUser(s);
        var login = await PasswordLogin(s, email);
        var token = login["session_token"]!.GetValue<string>();
        Assert.NotNull(login["session"]!["identity"]);
        Assert.Equal("aal1", (await (await Send(s, HttpMethod.Get, "/sessions/whoami", token)).Json(HttpStatusCode.OK))["authenticator_assurance_level"]!.GetValue<string>());
        await SettingsFlow(s, token);
    }

    /// <summary>
    /// The totp nodes of a browser settings flow (before and after enrolment) and of an aal2 browser login equal Kratos's
    /// snapshots (<c>shared/reference/kratos/methods/snapshots/totp</c>), with the volatile values stripped as there.
    /// </summary>
    [Fact]
    public async Task Totp_nodes_match_kratos_snapshots()
    {
        static JsonArray Snapshot(string name) =>
            JsonNode.Parse(File.ReadAllText(Gatehouse.Tests.Schemas.ReferenceData.PathOrSkip("kratos", "methods", "snapshots", "totp", name)))!.AsArray();
        static JsonArray Ours(JsonNode flow)
        {
            var nodes = new JsonArray();
            foreach (var n in flow["ui"]!["nodes"]!.AsArray().Where(n => n!["group"]!.GetValue<string>() == "totp" || n["attributes"]!["name"]?.GetValue<string>() == "csrf_token"))
            {
                var copy = n!.DeepClone().AsObject();
                var a = copy["attributes"]!.AsObject();
                if (a["name"]?.GetValue<string>() == "csrf_token") a.Remove("value");
                a.Remove("src");
                if (a["text"] is JsonObject text)
                {
                    text.Remove("text");
                    text["context"] = new JsonObject();
                }
                nodes.Add(copy);
            }
            return nodes;
        }

        var s = await fixture.Get(Db.Sqlite);
        using var browser = new Browser(s.PublicUrl);
        var email = HttpAssertions.UniqueEmail("snap");
        var reg = await StartBrowserFlow(browser, "registration");
        await browser.PostForm($"/self-service/registration?flow={reg["id"]}",
            [new("csrf_token", Csrf(reg)), new("method", "password"), new("traits.email", email), new("password", GoodPassword)]);
        var settings = await StartBrowserFlow(browser, "settings");
        Assert.True(JsonNode.DeepEquals(Snapshot("TestCompleteSettings-case=device_setup_is_available_when_identity_has_no_totp_yet.json"), Ours(settings)), Ours(settings).ToJsonString());

        var saved = await browser.PostForm($"/self-service/settings?flow={settings["id"]}",
            [new("csrf_token", Csrf(settings)), new("method", "totp"), new("totp_code", Code(Secret(settings)))]);
        Assert.Equal(HttpStatusCode.SeeOther, saved.StatusCode);
        var after = await StartBrowserFlow(browser, "settings");
        Assert.True(JsonNode.DeepEquals(Snapshot("TestCompleteSettings-case=device_unlinking_is_available_when_identity_has_totp.json"), Ours(after)), Ours(after).ToJsonString());
        Clock.Advance(TimeSpan.FromSeconds(30));

        using var second = new Browser(s.PublicUrl);
        var login = await StartBrowserFlow(second, "login");
        await second.PostForm($"/self-service/login?flow={login["id"]}",
            [new("csrf_token", Csrf(login)), new("method", "password"), new("identifier", email), new("password", GoodPassword)]);
        var aal2 = await StartBrowserFlow(second, "login", "?aal=aal2");
        Assert.True(JsonNode.DeepEquals(Snapshot("TestFormHydration-method=PopulateLoginMethodSecondFactor.json"), Ours(aal2)), Ours(aal2).ToJsonString());
    }

    private static async Task<JsonNode> StartBrowserFlow(Browser browser, string kind, string query = "")
    {
        var init = await browser.Client.GetAsync($"/self-service/{kind}/browser{query}");
        Assert.Equal(HttpStatusCode.SeeOther, init.StatusCode);
        var location = init.Headers.Location!.ToString();
        var id = location[(location.IndexOf("flow=", StringComparison.Ordinal) + 5)..];
        return await (await browser.Client.GetAsync($"/self-service/{kind}/flows?id={id}")).Json(HttpStatusCode.OK);
    }
}
