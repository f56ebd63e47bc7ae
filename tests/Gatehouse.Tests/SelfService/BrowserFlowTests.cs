using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

public sealed class BrowserFlowTests(FlowServerFixture fixture) : IClassFixture<FlowServerFixture>
{
    private static async Task<JsonNode> StartFlow(Browser browser, string kind, string query = "")
    {
        var init = await browser.Client.GetAsync($"/self-service/{kind}/browser{query}");
        Assert.Equal(HttpStatusCode.SeeOther, init.StatusCode);
        var location = init.Headers.Location!.ToString();
        Assert.Contains($"/ui/{kind}?flow=", location);
        var id = location[(location.IndexOf("flow=", StringComparison.Ordinal) + 5)..];
        return await (await browser.Client.GetAsync($"/self-service/{kind}/flows?id={id}")).Json(HttpStatusCode.OK);
    }

    private static async Task<string> Register(TestServer s, Browser browser)
    {
        var email = HttpAssertions.UniqueEmail("browser");
        var flow = await StartFlow(browser, "registration");
        var done = await browser.PostForm($"/self-service/registration?flow={flow["id"]}",
        [
            new("csrf_token", Csrf(flow)), new("method", "password"), new("traits.email", email), new("password", GoodPassword),
        ]);
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        return email;
    }

    /// <summary>
    /// Kratos's browser init routes answer a new flow through x.SendFlowCompletedAsRedirectOrJSON, i.e. by Accept alone
    /// (x.AcceptsJSON): a GET that carries a JSON Content-Type but no Accept is sent 303 to the UI; Accept: application/json
    /// gets the flow.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Browser_init_routes_answer_by_accept_alone(string db)
    {
        var s = await fixture.Get(db);
        using var browser = new Browser(s.PublicUrl);
        await Register(s, browser);
        browser.Client.DefaultRequestHeaders.Accept.Clear();
        using var fresh = new Browser(s.PublicUrl);
        foreach (var (kind, cookies) in new[] { ("login", fresh), ("registration", fresh), ("settings", browser) })
        {
            using var withJsonType = new HttpRequestMessage(HttpMethod.Get, $"/self-service/{kind}/browser") { Content = new StringContent("", System.Text.Encoding.UTF8, "application/json") };
            cookies.Client.DefaultRequestHeaders.Accept.Clear();
            var started = await cookies.Client.SendAsync(withJsonType);
            Assert.Equal(HttpStatusCode.SeeOther, started.StatusCode);
            Assert.Contains($"/ui/{kind}?flow=", started.Headers.Location!.ToString(), StringComparison.Ordinal);

            using var asking = new HttpRequestMessage(HttpMethod.Get, $"/self-service/{kind}/browser");
            asking.Headers.Accept.ParseAdd("application/json");
            Assert.Equal(kind, (await (await cookies.Client.SendAsync(asking)).Json(HttpStatusCode.OK))["ui"]!["action"]!.GetValue<string>().Split('/')[^1].Split('?')[0]);
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Browser_registration_and_login_use_csrf_cookies_and_redirects(string db)
    {
        var s = await fixture.Get(db);
        using var browser = new Browser(s.PublicUrl);
        var flow = await StartFlow(browser, "registration");
        Assert.Equal("browser", flow["type"]!.GetValue<string>());
        var csrfCookie = browser.Cookies.GetAllCookies().Single(c => c.Name.StartsWith("csrf_token_", StringComparison.Ordinal));
        Assert.True(csrfCookie.HttpOnly);
        Assert.Equal(csrfCookie.Value, Csrf(flow));

        var email = HttpAssertions.UniqueEmail("browser");
        var done = await browser.PostForm($"/self-service/registration?flow={flow["id"]}",
            [new("csrf_token", Csrf(flow)), new("method", "password"), new("traits.email", email), new("password", GoodPassword)]);
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        Assert.Equal("http://app.example.com/welcome", done.Headers.Location!.ToString());
        var session = browser.Cookie("ory_kratos_session");
        Assert.NotNull(session);
        Assert.True(session!.HttpOnly);
        var whoami = await (await browser.Client.GetAsync("/sessions/whoami")).Json(HttpStatusCode.OK);
        Assert.Equal(email.ToLowerInvariant(), whoami["identity"]!["traits"]!["email"]!.GetValue<string>().ToLowerInvariant());

        // Logged in: starting a login redirects to the return URL instead of making a flow.
        var again = await browser.Client.GetAsync("/self-service/login/browser");
        Assert.Equal(HttpStatusCode.SeeOther, again.StatusCode);
        Assert.Equal("http://app.example.com/welcome", again.Headers.Location!.ToString());

        using var other = new Browser(s.PublicUrl);
        var login = await StartFlow(other, "login", "?return_to=http://app.example.com/after");
        var ok = await other.PostForm($"/self-service/login?flow={login["id"]}",
            [new("csrf_token", Csrf(login)), new("method", "password"), new("identifier", email), new("password", GoodPassword)]);
        Assert.Equal(HttpStatusCode.SeeOther, ok.StatusCode);
        Assert.Equal("http://app.example.com/after", ok.Headers.Location!.ToString());
        Assert.NotNull(other.Cookie("ory_kratos_session"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_login_flow_submitted_after_signing_in_elsewhere_is_refused_and_keeps_the_session(string db)
    {
        var s = await fixture.Get(db);
        using var browser = new Browser(s.PublicUrl);
        // Flows started before the browser signs in (another tab), then submitted with another account's credentials.
        var spaFlow = await StartFlow(browser, "login");
        var htmlFlow = await StartFlow(browser, "login");
        var returningFlow = await StartFlow(browser, "login", "?return_to=http://app.example.com/after");
        await Register(s, browser);
        var before = await (await browser.Client.GetAsync("/sessions/whoami")).Json(HttpStatusCode.OK);
        using var elsewhere = new Browser(s.PublicUrl);
        var other = await Register(s, elsewhere);

        var spa = await (await browser.Client.PostJson($"/self-service/login?flow={spaFlow["id"]}",
            new JsonObject { ["csrf_token"] = Csrf(spaFlow), ["method"] = "password", ["identifier"] = other, ["password"] = GoodPassword })).Json(HttpStatusCode.BadRequest);
        Assert.Equal(spaFlow["id"]!.GetValue<string>(), spa["id"]!.GetValue<string>());
        Assert.Equal([4000001L], MessageIds(spa));
        // Signing in gave the browser a new anti-CSRF token (Kratos's IssueCookie regenerates it), so the flows it opened
        // before are no longer its own to fetch (getLoginFlow's CSRF check).
        var stale = await (await browser.Client.GetAsync($"/self-service/login/flows?id={spaFlow["id"]}")).Error(HttpStatusCode.Forbidden);
        Assert.Equal("security_csrf_violation", stale["id"]!.GetValue<string>());

        // HTML browsers go to selfservice.default_browser_return_url; as in Kratos's submit, not to the flow's return_to.
        foreach (var flow in new[] { htmlFlow, returningFlow })
        {
            var html = await browser.PostForm($"/self-service/login?flow={flow["id"]}",
                [new("csrf_token", Csrf(flow)), new("method", "password"), new("identifier", other), new("password", GoodPassword)]);
            Assert.Equal(HttpStatusCode.SeeOther, html.StatusCode);
            Assert.Equal("http://app.example.com/welcome", html.Headers.Location!.ToString());
            Assert.False(html.Headers.Contains("Set-Cookie") && html.Headers.GetValues("Set-Cookie").Any(c => c.StartsWith("ory_kratos_session=", StringComparison.Ordinal)));
        }
        var after = await (await browser.Client.GetAsync("/sessions/whoami")).Json(HttpStatusCode.OK);
        Assert.Equal(before["id"]!.GetValue<string>(), after["id"]!.GetValue<string>());
        Assert.Equal(before["identity"]!["id"]!.GetValue<string>(), after["identity"]!["id"]!.GetValue<string>());
        Assert.Single(after["authentication_methods"]!.AsArray());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Missing_or_wrong_csrf_tokens_are_403_and_change_nothing(string db)
    {
        var s = await fixture.Get(db);
        using var browser = new Browser(s.PublicUrl);
        var flow = await StartFlow(browser, "registration");
        var email = HttpAssertions.UniqueEmail("csrf");
        var missing = await browser.PostForm($"/self-service/registration?flow={flow["id"]}",
            [new("method", "password"), new("traits.email", email), new("password", GoodPassword)]);
        // An HTML form post is forwarded to the error UI (a person is looking), which names the error.
        Assert.Equal(HttpStatusCode.SeeOther, missing.StatusCode);
        Assert.StartsWith($"{s.PublicUrl}/ui/error?id=", missing.Headers.Location!.ToString(), StringComparison.Ordinal);
        var page = await browser.Client.GetAsync(missing.Headers.Location);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("security_csrf_violation", await page.Content.ReadAsStringAsync());
        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        var wrong = await spa.Client.PostJson($"/self-service/registration?flow={flow["id"]}",
            new JsonObject { ["csrf_token"] = "x" + Csrf(flow), ["method"] = "password", ["traits"] = new JsonObject { ["email"] = email }, ["password"] = GoodPassword });
        var error = await wrong.Error(HttpStatusCode.Forbidden);
        Assert.Equal("security_csrf_violation", error["id"]!.GetValue<string>());

        // Another browser (no CSRF cookie) can neither read nor submit the flow.
        using var attacker = new Browser(s.PublicUrl);
        await (await attacker.Client.GetAsync($"/self-service/registration/flows?id={flow["id"]}")).Error(HttpStatusCode.Forbidden);
        var forged = await attacker.PostForm($"/self-service/registration?flow={flow["id"]}",
            [new("csrf_token", Csrf(flow)), new("method", "password"), new("traits.email", email), new("password", GoodPassword)]);
        Assert.Equal(HttpStatusCode.SeeOther, forged.StatusCode);
        Assert.StartsWith($"{s.PublicUrl}/ui/error?id=", forged.Headers.Location!.ToString(), StringComparison.Ordinal);

        var list = await (await s.AdminWithKey.GetAsync($"/admin/identities?credentials_identifier={email}")).Json(HttpStatusCode.OK);
        Assert.Empty(list.AsArray());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Html_validation_errors_redirect_back_to_the_ui_with_messages_on_the_flow(string db)
    {
        var s = await fixture.Get(db);
        using var browser = new Browser(s.PublicUrl);
        var flow = await StartFlow(browser, "login");
        var failed = await browser.PostForm($"/self-service/login?flow={flow["id"]}",
            [new("csrf_token", Csrf(flow)), new("method", "password"), new("identifier", "nobody@example.com"), new("password", "whatever-it-is")]);
        Assert.Equal(HttpStatusCode.SeeOther, failed.StatusCode);
        Assert.EndsWith($"/ui/login?flow={flow["id"]}", failed.Headers.Location!.ToString());
        var reloaded = await (await browser.Client.GetAsync($"/self-service/login/flows?id={flow["id"]}")).Json(HttpStatusCode.OK);
        Assert.Contains(4000006L, MessageIds(reloaded));
        Assert.Equal("password", reloaded["active"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Spa_clients_get_json_flows_and_a_redirect_target(string db)
    {
        var s = await fixture.Get(db);
        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        var flow = await (await spa.Client.GetAsync("/self-service/registration/browser")).Json(HttpStatusCode.OK);
        var email = HttpAssertions.UniqueEmail("spa");
        var body = await (await spa.Client.PostJson($"/self-service/registration?flow={flow["id"]}",
            new JsonObject { ["csrf_token"] = Csrf(flow), ["method"] = "password", ["password"] = GoodPassword, ["traits"] = new JsonObject { ["email"] = email } })).Json(HttpStatusCode.OK);
        Assert.Null(body["session_token"]);
        Assert.NotNull(body["session"]);
        Assert.Equal("redirect_browser_to", body["continue_with"]![0]!["action"]!.GetValue<string>());
        Assert.NotNull(spa.Cookie("ory_kratos_session"));
        var already = await (await spa.Client.GetAsync("/self-service/login/browser")).Error(HttpStatusCode.BadRequest);
        Assert.Equal("session_already_available", already["id"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Return_to_outside_the_allow_list_is_refused(string db)
    {
        var s = await fixture.Get(db);
        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        var error = await (await spa.Client.GetAsync("/self-service/login/browser?return_to=https://evil.example.net/")).Error(HttpStatusCode.BadRequest);
        Assert.Equal("self_service_flow_return_to_forbidden", error["id"]!.GetValue<string>());
        await (await spa.Client.GetAsync("/self-service/registration/browser?return_to=https://evil.example.net/")).Error(HttpStatusCode.BadRequest);
        // A browser navigation is sent to the error UI instead, never to the refused URL.
        using var browser = new Browser(s.PublicUrl);
        foreach (var kind in new[] { "login", "registration" })
        {
            var forwarded = await browser.Client.GetAsync($"/self-service/{kind}/browser?return_to=https://evil.example.net/");
            Assert.Equal(HttpStatusCode.SeeOther, forwarded.StatusCode);
            Assert.StartsWith($"{s.PublicUrl}/ui/error?id=", forwarded.Headers.Location!.ToString(), StringComparison.Ordinal);
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Return_to_with_a_scheme_but_no_authority_is_refused_on_every_flow_not_a_500(string db)
    {
        var s = await fixture.Get(db, "recovery-verification", o =>
        {
            o.Selfservice.Flows.Recovery.Enabled = true;
            o.Selfservice.Flows.Verification.Enabled = true;
        });
        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        var registered = await (await spa.Client.GetAsync("/self-service/registration/api")).Json(HttpStatusCode.OK);
        var token = (await (await spa.Client.PostJson($"/self-service/registration?flow={registered["id"]}",
            new JsonObject { ["method"] = "password", ["password"] = GoodPassword, ["traits"] = new JsonObject { ["email"] = HttpAssertions.UniqueEmail("schemeonly") } }))
            .Json(HttpStatusCode.OK))["session_token"]!.GetValue<string>();
        foreach (var returnTo in new[] { "https:app.example.com", "https:/app.example.com/", "https:", "http:/welcome" })
        {
            var q = "?return_to=" + Uri.EscapeDataString(returnTo);
            var urls = new List<string>();
            foreach (var kind in new[] { "login", "registration", "recovery", "verification" })
            {
                urls.Add($"/self-service/{kind}/browser{q}");
                urls.Add($"/self-service/{kind}/api{q}");
            }
            urls.Add($"/self-service/logout?token=any&return_to={Uri.EscapeDataString(returnTo)}");
            foreach (var url in urls)
            {
                var error = await (await spa.Client.GetAsync(url)).Error(HttpStatusCode.BadRequest);
                Assert.Equal("self_service_flow_return_to_forbidden", error["id"]!.GetValue<string>());
            }
            using var settings = new HttpRequestMessage(HttpMethod.Get, $"/self-service/settings/api{q}");
            settings.Headers.Add("X-Session-Token", token);
            var refused = await (await spa.Client.SendAsync(settings)).Error(HttpStatusCode.BadRequest);
            Assert.Equal("self_service_flow_return_to_forbidden", refused["id"]!.GetValue<string>());
        }
        // A browser navigation goes to the error UI, as for any refused return_to.
        using var browser = new Browser(s.PublicUrl);
        var forwarded = await browser.Client.GetAsync("/self-service/login/browser?return_to=https:app.example.com");
        Assert.Equal(HttpStatusCode.SeeOther, forwarded.StatusCode);
        Assert.StartsWith($"{s.PublicUrl}/ui/error?id=", forwarded.Headers.Location!.ToString(), StringComparison.Ordinal);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Refresh_login_reauthenticates_the_same_session(string db)
    {
        var s = await fixture.Get(db);
        using var browser = new Browser(s.PublicUrl);
        var email = await Register(s, browser);
        var before = await (await browser.Client.GetAsync("/sessions/whoami")).Json(HttpStatusCode.OK);
        var flow = await StartFlow(browser, "login", "?refresh=true");
        Assert.True(flow["refresh"]!.GetValue<bool>());
        Assert.Equal(email.ToLowerInvariant(), Node(flow, "identifier")!["attributes"]!["value"]!.GetValue<string>());
        var done = await browser.PostForm($"/self-service/login?flow={flow["id"]}",
            [new("csrf_token", Csrf(flow)), new("method", "password"), new("identifier", email), new("password", GoodPassword)]);
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        var after = await (await browser.Client.GetAsync("/sessions/whoami")).Json(HttpStatusCode.OK);
        Assert.Equal(before["id"]!.GetValue<string>(), after["id"]!.GetValue<string>());
        Assert.Equal(2, after["authentication_methods"]!.AsArray().Count);
    }
}
