using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Persistence;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

/// <summary>
/// The anti-CSRF cookie is replaced where Kratos calls <c>CSRFHandler().RegenerateToken</c>: when a session cookie is
/// issued to a browser that had no session or another identity's (session/manager_http.go <c>IssueCookie</c>), on browser
/// logout (logout/handler.go <c>completeLogout</c>), by the verification hook after a browser registration
/// (hook/verification.go), on browser recovery (code and link <c>recoveryIssueSession</c>), and for the flows that replace a
/// recovery or verification flow (<c>retryRecoveryFlow</c>, <c>retryVerificationFlowWith*</c>, the verification error
/// handler's expired flow). Flows made later in the same request carry the new token.
/// </summary>
public sealed class CsrfRotationTests(FlowServerFixture fixture) : IClassFixture<FlowServerFixture>
{
    private static Task<TestServer> Server(FlowServerFixture f, string db) => f.Get(db, "csrf-rotation", o =>
    {
        o.Selfservice.Flows.Verification.Enabled = true;
        o.Selfservice.Flows.Recovery.Enabled = true;
        // As Kratos's quickstart: without show_verification_ui no registration answer names the verification flow.
        o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions
        {
            Hooks = [new HookConfig { Hook = "session" }, new HookConfig { Hook = "show_verification_ui" }],
        };
    });

    private static int CsrfSetCookies(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var values) ? values.Count(v => v.StartsWith("csrf_token_", StringComparison.Ordinal)) : 0;

    private static async Task<JsonNode> StartFlow(Browser browser, string kind, string query = "")
    {
        var init = await browser.Client.GetAsync($"/self-service/{kind}/browser{query}");
        if (init.StatusCode == HttpStatusCode.OK) return await init.Json(HttpStatusCode.OK); // a JSON client gets the flow itself
        Assert.Equal(HttpStatusCode.SeeOther, init.StatusCode);
        var location = init.Headers.Location!.ToString();
        var id = location[(location.IndexOf("flow=", StringComparison.Ordinal) + 5)..];
        return await (await browser.Client.GetAsync($"/self-service/{kind}/flows?id={id}")).Json(HttpStatusCode.OK);
    }

    private static async Task<string> LastCode(TestServer s, string to, string field)
    {
        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        var m = await db.CourierMessages.AsNoTracking().Where(x => x.Recipient == to.ToLowerInvariant()).OrderByDescending(x => x.CreatedAt).FirstAsync();
        return JsonNode.Parse(m.TemplateData!)![field]!.GetValue<string>();
    }

    private static async Task<(string Email, HttpResponseMessage Done)> RegisterBrowser(Browser browser)
    {
        var email = HttpAssertions.UniqueEmail("csrf-rotation");
        var flow = await StartFlow(browser, "registration");
        var done = await browser.PostForm($"/self-service/registration?flow={flow["id"]}",
            [new("csrf_token", Csrf(flow)), new("method", "password"), new("traits.email", email), new("password", GoodPassword)]);
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        return (email, done);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Registration_gives_the_browser_a_new_token_and_its_verification_flow_carries_it(string db)
    {
        var s = await Server(fixture, db);
        using var browser = new Browser(s.PublicUrl, acceptJson: true);
        var flow = await StartFlow(browser, "registration");
        var before = CsrfCookie(browser);
        Assert.Equal(before, Csrf(flow));
        var email = HttpAssertions.UniqueEmail("csrf-rotation");
        var done = await browser.Client.PostJson($"/self-service/registration?flow={flow["id"]}",
            new JsonObject { ["csrf_token"] = Csrf(flow), ["method"] = "password", ["traits"] = new JsonObject { ["email"] = email }, ["password"] = GoodPassword });
        var body = await done.Json(HttpStatusCode.OK);
        // One new token, set once, although the verification hook and the session both ask for one.
        Assert.Equal(1, CsrfSetCookies(done));
        var after = CsrfCookie(browser);
        Assert.NotEqual(before, after);
        var show = body["continue_with"]!.AsArray().Single(c => c!["action"]!.GetValue<string>() == "show_verification_ui")!;
        // The browser can open the verification flow the registration started (its token is the new cookie's).
        var verification = await (await browser.Client.GetAsync($"/self-service/verification/flows?id={show["flow"]!["id"]}")).Json(HttpStatusCode.OK);
        Assert.Equal(after, Csrf(verification));
        // Flows started after it carry the new token too.
        var next = await StartFlow(browser, "settings");
        Assert.Equal(after, Csrf(next));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Login_rotates_the_token_a_refresh_of_the_same_identity_keeps_it_and_logout_rotates_it_again(string db)
    {
        var s = await Server(fixture, db);
        using var registering = new Browser(s.PublicUrl);
        var (email, _) = await RegisterBrowser(registering);

        using var browser = new Browser(s.PublicUrl);
        var login = await StartFlow(browser, "login");
        var anonymous = CsrfCookie(browser);
        var signedIn = await browser.PostForm($"/self-service/login?flow={login["id"]}",
            [new("csrf_token", Csrf(login)), new("method", "password"), new("identifier", email), new("password", GoodPassword)]);
        Assert.Equal(HttpStatusCode.SeeOther, signedIn.StatusCode);
        Assert.Equal(1, CsrfSetCookies(signedIn));
        var afterLogin = CsrfCookie(browser);
        Assert.NotEqual(anonymous, afterLogin);
        var stale = await StartFlow(browser, "login", "?refresh=true");
        Assert.Equal(afterLogin, Csrf(stale));

        // Re-authenticating the same identity (refresh) keeps the browser's token, as Kratos's IssueCookie does.
        var refreshed = await browser.PostForm($"/self-service/login?flow={stale["id"]}",
            [new("csrf_token", Csrf(stale)), new("method", "password"), new("identifier", email), new("password", GoodPassword)]);
        Assert.Equal(HttpStatusCode.SeeOther, refreshed.StatusCode);
        Assert.Equal(0, CsrfSetCookies(refreshed));
        Assert.Equal(afterLogin, CsrfCookie(browser));

        var logoutUrl = (await (await browser.Client.GetAsync("/self-service/logout/browser")).Json(HttpStatusCode.OK))["logout_url"]!.GetValue<string>();
        var loggedOut = await browser.Client.GetAsync(new Uri(logoutUrl).PathAndQuery);
        Assert.Equal(HttpStatusCode.SeeOther, loggedOut.StatusCode);
        Assert.Equal(1, CsrfSetCookies(loggedOut));
        Assert.NotEqual(afterLogin, CsrfCookie(browser));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_flow_opened_before_signing_in_cannot_be_submitted_with_its_old_token(string db)
    {
        var s = await Server(fixture, db);
        using var browser = new Browser(s.PublicUrl);
        var earlier = await StartFlow(browser, "recovery");
        await RegisterBrowser(browser);
        Assert.NotEqual(Csrf(earlier), CsrfCookie(browser));
        // The recovery flow is no longer this browser's: fetching it is refused as a CSRF violation, as in Kratos.
        var fetched = await (await browser.Client.GetAsync($"/self-service/recovery/flows?id={earlier["id"]}")).Json(HttpStatusCode.Forbidden);
        Assert.Equal("security_csrf_violation", fetched["error"]!["id"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Browser_recovery_rotates_the_token_and_the_settings_flow_it_opens_works_with_the_new_cookie(string db)
    {
        var s = await Server(fixture, db);
        var (email, _, _) = await RegisterApi(s);
        using var browser = new Browser(s.PublicUrl);
        var flow = await StartFlow(browser, "recovery");
        var before = CsrfCookie(browser);
        var sent = await browser.PostForm($"/self-service/recovery?flow={flow["id"]}", [new("csrf_token", Csrf(flow)), new("method", "code"), new("email", email)]);
        Assert.Equal(HttpStatusCode.SeeOther, sent.StatusCode);
        Assert.Equal(0, CsrfSetCookies(sent));
        var code = await LastCode(s, email, "recovery_code");
        var recovered = await browser.PostForm($"/self-service/recovery?flow={flow["id"]}", [new("csrf_token", Csrf(flow)), new("method", "code"), new("code", code)]);
        Assert.Equal(HttpStatusCode.SeeOther, recovered.StatusCode);
        Assert.Equal(1, CsrfSetCookies(recovered));
        var after = CsrfCookie(browser);
        Assert.NotEqual(before, after);
        var location = recovered.Headers.Location!.ToString();
        var settingsId = location[(location.IndexOf("flow=", StringComparison.Ordinal) + 5)..];
        var settings = await (await browser.Client.GetAsync($"/self-service/settings/flows?id={settingsId}")).Json(HttpStatusCode.OK);
        Assert.Equal(after, Csrf(settings));
        // The passed recovery flow keeps the new token (Kratos's SetCSRFToken).
        var passed = await (await browser.Client.GetAsync($"/self-service/recovery/flows?id={flow["id"]}")).Json(HttpStatusCode.OK);
        Assert.Equal("passed_challenge", passed["state"]!.GetValue<string>());
        Assert.Equal(after, Csrf(passed));
        var changed = await browser.PostForm($"/self-service/settings?flow={settingsId}",
            [new("csrf_token", after), new("method", "password"), new("password", GoodPassword + "-new")]);
        Assert.Equal(HttpStatusCode.SeeOther, changed.StatusCode);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_replaced_verification_flow_carries_a_new_token(string db)
    {
        var s = await Server(fixture, db);
        var (email, _, _) = await RegisterApi(s);
        using var browser = new Browser(s.PublicUrl);
        var flow = await StartFlow(browser, "verification");
        var before = CsrfCookie(browser);
        await browser.PostForm($"/self-service/verification?flow={flow["id"]}", [new("csrf_token", Csrf(flow)), new("method", "code"), new("email", email)]);
        var code = await LastCode(s, email, "verification_code");
        var verified = await browser.PostForm($"/self-service/verification?flow={flow["id"]}", [new("csrf_token", Csrf(flow)), new("method", "code"), new("code", code)]);
        Assert.Equal(0, CsrfSetCookies(verified));
        Assert.Equal(before, CsrfCookie(browser));

        // Submitted again after it passed: Kratos's retryVerificationFlowWithMessage makes the new flow with a new token.
        var again = await browser.PostForm($"/self-service/verification?flow={flow["id"]}", [new("csrf_token", Csrf(flow)), new("method", "code"), new("email", email)]);
        Assert.Equal(HttpStatusCode.SeeOther, again.StatusCode);
        Assert.Equal(1, CsrfSetCookies(again));
        var after = CsrfCookie(browser);
        Assert.NotEqual(before, after);
        var location = again.Headers.Location!.ToString();
        var replacement = await (await browser.Client.GetAsync($"/self-service/verification/flows?id={location[(location.IndexOf("flow=", StringComparison.Ordinal) + 5)..]}")).Json(HttpStatusCode.OK);
        Assert.Equal(after, Csrf(replacement));
        Assert.Contains(4070002L, MessageIds(replacement));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Native_login_sets_no_csrf_cookie(string db)
    {
        var s = await Server(fixture, db);
        var (email, _, _) = await RegisterApi(s);
        var flow = await ApiFlow(s.Public, "login");
        var done = await s.Public.PostJson($"/self-service/login?flow={flow["id"]}", new JsonObject { ["method"] = "password", ["identifier"] = email, ["password"] = GoodPassword });
        await done.Json(HttpStatusCode.OK);
        Assert.Equal(0, CsrfSetCookies(done));
    }
}
