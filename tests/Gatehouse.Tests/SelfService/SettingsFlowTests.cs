using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

public sealed class SettingsFlowTests(FlowServerFixture fixture) : IClassFixture<FlowServerFixture>
{
    private static HttpRequestMessage WithToken(HttpMethod method, string url, string token, JsonNode? body = null)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Add("X-Session-Token", token);
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        return request;
    }

    private static async Task<JsonNode> SettingsFlow(TestServer s, string token) =>
        await (await s.Public.SendAsync(WithToken(HttpMethod.Get, "/self-service/settings/api", token))).Json(HttpStatusCode.OK);

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Profile_update_validates_traits_and_saves_them(string db)
    {
        var s = await fixture.Get(db);
        var (email, token, reg) = await RegisterApi(s);
        var id = reg["identity"]!["id"]!.GetValue<string>();
        var flow = await SettingsFlow(s, token);
        Assert.Equal("show_form", flow["state"]!.GetValue<string>());
        Assert.Equal(id, flow["identity"]!["id"]!.GetValue<string>());
        Assert.Equal("profile", Node(flow, "traits.email")!["group"]!.GetValue<string>());
        Assert.Equal(email, Node(flow, "traits.email")!["attributes"]!["value"]!.GetValue<string>());

        var before = await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}")).Json(HttpStatusCode.OK);
        var invalid = await (await s.Public.SendAsync(WithToken(HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}", token,
            new JsonObject { ["method"] = "profile", ["traits"] = new JsonObject { ["email"] = "nope" } }))).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4000040L, MessageIds(invalid, "traits.email"));
        Assert.Equal(before.ToJsonString(), (await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}")).Json(HttpStatusCode.OK)).ToJsonString());

        var saved = await (await s.Public.SendAsync(WithToken(HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}", token,
            new JsonObject { ["method"] = "profile", ["traits"] = new JsonObject { ["email"] = email, ["name"] = new JsonObject { ["first"] = "Ada" } } }))).Json(HttpStatusCode.OK);
        Assert.Equal("success", saved["state"]!.GetValue<string>());
        Assert.Contains(1050001L, MessageIds(saved));
        var after = await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}")).Json(HttpStatusCode.OK);
        Assert.Equal("Ada", after["traits"]!["name"]!["first"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Changing_the_email_makes_the_new_address_unverified(string db)
    {
        var s = await fixture.Get(db);
        var (_, token, reg) = await RegisterApi(s);
        var id = reg["identity"]!["id"]!.GetValue<string>();
        var flow = await SettingsFlow(s, token);
        var next = HttpAssertions.UniqueEmail("changed");
        await (await s.Public.SendAsync(WithToken(HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}", token,
            new JsonObject { ["method"] = "profile", ["traits"] = new JsonObject { ["email"] = next } }))).Json(HttpStatusCode.OK);
        var identity = await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}?include_credential=password")).Json(HttpStatusCode.OK);
        var address = Assert.Single(identity["verifiable_addresses"]!.AsArray())!;
        Assert.Equal(next.ToLowerInvariant(), address["value"]!.GetValue<string>());
        Assert.False(address["verified"]!.GetValue<bool>());
        Assert.Equal(next.ToLowerInvariant(), identity["credentials"]!["password"]!["identifiers"]![0]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Password_change_applies_the_policy_and_the_new_password_signs_in(string db)
    {
        var s = await fixture.Get(db);
        var (email, token, _) = await RegisterApi(s);
        var flow = await SettingsFlow(s, token);
        var same = await (await s.Public.SendAsync(WithToken(HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}", token,
            new JsonObject { ["method"] = "password", ["password"] = GoodPassword }))).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4000039L, MessageIds(same, "password"));
        var weak = await (await s.Public.SendAsync(WithToken(HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}", token,
            new JsonObject { ["method"] = "password", ["password"] = "123456" }))).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4000032L, MessageIds(weak, "password"));
        const string newPassword = "a-brand-new-passphrase-77";
        var ok = await (await s.Public.SendAsync(WithToken(HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}", token,
            new JsonObject { ["method"] = "password", ["password"] = newPassword }))).Json(HttpStatusCode.OK);
        Assert.Equal("success", ok["state"]!.GetValue<string>());
        var login = await ApiFlow(s.Public, "login");
        await (await s.Public.PostJson($"/self-service/login?flow={login["id"]}",
            new JsonObject { ["method"] = "password", ["identifier"] = email, ["password"] = newPassword })).Json(HttpStatusCode.OK);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Settings_need_a_session_and_the_flow_owner(string db)
    {
        var s = await fixture.Get(db);
        var error = await (await s.Public.GetAsync("/self-service/settings/api")).Error(HttpStatusCode.Unauthorized);
        Assert.Equal("session_inactive", error["id"]!.GetValue<string>());
        using var browser = new Browser(s.PublicUrl);
        var redirect = await browser.Client.GetAsync("/self-service/settings/browser");
        Assert.Equal(HttpStatusCode.SeeOther, redirect.StatusCode);
        Assert.Equal($"{s.PublicUrl}/self-service/login/browser", redirect.Headers.Location!.ToString());

        var (_, tokenA, _) = await RegisterApi(s);
        var (_, tokenB, _) = await RegisterApi(s);
        var flowA = await SettingsFlow(s, tokenA);
        var mismatch = await (await s.Public.SendAsync(WithToken(HttpMethod.Get, $"/self-service/settings/flows?id={flowA["id"]}", tokenB))).Error(HttpStatusCode.Forbidden);
        Assert.Equal("security_identity_mismatch", mismatch["id"]!.GetValue<string>());
        await (await s.Public.SendAsync(WithToken(HttpMethod.Post, $"/self-service/settings?flow={flowA["id"]}", tokenB,
            new JsonObject { ["method"] = "password", ["password"] = "whatever-long-enough-1" }))).Error(HttpStatusCode.Forbidden);
        var unknown = await (await s.Public.SendAsync(WithToken(HttpMethod.Post, $"/self-service/settings?flow={flowA["id"]}", tokenA,
            new JsonObject { ["method"] = "teleport" }))).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4010004L, MessageIds(unknown));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Settings_init_without_a_session_answers_kratos_session_inactive_reasons(string db)
    {
        var s = await fixture.Get(db);
        var api = await (await s.Public.GetAsync("/self-service/settings/api")).Error(HttpStatusCode.Unauthorized);
        Assert.Equal("""{"id":"session_inactive","code":401,"status":"Unauthorized","reason":"This endpoint can only be accessed with a valid session. Please log in and try again.","message":"request does not have a valid authentication session"}""", api.ToJsonString());
        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        var browser = await (await spa.Client.GetAsync("/self-service/settings/browser")).Error(HttpStatusCode.Unauthorized);
        Assert.Equal("""{"id":"session_inactive","code":401,"status":"Unauthorized","reason":"No active session was found in this request.","message":"request does not have a valid authentication session"}""", browser.ToJsonString());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Settings_routes_without_a_session_answer_as_kratos_routes_do(string db)
    {
        var s = await fixture.Get(db);
        var flowId = (await SettingsFlow(s, (await RegisterApi(s)).Token))["id"]!.GetValue<string>();
        using var html = new Browser(s.PublicUrl);
        using var spa = new Browser(s.PublicUrl, acceptJson: true);

        // The browser init sends an HTML browser to the login init, carrying over its own return_to unchecked (the login checks it).
        var init = await html.Client.GetAsync("/self-service/settings/browser?return_to=https%3A%2F%2Felsewhere.example.org%2Fx");
        Assert.Equal(HttpStatusCode.SeeOther, init.StatusCode);
        Assert.Equal($"{s.PublicUrl}/self-service/login/browser?return_to=https%3A%2F%2Felsewhere.example.org%2Fx", init.Headers.Location!.ToString());
        // The API init answers the session middleware's 401 before it looks at the return_to.
        var api = await (await s.Public.GetAsync("/self-service/settings/api?return_to=https%3A%2F%2Felsewhere.example.org%2Fx")).Error(HttpStatusCode.Unauthorized);
        Assert.Equal("session_inactive", api["id"]!.GetValue<string>());

        // Fetch and submit (POST and GET): Kratos's OnUnauthenticated, before the flow is looked at — JSON clients 401
        // without an error id, others a 302 to the login UI.
        const string Unauthorized = """{"code":401,"status":"Unauthorized","reason":"A valid Ory Session Cookie or Ory Session Token is missing.","message":"The request could not be authorized"}""";
        foreach (var url in new[] { $"/self-service/settings/flows?id={flowId}", $"/self-service/settings/flows?id={Guid.NewGuid()}", "/self-service/settings/flows", $"/self-service/settings?flow={flowId}", "/self-service/settings" })
        {
            Assert.Equal(Unauthorized, (await (await spa.Client.GetAsync(url)).Error(HttpStatusCode.Unauthorized)).ToJsonString());
            var redirect = await html.Client.GetAsync(url);
            Assert.Equal(HttpStatusCode.Found, redirect.StatusCode);
            Assert.Equal($"{s.PublicUrl}/ui/login", redirect.Headers.Location!.ToString());
        }
        foreach (var url in new[] { $"/self-service/settings?flow={flowId}", $"/self-service/settings?flow={Guid.NewGuid()}" })
        {
            // An API client (JSON body, no Accept), an SPA, an HTML form.
            Assert.Equal(Unauthorized, (await (await s.Public.PostJson(url, new JsonObject { ["method"] = "password", ["password"] = "whatever-long-enough-1" })).Error(HttpStatusCode.Unauthorized)).ToJsonString());
            Assert.Equal(Unauthorized, (await (await spa.Client.PostJson(url, new JsonObject { ["method"] = "profile" })).Error(HttpStatusCode.Unauthorized)).ToJsonString());
            var form = await html.PostForm(url, [new("method", "password"), new("password", "whatever-long-enough-1")]);
            Assert.Equal(HttpStatusCode.Found, form.StatusCode);
            Assert.Equal($"{s.PublicUrl}/ui/login", form.Headers.Location!.ToString());
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Privileged_changes_need_a_recent_login(string db)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var s = await TestServer.StartAsync(db, o =>
        {
            FlowServerFixture.Configure(o);
            o.Selfservice.Flows.Settings.PrivilegedSessionMaxAge = TimeSpan.FromMinutes(15);
        }, services => services.AddSingleton<TimeProvider>(clock));
        var (_, token, _) = await RegisterApi(s);
        clock.Advance(TimeSpan.FromMinutes(15) + TimeSpan.FromSeconds(1));
        var flow = await SettingsFlow(s, token);
        var error = await (await s.Public.SendAsync(WithToken(HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}", token,
            new JsonObject { ["method"] = "password", ["password"] = "another-fine-passphrase-9" }))).Json(HttpStatusCode.Forbidden);
        Assert.Equal("session_refresh_required", error["error"]!["id"]!.GetValue<string>());
        // Kratos's reauthenticate: the login returns to the submit URL (which resumes what a browser flow paused).
        Assert.Equal($"{s.PublicUrl}/self-service/login/browser?refresh=true&return_to={Uri.EscapeDataString($"{s.PublicUrl}/self-service/settings?flow={flow["id"]}")}",
            error["redirect_browser_to"]!.GetValue<string>());
        // Non-identifier traits can still change.
        var ok = await (await s.Public.SendAsync(WithToken(HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}", token,
            new JsonObject { ["method"] = "profile", ["traits"] = new JsonObject { ["email"] = flow["identity"]!["traits"]!["email"]!.GetValue<string>(), ["name"] = new JsonObject { ["last"] = "Lovelace" } } }))).Json(HttpStatusCode.OK);
        Assert.Equal("success", ok["state"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Browser_settings_submit_needs_the_csrf_token(string db)
    {
        var s = await fixture.Get(db);
        using var browser = new Browser(s.PublicUrl, acceptJson: true);
        var reg = await (await browser.Client.GetAsync("/self-service/registration/browser")).Json(HttpStatusCode.OK);
        await (await browser.Client.PostJson($"/self-service/registration?flow={reg["id"]}",
            new JsonObject { ["csrf_token"] = Csrf(reg), ["method"] = "password", ["password"] = GoodPassword, ["traits"] = new JsonObject { ["email"] = HttpAssertions.UniqueEmail("set") } })).Json(HttpStatusCode.OK);
        var flow = await (await browser.Client.GetAsync("/self-service/settings/browser")).Json(HttpStatusCode.OK);
        var forged = await browser.Client.PostJson($"/self-service/settings?flow={flow["id"]}", new JsonObject { ["method"] = "profile", ["traits"] = new JsonObject { ["email"] = "x@example.com" } });
        await forged.Error(HttpStatusCode.Forbidden);
        var ok = await (await browser.Client.PostJson($"/self-service/settings?flow={flow["id"]}",
            new JsonObject { ["csrf_token"] = Csrf(flow), ["method"] = "profile", ["traits"] = new JsonObject { ["email"] = flow["identity"]!["traits"]!["email"]!.GetValue<string>(), ["name"] = new JsonObject { ["first"] = "B" } } })).Json(HttpStatusCode.OK);
        Assert.Equal("success", ok["state"]!.GetValue<string>());
    }
}
