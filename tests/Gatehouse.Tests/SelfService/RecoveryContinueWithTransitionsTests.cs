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
/// <c>feature_flags.use_continue_with_transitions</c>, read by Kratos in three places of the recovery flow:
/// <c>selfservice/strategy/code/strategy_recovery.go</c> <c>recoveryIssueSession</c> and <c>retryRecoveryFlow</c>, and
/// <c>selfservice/flow/recovery/error.go</c> <c>WriteFlowError</c> on an expired flow.
/// </summary>
public sealed class RecoveryContinueWithTransitionsTests : IAsyncLifetime
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
            o.FeatureFlags.UseContinueWithTransitions = true;
            o.Selfservice.Methods.Link.Enabled = true;
            o.Selfservice.Methods.Code.Config.MaxSubmissions = 2;
            o.Selfservice.Flows.Recovery.Enabled = true;
            o.Selfservice.Flows.Recovery.Use = use;
            o.Selfservice.Flows.Recovery.Lifespan = TimeSpan.FromMinutes(10);
        }, services => services.AddSingleton<TimeProvider>(_clock));
        return _servers[db + use] = s;
    }

    /// <summary>A native app's client: no cookies, no redirects followed.</summary>
    private static HttpClient Native(TestServer s) =>
        new(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = new Uri(s.PublicUrl) };

    private static async Task<JsonNode> BrowserFlow(Browser browser)
    {
        var init = await browser.Client.GetAsync("/self-service/recovery/browser");
        if (init.StatusCode == HttpStatusCode.OK) return await init.Json(HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.SeeOther, init.StatusCode);
        var id = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(init.Headers.Location!.Query)["flow"].ToString();
        return await (await browser.Client.GetAsync($"/self-service/recovery/flows?id={id}")).Json(HttpStatusCode.OK);
    }

    private static Task<HttpResponseMessage> PostJson(HttpClient client, string url, JsonObject body) =>
        client.PostAsync(url, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));

    private static Task<HttpResponseMessage> PostForm(HttpClient client, string url, Dictionary<string, string> form)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));
        return client.SendAsync(request);
    }

    private static async Task<string> MailedCode(TestServer s, string to)
    {
        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        var m = await db.CourierMessages.AsNoTracking().Where(x => x.Recipient == to.ToLowerInvariant()).OrderByDescending(x => x.CreatedAt).FirstAsync();
        return JsonNode.Parse(m.TemplateData!)!["recovery_code"]!.GetValue<string>();
    }

    /// <summary>
    /// recoveryIssueSession with the flag: an API flow's right code is answered 200 with the recovery flow and
    /// <c>continue_with</c> [set_ory_session_token, show_settings_ui {id, url}] — the token works, and names the settings
    /// flow's identity — whether the submit is JSON or a form post (<c>f.Type.IsAPI()</c>).
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_native_recovery_gets_its_session_token_and_the_settings_flow_in_continue_with(string db)
    {
        var s = await Server(db);
        var (email, _, body) = await RegisterApi(s);
        var identityId = body["identity"]!["id"]!.GetValue<string>();
        using var native = Native(s);
        foreach (var asForm in new[] { false, true })
        {
            var flow = await ApiFlow(native, "recovery");
            var action = $"/self-service/recovery?flow={flow["id"]}";
            await (await PostJson(native, action, new JsonObject { ["method"] = "code", ["email"] = email })).Json(HttpStatusCode.OK);
            var code = await MailedCode(s, email);
            var answer = asForm
                ? await PostForm(native, action, new() { ["method"] = "code", ["code"] = code })
                : await PostJson(native, action, new JsonObject { ["method"] = "code", ["code"] = code });
            var recovered = await answer.Json(HttpStatusCode.OK);
            Assert.Equal(flow["id"]!.GetValue<string>(), recovered["id"]!.GetValue<string>());
            Assert.Equal("passed_challenge", recovered["state"]!.GetValue<string>());
            Assert.Empty(MessageIds(recovered));
            var continueWith = recovered["continue_with"]!.AsArray();
            Assert.Equal(2, continueWith.Count);
            Assert.Equal("set_ory_session_token", continueWith[0]!["action"]!.GetValue<string>());
            var token = continueWith[0]!["ory_session_token"]!.GetValue<string>();
            Assert.Equal("show_settings_ui", continueWith[1]!["action"]!.GetValue<string>());
            var settingsId = continueWith[1]!["flow"]!["id"]!.GetValue<string>();
            Assert.Equal($"{s.PublicUrl}/ui/settings?flow={settingsId}", continueWith[1]!["flow"]!["url"]!.GetValue<string>());

            var whoami = new HttpRequestMessage(HttpMethod.Get, "/sessions/whoami");
            whoami.Headers.Add("X-Session-Token", token);
            var session = await (await native.SendAsync(whoami)).Json(HttpStatusCode.OK);
            Assert.Equal(identityId, session["identity"]!["id"]!.GetValue<string>());
            Assert.Equal("code_recovery", session["authentication_methods"]![0]!["method"]!.GetValue<string>());

            var settingsRequest = new HttpRequestMessage(HttpMethod.Get, $"/self-service/settings/flows?id={settingsId}");
            settingsRequest.Headers.Add("X-Session-Token", token);
            var settings = await (await native.SendAsync(settingsRequest)).Json(HttpStatusCode.OK);
            Assert.Equal("api", settings["type"]!.GetValue<string>());
            Assert.Equal([1060001L], MessageIds(settings));

            // continue_with is the answer's only (Kratos: db:"-").
            var fetched = await (await native.GetAsync($"/self-service/recovery/flows?id={flow["id"]}")).Json(HttpStatusCode.OK);
            Assert.Null(fetched["continue_with"]);
        }
    }

    /// <summary>
    /// 1060001 on the settings flow says when the privileged session ends as Kratos's <c>NewRecoverySuccessful</c> does:
    /// the minutes left in the text (<c>%.2f</c>) and the moment in <c>privilegedSessionExpiresAt</c>,
    /// <c>privileged_session_expires_at</c> (RFC 3339) and <c>privileged_session_expires_at_unix</c> (seconds), from which
    /// Ory Elements words "within the next {privileged_session_expires_at_unix_until_minutes} minutes".
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_recovery_message_says_when_the_privileged_session_ends_in_kratos_context_keys(string db)
    {
        var s = await Server(db);
        var maxAge = s.Services.GetRequiredService<Gatehouse.Config.GatehouseOptions>().Selfservice.Flows.Settings.PrivilegedSessionMaxAge;
        var (email, _, _) = await RegisterApi(s);
        using var native = Native(s);
        var flow = await ApiFlow(native, "recovery");
        var action = $"/self-service/recovery?flow={flow["id"]}";
        await (await PostJson(native, action, new JsonObject { ["method"] = "code", ["email"] = email })).Json(HttpStatusCode.OK);
        var code = await MailedCode(s, email);
        var recoveredAt = _clock.GetUtcNow();
        var recovered = await (await PostJson(native, action, new JsonObject { ["method"] = "code", ["code"] = code })).Json(HttpStatusCode.OK);
        var continueWith = recovered["continue_with"]!.AsArray();
        var settingsRequest = new HttpRequestMessage(HttpMethod.Get, $"/self-service/settings/flows?id={continueWith[1]!["flow"]!["id"]}");
        settingsRequest.Headers.Add("X-Session-Token", continueWith[0]!["ory_session_token"]!.GetValue<string>());
        var settings = await (await native.SendAsync(settingsRequest)).Json(HttpStatusCode.OK);

        var message = settings["ui"]!["messages"]!.AsArray().Single()!;
        Assert.Equal(1060001, message["id"]!.GetValue<long>());
        Assert.Equal("success", message["type"]!.GetValue<string>());
        var minutes = maxAge.TotalMinutes.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal($"You successfully recovered your account. Please change your password or set up an alternative login method (e.g. social sign in) within the next {minutes} minutes.",
            message["text"]!.GetValue<string>());
        var context = message["context"]!.AsObject();
        Assert.Equal(["privilegedSessionExpiresAt", "privileged_session_expires_at", "privileged_session_expires_at_unix"], context.Select(p => p.Key).Order(StringComparer.Ordinal));
        var expiresAt = DateTimeOffset.Parse(context["privileged_session_expires_at"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(context["privileged_session_expires_at"]!.GetValue<string>(), context["privilegedSessionExpiresAt"]!.GetValue<string>());
        Assert.Equal(recoveredAt + maxAge, expiresAt, TimeSpan.FromMilliseconds(1));
        Assert.Equal((recoveredAt + maxAge).ToUnixTimeSeconds(), context["privileged_session_expires_at_unix"]!.GetValue<long>());
    }

    /// <summary>
    /// A browser flow with the flag: a JSON request (an SPA) gets the flow with show_settings_ui alone — its session is in
    /// the cookie — and an HTML form post is still sent 303 to the settings UI.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_browser_recovery_answers_an_spa_with_show_settings_ui_and_redirects_html(string db)
    {
        var s = await Server(db);
        var (email, _, _) = await RegisterApi(s);

        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        var flow = await BrowserFlow(spa);
        var action = $"/self-service/recovery?flow={flow["id"]}";
        await (await PostJson(spa.Client, action, new JsonObject { ["csrf_token"] = Csrf(flow), ["method"] = "code", ["email"] = email })).Json(HttpStatusCode.OK);
        var recovered = await (await PostJson(spa.Client, action, new JsonObject { ["csrf_token"] = Csrf(flow), ["method"] = "code", ["code"] = await MailedCode(s, email) })).Json(HttpStatusCode.OK);
        Assert.Equal("passed_challenge", recovered["state"]!.GetValue<string>());
        var item = Assert.Single(recovered["continue_with"]!.AsArray());
        Assert.Equal("show_settings_ui", item!["action"]!.GetValue<string>());
        var settingsId = item["flow"]!["id"]!.GetValue<string>();
        Assert.Equal($"{s.PublicUrl}/ui/settings?flow={settingsId}", item["flow"]!["url"]!.GetValue<string>());
        Assert.NotNull(spa.Cookie("ory_kratos_session"));
        // The flow answered carries the browser's new anti-CSRF token (recoveryIssueSession: SetCSRFToken).
        Assert.NotEqual(Csrf(flow), Csrf(recovered));
        var settings = await (await spa.Client.GetAsync($"/self-service/settings/flows?id={settingsId}")).Json(HttpStatusCode.OK);
        Assert.Equal("browser", settings["type"]!.GetValue<string>());

        using var html = new Browser(s.PublicUrl);
        flow = await BrowserFlow(html);
        action = $"/self-service/recovery?flow={flow["id"]}";
        Assert.Equal(HttpStatusCode.SeeOther, (await PostForm(html.Client, action, new() { ["csrf_token"] = Csrf(flow), ["method"] = "code", ["email"] = email })).StatusCode);
        var redirected = await PostForm(html.Client, action, new() { ["csrf_token"] = Csrf(flow), ["method"] = "code", ["code"] = await MailedCode(s, email) });
        Assert.Equal(HttpStatusCode.SeeOther, redirected.StatusCode);
        Assert.StartsWith($"{s.PublicUrl}/ui/settings?flow=", redirected.Headers.Location!.ToString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// retryRecoveryFlow with the flag, after ErrCodeSubmittedTooOften: a JSON client gets that error (400, its reason)
    /// with details.continue_with [show_recovery_ui {id}] naming the new flow, which carries 4000001; an HTML browser is
    /// still sent 303 to the new flow's UI.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Spent_guesses_answer_json_with_the_error_and_show_recovery_ui(string db)
    {
        var s = await Server(db);
        var (email, _, _) = await RegisterApi(s);
        using var native = Native(s);
        var flow = await ApiFlow(native, "recovery");
        var action = $"/self-service/recovery?flow={flow["id"]}";
        await (await PostJson(native, action, new JsonObject { ["method"] = "code", ["email"] = email })).Json(HttpStatusCode.OK);
        var code = await MailedCode(s, email);
        var wrong = code == "000000" ? "111111" : "000000";
        for (var i = 0; i < 2; i++)
            Assert.Equal([4060006L], MessageIds(await (await PostJson(native, action, new JsonObject { ["method"] = "code", ["code"] = wrong })).Json(HttpStatusCode.OK)));

        var error = await (await PostJson(native, action, new JsonObject { ["method"] = "code", ["code"] = code })).Error(HttpStatusCode.BadRequest);
        Assert.Equal("The request was submitted too often. Please request another code.", error["reason"]!.GetValue<string>());
        var item = Assert.Single(error["details"]!["continue_with"]!.AsArray());
        Assert.Equal("show_recovery_ui", item!["action"]!.GetValue<string>());
        Assert.Null(item["flow"]!["url"]);
        var next = await (await native.GetAsync($"/self-service/recovery/flows?id={item["flow"]!["id"]}")).Json(HttpStatusCode.OK);
        Assert.NotEqual(flow["id"]!.GetValue<string>(), next["id"]!.GetValue<string>());
        Assert.Equal("api", next["type"]!.GetValue<string>());
        Assert.Equal("choose_method", next["state"]!.GetValue<string>());
        Assert.Equal([4000001L], MessageIds(next));

        // A form post is redirected as without the flag.
        var redirected = await PostForm(native, action, new() { ["method"] = "code", ["code"] = code });
        Assert.Equal(HttpStatusCode.SeeOther, redirected.StatusCode);
        Assert.StartsWith($"{s.PublicUrl}/ui/recovery?flow=", redirected.Headers.Location!.ToString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// Kratos's retryRecoveryFlow with the flag and a retry carrying a message alone (a passed_challenge flow resubmitted,
    /// 4060001) calls Error() on a nil error and panics; Gatehouse keeps the unflagged answer: a 303 to fetch the new flow.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_retry_with_a_message_alone_keeps_the_303(string db)
    {
        var s = await Server(db);
        var (email, _, _) = await RegisterApi(s);
        using var native = Native(s);
        var flow = await ApiFlow(native, "recovery");
        var action = $"/self-service/recovery?flow={flow["id"]}";
        await (await PostJson(native, action, new JsonObject { ["method"] = "code", ["email"] = email })).Json(HttpStatusCode.OK);
        await (await PostJson(native, action, new JsonObject { ["method"] = "code", ["code"] = await MailedCode(s, email) })).Json(HttpStatusCode.OK);
        var again = await PostJson(native, action, new JsonObject { ["method"] = "code", ["email"] = email });
        Assert.Equal(HttpStatusCode.SeeOther, again.StatusCode);
        Assert.StartsWith($"{s.PublicUrl}/self-service/recovery/flows?id=", again.Headers.Location!.ToString(), StringComparison.Ordinal);
        var next = await (await native.GetAsync(again.Headers.Location)).Json(HttpStatusCode.OK);
        Assert.Equal([4060001L], MessageIds(next));
    }

    /// <summary>
    /// The recovery error handler with the flag: an expired API flow is answered 410 self_service_flow_expired with
    /// use_flow_id and details.continue_with [show_recovery_ui] naming the new flow (4060005); a browser flow is still
    /// answered 303 (JSON: to the fetch route; HTML: to the UI).
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_expired_api_flow_is_answered_410_with_show_recovery_ui(string db)
    {
        var s = await Server(db);
        using var native = Native(s);
        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        var api = await ApiFlow(native, "recovery");
        var spaFlow = await BrowserFlow(spa);
        _clock.Advance(TimeSpan.FromMinutes(11));

        var response = await PostJson(native, $"/self-service/recovery?flow={api["id"]}", new JsonObject { ["method"] = "code", ["email"] = "someone@example.com" });
        var body = await response.Json(HttpStatusCode.Gone);
        Assert.Equal("self_service_flow_expired", body["error"]!["id"]!.GetValue<string>());
        Assert.Equal("The self-service flow expired 1.00 minutes ago, initialize a new one.", body["error"]!["reason"]!.GetValue<string>());
        var newId = body["use_flow_id"]!.GetValue<string>();
        Assert.NotEqual(api["id"]!.GetValue<string>(), newId);
        Assert.Equal(api["expires_at"]!.GetValue<string>(), body["expired_at"]!.GetValue<string>());
        var item = Assert.Single(body["error"]!["details"]!["continue_with"]!.AsArray());
        Assert.Equal("show_recovery_ui", item!["action"]!.GetValue<string>());
        Assert.Equal(newId, item["flow"]!["id"]!.GetValue<string>());
        var next = await (await native.GetAsync($"/self-service/recovery/flows?id={newId}")).Json(HttpStatusCode.OK);
        Assert.Equal("api", next["type"]!.GetValue<string>());
        Assert.Equal([4060005L], MessageIds(next));

        var spaAnswer = await PostJson(spa.Client, $"/self-service/recovery?flow={spaFlow["id"]}", new JsonObject { ["csrf_token"] = Csrf(spaFlow), ["method"] = "code", ["email"] = "someone@example.com" });
        Assert.Equal(HttpStatusCode.SeeOther, spaAnswer.StatusCode);
        Assert.StartsWith($"{s.PublicUrl}/self-service/recovery/flows?id=", spaAnswer.Headers.Location!.ToString(), StringComparison.Ordinal);
    }

    /// <summary>The link method's Kratos code reads no flag: its right link still sets the cookie and answers 303.</summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_link_method_ignores_the_flag(string db)
    {
        var s = await Server(db, "link");
        var (email, _, _) = await RegisterApi(s);
        using var native = Native(s);
        var flow = await ApiFlow(native, "recovery");
        await (await PostJson(native, $"/self-service/recovery?flow={flow["id"]}", new JsonObject { ["method"] = "link", ["email"] = email })).Json(HttpStatusCode.OK);
        await using var scope = s.Services.CreateAsyncScope();
        var dbContext = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        var m = await dbContext.CourierMessages.AsNoTracking().Where(x => x.Recipient == email.ToLowerInvariant()).OrderByDescending(x => x.CreatedAt).FirstAsync();
        var link = new Uri(JsonNode.Parse(m.TemplateData!)!["recovery_url"]!.GetValue<string>()).PathAndQuery;
        using var mailReader = new Browser(s.PublicUrl);
        var opened = await mailReader.Client.GetAsync(link);
        Assert.Equal(HttpStatusCode.SeeOther, opened.StatusCode);
        Assert.Contains("/ui/settings?flow=", opened.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.NotNull(mailReader.Cookie("ory_kratos_session"));
    }
}
