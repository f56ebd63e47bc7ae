using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Persistence;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

/// <summary>
/// Where recovery and verification answer unlike the other flows, as Kratos's handlers and error handlers do
/// (<c>selfservice/flow/{recovery,verification}/error.go</c>, <c>selfservice/strategy/code/strategy_recovery.go</c>): an
/// expired flow submitted is replaced with a 303, not a 410; a recovery flow that passed its challenge is replaced when
/// submitted again; a recovery submit names its method in <c>method</c> alone.
/// </summary>
public sealed class RecoveryVerificationRetryTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private readonly Dictionary<string, TestServer> _servers = [];

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _servers.Values) await s.DisposeAsync();
    }

    private async Task<TestServer> Server(string db, string use = "code")
    {
        if (_servers.TryGetValue(db + use, out var s)) return s;
        s = await TestServer.StartAsync(db, o =>
        {
            FlowServerFixture.Configure(o);
            o.Selfservice.Methods.Link.Enabled = true;
            o.Selfservice.Flows.Recovery.Enabled = true;
            o.Selfservice.Flows.Recovery.Use = use;
            o.Selfservice.Flows.Recovery.Lifespan = TimeSpan.FromMinutes(10);
            o.Selfservice.Flows.Verification.Enabled = true;
            o.Selfservice.Flows.Verification.Use = use;
            o.Selfservice.Flows.Verification.Lifespan = TimeSpan.FromMinutes(10);
        }, services => services.AddSingleton<TimeProvider>(_clock));
        return _servers[db + use] = s;
    }

    /// <summary>A native app's client: no cookies, no redirects followed.</summary>
    private static HttpClient Native(TestServer s) =>
        new(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = new Uri(s.PublicUrl) };

    /// <summary>A browser flow of <paramref name="browser"/>, made by its init route and fetched as its UI does.</summary>
    private static async Task<JsonNode> BrowserFlow(Browser browser, string kind)
    {
        var init = await browser.Client.GetAsync($"/self-service/{kind}/browser");
        if (init.StatusCode == HttpStatusCode.OK) return await init.Json(HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.SeeOther, init.StatusCode);
        return await (await browser.Client.GetAsync($"/self-service/{kind}/flows?id={FlowIdIn(init.Headers.Location!)}")).Json(HttpStatusCode.OK);
    }

    private static string FlowIdIn(Uri location) =>
        Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(location.Query) is var q && q.TryGetValue("flow", out var flow) ? flow.ToString() : q["id"].ToString();

    /// <summary>A JSON submit as the Ory SDKs send it, with <c>Accept: application/json</c>.</summary>
    private static Task<HttpResponseMessage> PostJson(HttpClient client, string url, JsonObject body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return client.SendAsync(request);
    }

    /// <summary>A form post that asks for HTML, as a browser's form submit does.</summary>
    private static Task<HttpResponseMessage> PostForm(HttpClient client, string url, Dictionary<string, string> form)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));
        return client.SendAsync(request);
    }

    /// <summary>The 303 of an expired flow's submit: where it points, and the new flow it names.</summary>
    private static (string Location, string NewId) Replaced(HttpResponseMessage response, JsonNode old)
    {
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        var location = response.Headers.Location!;
        var id = FlowIdIn(location);
        Assert.NotEqual(old["id"]!.GetValue<string>(), id);
        return (location.ToString(), id);
    }

    private static void AssertExpiredMessage(JsonNode next, JsonNode old, long id, string kind)
    {
        var expiredAt = old["expires_at"]!.GetValue<string>();
        var expected = new JsonObject
        {
            ["id"] = id,
            ["text"] = $"The {kind} flow expired 1.00 minutes ago, please try again.",
            ["type"] = "error",
            ["context"] = new JsonObject { ["expired_at"] = expiredAt, ["expired_at_unix"] = DateTimeOffset.Parse(expiredAt, System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeSeconds() },
        };
        Assert.Equal(new JsonArray(expected).ToJsonString(), next["ui"]!["messages"]!.ToJsonString());
        Assert.Equal("choose_method", next["state"]!.GetValue<string>());
        Assert.Equal(old["request_url"]!.GetValue<string>(), next["request_url"]!.GetValue<string>());
    }

    /// <summary>
    /// Kratos's recovery ErrorHandler.WriteFlowError on a flow.ExpiredError (no use_continue_with_transitions): a new flow
    /// from FromOldFlow (the old type and request_url; an API link flow becomes a browser flow) with 4060005, and a 303 —
    /// API flows and JSON requests to the flow's fetch route, other browsers to the UI. The expiry is checked before the
    /// CSRF token (updateRecoveryFlow's f.Valid), so a submit without one is answered the same.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_expired_recovery_flow_is_replaced_with_a_303_to_a_new_flow_carrying_4060005(string db)
    {
        var s = await Server(db);
        var (email, _, _) = await RegisterApi(s);
        using var native = Native(s);
        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        using var html = new Browser(s.PublicUrl);
        var api = await ApiFlow(native, "recovery");
        var apiForm = await ApiFlow(native, "recovery");
        var spaFlow = await BrowserFlow(spa, "recovery");
        var htmlFlow = await BrowserFlow(html, "recovery");
        _clock.Advance(TimeSpan.FromMinutes(11));

        var fetchRoute = $"{s.PublicUrl}/self-service/recovery/flows?id=";
        var (location, id) = Replaced(await PostJson(native, $"/self-service/recovery?flow={api["id"]}", new JsonObject { ["method"] = "code", ["email"] = email }), api);
        Assert.Equal(fetchRoute + id, location);
        var next = await (await native.GetAsync(location)).Json(HttpStatusCode.OK);
        Assert.Equal("api", next["type"]!.GetValue<string>());
        AssertExpiredMessage(next, api, 4060005, "recovery");

        // An API flow is sent to the fetch route whatever the request asks for.
        (location, id) = Replaced(await PostForm(native, $"/self-service/recovery?flow={apiForm["id"]}", new() { ["method"] = "code", ["email"] = email }), apiForm);
        Assert.Equal(fetchRoute + id, location);

        (location, id) = Replaced(await PostJson(spa.Client, $"/self-service/recovery?flow={spaFlow["id"]}", new JsonObject { ["method"] = "code", ["email"] = email }), spaFlow);
        Assert.Equal(fetchRoute + id, location);
        next = await (await spa.Client.GetAsync(location)).Json(HttpStatusCode.OK);
        Assert.Equal("browser", next["type"]!.GetValue<string>());
        AssertExpiredMessage(next, spaFlow, 4060005, "recovery");
        Assert.Equal(Csrf(spaFlow), Csrf(next));

        (location, id) = Replaced(await PostForm(html.Client, $"/self-service/recovery?flow={htmlFlow["id"]}", new() { ["method"] = "code", ["email"] = email }), htmlFlow);
        Assert.Equal($"{s.PublicUrl}/ui/recovery?flow={id}", location);
        next = await (await html.Client.GetAsync($"/self-service/recovery/flows?id={id}")).Json(HttpStatusCode.OK);
        AssertExpiredMessage(next, htmlFlow, 4060005, "recovery");
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_expired_api_link_recovery_flow_is_replaced_by_a_browser_flow(string db)
    {
        var s = await Server(db, "link");
        using var native = Native(s);
        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        var api = await ApiFlow(native, "recovery");
        _clock.Advance(TimeSpan.FromMinutes(11));
        var (location, id) = Replaced(await PostJson(spa.Client, $"/self-service/recovery?flow={api["id"]}", new JsonObject { ["method"] = "link", ["email"] = "someone@example.com" }), api);
        Assert.Equal($"{s.PublicUrl}/self-service/recovery/flows?id={id}", location);
        var next = await (await spa.Client.GetAsync(location)).Json(HttpStatusCode.OK);
        Assert.Equal("browser", next["type"]!.GetValue<string>());
        AssertExpiredMessage(next, api, 4060005, "recovery");
    }

    /// <summary>
    /// Kratos's verification ErrorHandler.WriteFlowError on a flow.ExpiredError: FromOldFlow makes every replacement a
    /// browser flow (an API flow's too), with 4070005; JSON requests are sent (303) to its fetch route, others to the UI.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_expired_verification_flow_is_replaced_with_a_303_to_a_new_browser_flow_carrying_4070005(string db)
    {
        var s = await Server(db);
        var (email, _, _) = await RegisterApi(s);
        using var native = Native(s);
        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        using var html = new Browser(s.PublicUrl);
        var api = await ApiFlow(native, "verification");
        var apiForm = await ApiFlow(native, "verification");
        var spaFlow = await BrowserFlow(spa, "verification");
        var htmlFlow = await BrowserFlow(html, "verification");
        _clock.Advance(TimeSpan.FromMinutes(11));

        var fetchRoute = $"{s.PublicUrl}/self-service/verification/flows?id=";
        // The native app's JSON submit; its client keeps the CSRF cookie the answer sets for the new browser flow.
        using var app = new Browser(s.PublicUrl, acceptJson: true);
        var (location, id) = Replaced(await PostJson(app.Client, $"/self-service/verification?flow={api["id"]}", new JsonObject { ["method"] = "code", ["email"] = email }), api);
        Assert.Equal(fetchRoute + id, location);
        var next = await (await app.Client.GetAsync(location)).Json(HttpStatusCode.OK);
        Assert.Equal("browser", next["type"]!.GetValue<string>());
        AssertExpiredMessage(next, api, 4070005, "verification");

        (location, id) = Replaced(await PostForm(native, $"/self-service/verification?flow={apiForm["id"]}", new() { ["method"] = "code", ["email"] = email }), apiForm);
        Assert.Equal($"{s.PublicUrl}/ui/verification?flow={id}", location);

        (location, id) = Replaced(await PostJson(spa.Client, $"/self-service/verification?flow={spaFlow["id"]}", new JsonObject { ["method"] = "code", ["email"] = email }), spaFlow);
        Assert.Equal(fetchRoute + id, location);
        next = await (await spa.Client.GetAsync(location)).Json(HttpStatusCode.OK);
        AssertExpiredMessage(next, spaFlow, 4070005, "verification");

        (location, id) = Replaced(await PostForm(html.Client, $"/self-service/verification?flow={htmlFlow["id"]}", new() { ["method"] = "code", ["email"] = email }), htmlFlow);
        Assert.Equal($"{s.PublicUrl}/ui/verification?flow={id}", location);
        next = await (await html.Client.GetAsync($"/self-service/verification/flows?id={id}")).Json(HttpStatusCode.OK);
        Assert.Equal("browser", next["type"]!.GetValue<string>());
        AssertExpiredMessage(next, htmlFlow, 4070005, "verification");
    }

    /// <summary>The last mail's template field <paramref name="field"/> for <paramref name="to"/> (a code, or a link as path and query).</summary>
    private static async Task<string> Mailed(TestServer s, string to, string field)
    {
        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        var m = await db.CourierMessages.AsNoTracking().Where(x => x.Recipient == to.ToLowerInvariant()).OrderByDescending(x => x.CreatedAt).FirstAsync();
        var value = JsonNode.Parse(m.TemplateData!)![field]!.GetValue<string>();
        return Uri.TryCreate(value, UriKind.Absolute, out var url) ? url.PathAndQuery : value;
    }

    /// <summary>
    /// Kratos's code Recover on a passed_challenge flow: a submit without an email goes to recoveryUseCode (the state is not
    /// choose_method) — the used code is a wrong one, 4060006 as a 200; with one, a signed-in client is refused
    /// (session_already_available for JSON, else a 302 to the default return URL), a method other than code is no
    /// strategy's (4010005), and else retryRecoveryFlow makes a new flow of the flow's type with 4060001 — JSON requests
    /// sent (303) to its fetch route, others to the UI.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_code_recovery_flow_that_passed_its_challenge_answers_a_resubmit_as_kratos_does(string db)
    {
        var s = await Server(db);
        var (email, _, _) = await RegisterApi(s);
        using var native = Native(s);
        var flow = await ApiFlow(native, "recovery");
        var action = $"/self-service/recovery?flow={flow["id"]}";
        await (await PostJson(native, action, new JsonObject { ["method"] = "code", ["email"] = email })).Json(HttpStatusCode.OK);
        var code = await Mailed(s, email, "recovery_code");
        var recovered = await (await PostJson(native, action, new JsonObject { ["method"] = "code", ["code"] = code })).Json((HttpStatusCode)422);
        Assert.Equal("browser_location_change_required", recovered["error"]!["id"]!.GetValue<string>());

        var again = await (await PostJson(native, action, new JsonObject { ["method"] = "code", ["code"] = code })).Json(HttpStatusCode.OK);
        Assert.Equal("passed_challenge", again["state"]!.GetValue<string>());
        Assert.Equal([4060006L], MessageIds(again));

        var noMethod = await (await PostJson(native, action, new JsonObject { ["email"] = email })).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4010005L], MessageIds(noMethod));

        var (location, id) = Replaced(await PostJson(native, action, new JsonObject { ["method"] = "code", ["email"] = email }), flow);
        Assert.Equal($"{s.PublicUrl}/self-service/recovery/flows?id={id}", location);
        var next = await (await native.GetAsync(location)).Json(HttpStatusCode.OK);
        Assert.Equal("api", next["type"]!.GetValue<string>());
        Assert.Equal("choose_method", next["state"]!.GetValue<string>());
        Assert.Equal([4060001L], MessageIds(next));
        Assert.Equal("passed_challenge", (await (await native.GetAsync($"/self-service/recovery/flows?id={flow["id"]}")).Json(HttpStatusCode.OK))["state"]!.GetValue<string>());

        (location, id) = Replaced(await PostForm(native, action, new() { ["method"] = "code", ["email"] = email }), flow);
        Assert.Equal($"{s.PublicUrl}/ui/recovery?flow={id}", location);

        // The browser that recovered holds a session now.
        using var html = new Browser(s.PublicUrl);
        var browserFlow = await BrowserFlow(html, "recovery");
        var browserAction = $"/self-service/recovery?flow={browserFlow["id"]}";
        Assert.Equal(HttpStatusCode.SeeOther, (await PostForm(html.Client, browserAction, new() { ["csrf_token"] = Csrf(browserFlow), ["method"] = "code", ["email"] = email })).StatusCode);
        code = await Mailed(s, email, "recovery_code");
        Assert.Equal(HttpStatusCode.SeeOther, (await PostForm(html.Client, browserAction, new() { ["csrf_token"] = Csrf(browserFlow), ["method"] = "code", ["code"] = code })).StatusCode);
        Assert.NotNull(html.Cookie("ory_kratos_session"));
        // Recovering gave the browser a new anti-CSRF token (Kratos's recoveryIssueSession: RegenerateToken, and the flow
        // keeps it), so the form's old token is refused as a CSRF violation (forwarded to the error UI) before anything else;
        // the flow fetched again carries the new one.
        var stale = await PostForm(html.Client, browserAction, new() { ["csrf_token"] = Csrf(browserFlow), ["method"] = "code", ["email"] = email });
        Assert.Equal(HttpStatusCode.SeeOther, stale.StatusCode);
        Assert.Contains("/ui/error?id=", stale.Headers.Location!.ToString());
        browserFlow = await (await html.Client.GetAsync($"/self-service/recovery/flows?id={browserFlow["id"]}")).Json(HttpStatusCode.OK);
        var signedIn = await PostForm(html.Client, browserAction, new() { ["csrf_token"] = Csrf(browserFlow), ["method"] = "code", ["email"] = email });
        Assert.Equal(HttpStatusCode.Found, signedIn.StatusCode);
        Assert.Equal("http://app.example.com/welcome", signedIn.Headers.Location!.ToString());
        var json = new HttpRequestMessage(HttpMethod.Post, browserAction)
        {
            Content = new StringContent(new JsonObject { ["csrf_token"] = Csrf(browserFlow), ["method"] = "code", ["email"] = email }.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        var refused = await (await html.Client.SendAsync(json)).Error(HttpStatusCode.BadRequest);
        Assert.Equal("session_already_available", refused["id"]!.GetValue<string>());
        Assert.Equal("A valid session was detected and thus recovery is not possible.", refused["reason"]!.GetValue<string>());
    }

    /// <summary>Kratos's link retryRecoveryFlowWithMessage: an API flow's new flow is sent to its fetch route whatever the request asks for.</summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_link_recovery_flow_that_passed_its_challenge_is_replaced_by_a_flow_of_its_type_with_4060001(string db)
    {
        var s = await Server(db, "link");
        var (email, _, _) = await RegisterApi(s);
        using var native = Native(s);
        var flow = await ApiFlow(native, "recovery");
        var action = $"/self-service/recovery?flow={flow["id"]}";
        await (await PostJson(native, action, new JsonObject { ["method"] = "link", ["email"] = email })).Json(HttpStatusCode.OK);
        using var mailReader = new Browser(s.PublicUrl);
        var opened = await mailReader.Client.GetAsync(await Mailed(s, email, "recovery_url"));
        Assert.Contains("/ui/settings?flow=", opened.Headers.Location!.ToString());

        var (location, id) = Replaced(await PostForm(native, action, new() { ["method"] = "link", ["email"] = email }), flow);
        Assert.Equal($"{s.PublicUrl}/self-service/recovery/flows?id={id}", location);
        var next = await (await native.GetAsync(location)).Json(HttpStatusCode.OK);
        Assert.Equal("api", next["type"]!.GetValue<string>());
        Assert.Equal([4060001L], MessageIds(next));
    }

    /// <summary>
    /// Kratos's code Verify on a passed_challenge flow: retryVerificationFlowWithMessage with 4070002 — a new flow of the
    /// same type; JSON clients get 410 self_service_flow_replaced naming it, other browsers a 303 to its UI.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_code_verification_flow_that_passed_its_challenge_is_replaced_with_4070002(string db)
    {
        var s = await Server(db);
        var (email, _, _) = await RegisterApi(s);
        using var native = Native(s);
        var flow = await ApiFlow(native, "verification");
        var action = $"/self-service/verification?flow={flow["id"]}";
        await (await PostJson(native, action, new JsonObject { ["method"] = "code", ["email"] = email })).Json(HttpStatusCode.OK);
        var code = await Mailed(s, email, "verification_code");
        var passed = await (await PostJson(native, action, new JsonObject { ["method"] = "code", ["code"] = code })).Json(HttpStatusCode.OK);
        Assert.Equal("passed_challenge", passed["state"]!.GetValue<string>());

        var replaced = await (await PostJson(native, action, new JsonObject { ["method"] = "code", ["code"] = code })).Json(HttpStatusCode.Gone);
        Assert.Equal("self_service_flow_replaced", replaced["error"]!["id"]!.GetValue<string>());
        Assert.Equal("An error occured, please use the new flow.", replaced["error"]!["reason"]!.GetValue<string>());
        var newId = replaced["use_flow_id"]!.GetValue<string>();
        Assert.NotEqual(flow["id"]!.GetValue<string>(), newId);
        var next = await (await native.GetAsync($"/self-service/verification/flows?id={newId}")).Json(HttpStatusCode.OK);
        Assert.Equal("api", next["type"]!.GetValue<string>());
        Assert.Equal("choose_method", next["state"]!.GetValue<string>());
        Assert.Equal([4070002L], MessageIds(next));
        // The passed flow itself is left as it was.
        Assert.Equal("passed_challenge", (await (await native.GetAsync($"/self-service/verification/flows?id={flow["id"]}")).Json(HttpStatusCode.OK))["state"]!.GetValue<string>());

        var (location, id) = Replaced(await PostForm(native, action, new() { ["method"] = "code", ["email"] = email }), flow);
        Assert.Equal($"{s.PublicUrl}/ui/verification?flow={id}", location);
    }

    /// <summary>Kratos's link retryVerificationFlowWithMessage: an API flow's new flow is sent (303) to its fetch route, JSON or not.</summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_link_verification_flow_that_passed_its_challenge_is_replaced_by_a_flow_of_its_type_with_4070002(string db)
    {
        var s = await Server(db, "link");
        var (email, _, _) = await RegisterApi(s);
        using var native = Native(s);
        var flow = await ApiFlow(native, "verification");
        var action = $"/self-service/verification?flow={flow["id"]}";
        await (await PostJson(native, action, new JsonObject { ["method"] = "link", ["email"] = email })).Json(HttpStatusCode.OK);
        using var mailReader = new Browser(s.PublicUrl);
        await mailReader.Client.GetAsync(await Mailed(s, email, "verification_url"));
        Assert.Equal("passed_challenge", (await (await native.GetAsync($"/self-service/verification/flows?id={flow["id"]}")).Json(HttpStatusCode.OK))["state"]!.GetValue<string>());

        var (location, id) = Replaced(await PostJson(native, action, new JsonObject { ["method"] = "link", ["email"] = email }), flow);
        Assert.Equal($"{s.PublicUrl}/self-service/verification/flows?id={id}", location);
        var next = await (await native.GetAsync(location)).Json(HttpStatusCode.OK);
        Assert.Equal("api", next["type"]!.GetValue<string>());
        Assert.Equal([4070002L], MessageIds(next));
    }

    /// <summary>
    /// Kratos's code Recover takes a submit on a choose_method flow only with method=code (MethodEnabledAndAllowed on
    /// body.Method; no fallback on the code field, unlike verification's getMethod), and the link method only with
    /// method=link: a code without a method is no strategy's — 400 with 4010005 on the flow, nothing mailed.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_code_without_a_method_on_a_recovery_flow_choosing_its_method_is_no_strategys_4010005(string db)
    {
        var s = await Server(db);
        using var native = Native(s);
        var flow = await ApiFlow(native, "recovery");
        var refused = await (await PostJson(native, $"/self-service/recovery?flow={flow["id"]}", new JsonObject { ["code"] = "123456" })).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4010005L], MessageIds(refused));
        Assert.Empty(MessageIds(refused, "email"));
        Assert.Equal("choose_method", refused["state"]!.GetValue<string>());

        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        var browserFlow = await BrowserFlow(spa, "recovery");
        var browserRefused = await (await PostJson(spa.Client, $"/self-service/recovery?flow={browserFlow["id"]}",
            new JsonObject { ["csrf_token"] = Csrf(browserFlow), ["code"] = "123456" })).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4010005L], MessageIds(browserRefused));
    }
}
