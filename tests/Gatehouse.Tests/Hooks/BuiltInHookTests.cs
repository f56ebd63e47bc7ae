using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Persistence;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Gatehouse.Tests.Hooks.HookFixture;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.Hooks;

public sealed class BuiltInHookTests(HookFixture fixture) : IClassFixture<HookFixture>
{
    private Task<TestServer> LoginHooksServer(string db) => fixture.Get(db, "login-builtins", (o, _) =>
        o.Selfservice.Flows.Login.After.Hooks = [Hook("require_verified_address"), Hook("revoke_active_sessions")]);

    /// <summary>An identity created through the admin API whose address is already verified.</summary>
    private static async Task<string> VerifiedIdentity(TestServer s)
    {
        var email = HttpAssertions.UniqueEmail("verified");
        await (await s.AdminWithKey.PostJson("/admin/identities", new JsonObject
        {
            ["schema_id"] = "default",
            ["traits"] = new JsonObject { ["email"] = email },
            ["credentials"] = new JsonObject { ["password"] = new JsonObject { ["config"] = new JsonObject { ["password"] = GoodPassword } } },
            ["verifiable_addresses"] = new JsonArray(new JsonObject { ["value"] = email, ["via"] = "email", ["verified"] = true, ["status"] = "completed" }),
        })).Json(HttpStatusCode.Created);
        return email;
    }

    private static async Task<HttpResponseMessage> Login(TestServer s, string email)
    {
        var flow = await ApiFlow(s.Public, "login");
        return await s.Public.PostJson($"/self-service/login?flow={flow["id"]}",
            new JsonObject { ["method"] = "password", ["identifier"] = email, ["password"] = GoodPassword });
    }

    private static async Task<HttpStatusCode> Whoami(TestServer s, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/sessions/whoami");
        request.Headers.Add("X-Session-Token", token);
        return (await s.Public.SendAsync(request)).StatusCode;
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Session_hook_signs_the_new_identity_in_and_require_verified_address_refuses_unverified_logins(string db)
    {
        // Verification is off on this server: no flow can be started, so the refusal is Kratos's plain error.
        var s = await LoginHooksServer(db);
        var (email, token, _) = await RegisterApi(s);
        Assert.Equal(HttpStatusCode.OK, await Whoami(s, token));

        var refused = await (await Login(s, email)).Error(HttpStatusCode.BadRequest);
        Assert.Equal("session_verified_address_required", refused["id"]!.GetValue<string>());
        Assert.Equal("your email or phone address is not yet verified", refused["message"]!.GetValue<string>());
        // The refused login created no session, and revoke_active_sessions did not run: the registration's session lives on.
        Assert.Equal(HttpStatusCode.OK, await Whoami(s, token));
        Assert.Equal(1, await SessionCount(s, email));

        var verified = await VerifiedIdentity(s);
        var ok = await (await Login(s, verified)).Json(HttpStatusCode.OK);
        Assert.StartsWith("ory_st_", ok["session_token"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Require_verified_address_starts_and_mails_a_verification_flow_403_for_api_clients_303_for_browsers(string db)
    {
        var s = await fixture.Get(db, "require-verified", (o, _) =>
        {
            o.Selfservice.Flows.Verification.Enabled = true;
            o.Selfservice.Flows.Login.After.Hooks = [Hook("require_verified_address")];
        });
        var (email, _, _) = await RegisterApi(s);
        var mailsBefore = await MailCount(s, email);

        // API client: 403 with the herodot body Kratos writes (code 400) and the verification flow in continue_with.
        var response = await Login(s, email);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync<JsonObject>())!["error"]!.AsObject();
        Assert.Equal("session_verified_address_required", error["id"]!.GetValue<string>());
        Assert.Equal(400, error["code"]!.GetValue<int>());
        Assert.Equal("Your account's email or phone address are not verified yet. Please check your email or phone inbox or re-request verification.", error["reason"]!.GetValue<string>());
        var continueWith = Assert.Single(error["details"]!["continue_with"]!.AsArray())!;
        Assert.Equal("show_verification_ui", continueWith["action"]!.GetValue<string>());
        Assert.Equal(email, continueWith["flow"]!["verifiable_address"]!.GetValue<string>());
        var flowId = continueWith["flow"]!["id"]!.GetValue<string>();
        Assert.Equal($"{s.PublicUrl}/ui/verification?flow={flowId}", continueWith["flow"]!["url"]!.GetValue<string>());
        var verification = await (await s.Public.GetAsync($"/self-service/verification/flows?id={flowId}")).Json(HttpStatusCode.OK);
        Assert.Equal("sent_email", verification["state"]!.GetValue<string>());
        Assert.Equal("api", verification["type"]!.GetValue<string>());
        Assert.Equal(email, Node(verification, "email")!["attributes"]!["value"]!.GetValue<string>());
        Assert.Equal(mailsBefore + 1, await MailCount(s, email));
        Assert.Equal(1, await SessionCount(s, email)); // only the registration's

        // HTML browser: 303 to the verification page of a new browser flow; no session cookie.
        using var browser = new Browser(s.PublicUrl);
        var location = (await browser.Client.GetAsync("/self-service/login/browser")).Headers.Location!.ToString();
        var flow = await (await browser.Client.GetAsync($"/self-service/login/flows?id={location[(location.IndexOf("flow=", StringComparison.Ordinal) + 5)..]}")).Json(HttpStatusCode.OK);
        var done = await browser.PostForm($"/self-service/login?flow={flow["id"]}",
            [new("csrf_token", Csrf(flow)), new("method", "password"), new("identifier", email), new("password", GoodPassword)]);
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        var target = done.Headers.Location!.ToString();
        Assert.StartsWith($"{s.PublicUrl}/ui/verification?flow=", target);
        Assert.NotEqual(flowId, target[(target.IndexOf("flow=", StringComparison.Ordinal) + 5)..]);
        Assert.Null(browser.Cookie("ory_kratos_session"));
        Assert.Equal(mailsBefore + 2, await MailCount(s, email));
        Assert.Equal(1, await SessionCount(s, email));

        // Once verified, the same login goes through.
        var verified = await VerifiedIdentity(s);
        Assert.StartsWith("ory_st_", (await (await Login(s, verified)).Json(HttpStatusCode.OK))["session_token"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Require_verified_address_with_the_legacy_flag_answers_the_flow_with_4000010(string db)
    {
        var s = await fixture.Get(db, "require-verified-legacy", (o, _) =>
        {
            o.Selfservice.Flows.Verification.Enabled = true;
            o.FeatureFlags.LegacyRequireVerifiedLoginError = true;
            o.Selfservice.Flows.Login.After.Hooks = [Hook("require_verified_address")];
        });
        var (email, _, _) = await RegisterApi(s);
        var mailsBefore = await MailCount(s, email);
        var refused = await (await Login(s, email)).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4000010L], MessageIds(refused));
        Assert.Equal(email, Node(refused, "identifier")!["attributes"]!["value"]!.GetValue<string>());
        Assert.Equal(mailsBefore, await MailCount(s, email));
        Assert.Equal(1, await SessionCount(s, email));
    }

    private static async Task<int> SessionCount(TestServer s, string email)
    {
        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        var identityId = await db.VerifiableAddresses.Where(a => a.Value == email).Select(a => a.IdentityId).SingleAsync();
        return await db.Sessions.CountAsync(x => x.IdentityId == identityId);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Revoke_active_sessions_after_login_ends_the_identitys_other_sessions(string db)
    {
        var s = await LoginHooksServer(db);
        var email = await VerifiedIdentity(s);
        var first = (await (await Login(s, email)).Json(HttpStatusCode.OK))["session_token"]!.GetValue<string>();
        var other = await VerifiedIdentity(s);
        var unrelated = (await (await Login(s, other)).Json(HttpStatusCode.OK))["session_token"]!.GetValue<string>();
        var second = (await (await Login(s, email)).Json(HttpStatusCode.OK))["session_token"]!.GetValue<string>();

        Assert.Equal(HttpStatusCode.Unauthorized, await Whoami(s, first));
        Assert.Equal(HttpStatusCode.OK, await Whoami(s, second));
        Assert.Equal(HttpStatusCode.OK, await Whoami(s, unrelated));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Show_verification_ui_sends_html_browsers_to_the_verification_flow(string db)
    {
        var s = await fixture.Get(db, "show-verification", (o, _) =>
        {
            o.Selfservice.Flows.Verification.Enabled = true;
            o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions { Hooks = [Hook("session"), Hook("show_verification_ui")] };
            o.Selfservice.Flows.Settings.After.Profile = new FlowAfterMethodOptions { Hooks = [Hook("show_verification_ui")] };
        });
        using var browser = new Browser(s.PublicUrl);
        var init = await browser.Client.GetAsync("/self-service/registration/browser");
        var location = init.Headers.Location!.ToString();
        var flow = await (await browser.Client.GetAsync($"/self-service/registration/flows?id={location[(location.IndexOf("flow=", StringComparison.Ordinal) + 5)..]}")).Json(HttpStatusCode.OK);
        var done = await browser.PostForm($"/self-service/registration?flow={flow["id"]}",
            [new("csrf_token", Csrf(flow)), new("method", "password"), new("traits.email", HttpAssertions.UniqueEmail("showui")), new("password", GoodPassword)]);
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        Assert.StartsWith($"{s.PublicUrl}/ui/verification?flow=", done.Headers.Location!.ToString());
        Assert.NotNull(browser.Cookie("ory_kratos_session"));

        // A profile change that adds an address sends the browser to that address's verification flow as well.
        var settingsInit = (await browser.Client.GetAsync("/self-service/settings/browser")).Headers.Location!.ToString();
        var settings = await (await browser.Client.GetAsync($"/self-service/settings/flows?id={settingsInit[(settingsInit.IndexOf("flow=", StringComparison.Ordinal) + 5)..]}")).Json(HttpStatusCode.OK);
        var changed = await browser.PostForm($"/self-service/settings?flow={settings["id"]}",
            [new("csrf_token", Csrf(settings)), new("method", "profile"), new("traits.email", HttpAssertions.UniqueEmail("showui-changed"))]);
        Assert.Equal(HttpStatusCode.SeeOther, changed.StatusCode);
        Assert.StartsWith($"{s.PublicUrl}/ui/verification?flow=", changed.Headers.Location!.ToString());
        Assert.NotEqual(done.Headers.Location, changed.Headers.Location);

        // API clients are told about the verification flow in continue_with instead.
        var (_, _, body) = await RegisterApi(s);
        Assert.Contains(body["continue_with"]!.AsArray(), c => c!["action"]!.GetValue<string>() == "show_verification_ui");
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Without_hooks_after_the_method_registration_does_not_sign_in(string db)
    {
        var s = await fixture.Get(db, "no-session", (o, _) => o.Selfservice.Flows.Registration.After.Password = null);
        var flow = await ApiFlow(s.Public, "registration");
        var body = await (await s.Public.PostJson($"/self-service/registration?flow={flow["id"]}",
            new JsonObject { ["method"] = "password", ["password"] = GoodPassword, ["traits"] = new JsonObject { ["email"] = HttpAssertions.UniqueEmail("nosession") } })).Json(HttpStatusCode.OK);
        Assert.Null(body["session_token"]);
        Assert.Null(body["session"]);
        Assert.NotNull(body["identity"]);
    }

    internal static HttpRequestMessage WithToken(HttpMethod method, string url, string token, JsonNode? body = null)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Add("X-Session-Token", token);
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        return request;
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Settings_run_profile_web_hooks_before_saving_and_revoke_other_sessions_after_a_password_change(string db)
    {
        var s = await fixture.Get(db, "settings", (o, r) =>
        {
            r.On("/settings-profile", (req, _) =>
            {
                var email = System.Text.Json.Nodes.JsonNode.Parse(req.Body)!["email"]!.GetValue<string>();
                var answer = new JsonObject { ["identity"] = new JsonObject { ["traits"] = new JsonObject { ["email"] = email, ["name"] = new JsonObject { ["last"] = "FromHook" } } } };
                return Task.FromResult((200, (string?)answer.ToJsonString()));
            });
            o.Selfservice.Flows.Settings.After.Profile = new FlowAfterMethodOptions
            {
                Hooks = [WebHook(new JsonObject { ["url"] = r.BaseUrl + "/settings-profile", ["body"] = Base64("function(ctx) { email: ctx.identity.traits.email }"), ["response"] = new JsonObject { ["parse"] = true } })],
            };
            o.Selfservice.Flows.Settings.After.Password = new FlowAfterMethodOptions { Hooks = [Hook("revoke_active_sessions")] };
        });
        var (email, first, reg) = await RegisterApi(s);
        var second = (await (await Login(s, email)).Json(HttpStatusCode.OK))["session_token"]!.GetValue<string>();

        var flow = await (await s.Public.SendAsync(WithToken(HttpMethod.Get, "/self-service/settings/api", second))).Json(HttpStatusCode.OK);
        await (await s.Public.SendAsync(WithToken(HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}", second,
            new JsonObject { ["method"] = "profile", ["traits"] = new JsonObject { ["email"] = email, ["name"] = new JsonObject { ["first"] = "Ada" } } }))).Json(HttpStatusCode.OK);
        var stored = await (await s.AdminWithKey.GetAsync($"/admin/identities/{reg["identity"]!["id"]}")).Json(HttpStatusCode.OK);
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["email"] = email, ["name"] = new JsonObject { ["last"] = "FromHook" } }, stored["traits"]), stored["traits"]!.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, await Whoami(s, first));

        var again = await (await s.Public.SendAsync(WithToken(HttpMethod.Get, "/self-service/settings/api", second))).Json(HttpStatusCode.OK);
        await (await s.Public.SendAsync(WithToken(HttpMethod.Post, $"/self-service/settings?flow={again["id"]}", second,
            new JsonObject { ["method"] = "password", ["password"] = "another-long-passphrase-for-tests-77" }))).Json(HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.Unauthorized, await Whoami(s, first));
        Assert.Equal(HttpStatusCode.OK, await Whoami(s, second));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Recovery_runs_its_after_hooks_a_parsing_web_hook_and_revoke_active_sessions(string db)
    {
        var s = await fixture.Get(db, "recovery", (o, r) =>
        {
            o.Selfservice.Flows.Recovery.Enabled = true;
            o.Selfservice.Flows.Recovery.After.Hooks =
            [
                // Kratos's request builder needs a body template for every method but TRACE.
                WebHook(new JsonObject { ["url"] = r.On("/recovered", 200, """{"identity":{"metadata_public":{"recovered":true}}}"""), ["body"] = Base64("function(ctx) { id: ctx.identity.id }"), ["response"] = new JsonObject { ["parse"] = true } }),
                Hook("revoke_active_sessions"),
            ];
        });
        var (_, before, reg) = await RegisterApi(s);
        var id = reg["identity"]!["id"]!.GetValue<string>();
        var created = await (await s.AdminWithKey.PostJson("/admin/recovery/code", new JsonObject { ["identity_id"] = id, ["flow_type"] = "api" })).Json(HttpStatusCode.Created);
        var link = created["recovery_link"]!.GetValue<string>();
        var flowId = link[(link.IndexOf("flow=", StringComparison.Ordinal) + 5)..];
        // Kratos's default answer to a JSON recovery submit, API flows too: 422 naming the settings UI (no token handed over).
        var done = await (await s.Public.PostJson($"/self-service/recovery?flow={flowId}", new JsonObject { ["method"] = "code", ["code"] = created["recovery_code"]!.GetValue<string>() })).Error(HttpStatusCode.UnprocessableEntity);
        Assert.Equal("browser_location_change_required", done["id"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.Unauthorized, await Whoami(s, before));
        // The recovery's own session is the one left.
        var sessions = (await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}/sessions?active=true")).Json(HttpStatusCode.OK)).AsArray();
        Assert.Equal("code_recovery", Assert.Single(sessions)!["authentication_methods"]![0]!["method"]!.GetValue<string>());
        var stored = await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}")).Json(HttpStatusCode.OK);
        Assert.True(stored["metadata_public"]!["recovered"]!.GetValue<bool>());
    }
}
