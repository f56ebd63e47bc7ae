using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.SelfService.Flows;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using OtpNet;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

/// <summary>A server per provider with TOTP and recovery codes on, <c>privileged_session_max_age</c> 6 s and a fake clock.</summary>
public sealed class ContinuityServerFixture : IAsyncDisposable
{
    private readonly Dictionary<string, Task<TestServer>> _servers = [];
    private readonly Lock _lock = new();

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero));

    public Task<TestServer> Get(string provider)
    {
        lock (_lock)
        {
            if (!_servers.TryGetValue(provider, out var server))
            {
                server = TestServer.StartAsync(provider, o =>
                {
                    TotpServerFixture.Configure(o);
                    o.Selfservice.Methods.LookupSecret.Enabled = true;
                    o.Selfservice.Flows.Settings.PrivilegedSessionMaxAge = TimeSpan.FromSeconds(6);
                }, services => services.AddSingleton<TimeProvider>(Clock));
                _servers[provider] = server;
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
/// <c>session_refresh_required</c> as Kratos answers it: the refresh login returns to the submit URL
/// (<c>{public}/self-service/settings?flow=&lt;id&gt;</c>), a browser flow's submit is paused (encrypted, in the flow) and
/// <c>GET /self-service/settings?flow=</c> after the login finishes it once; API flows pause nothing, JSON requests resume
/// nothing, and a paused submit expires after 15 minutes.
/// </summary>
public sealed class SettingsContinuityTests(ContinuityServerFixture fixture) : IClassFixture<ContinuityServerFixture>
{
    private static readonly TimeSpan Stale = TimeSpan.FromSeconds(7);

    private FakeTimeProvider Clock => fixture.Clock;

    private string Code(string secret) => new Totp(Base32Encoding.ToBytes(secret)).ComputeTotp(Clock.GetUtcNow().UtcDateTime);

    private static string Secret(JsonNode flow) =>
        flow["ui"]!["nodes"]!.AsArray().Single(n => n!["attributes"]!["id"]?.GetValue<string>() == "totp_secret_key")!["attributes"]!["text"]!["context"]!["secret"]!.GetValue<string>();

    private static string RefreshLoginUrl(TestServer s, string flowId) =>
        $"{s.PublicUrl}/self-service/login/browser?refresh=true&return_to={Uri.EscapeDataString($"{s.PublicUrl}/self-service/settings?flow={flowId}")}";

    private static HttpRequestMessage Json(HttpMethod method, string url, JsonNode? body = null)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        return request;
    }

    private static HttpRequestMessage WithToken(HttpMethod method, string url, string token, JsonNode? body = null)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Add("X-Session-Token", token);
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        return request;
    }

    /// <summary>Follows a browser init's 303 to its UI and fetches the flow it names.</summary>
    private static async Task<JsonNode> BrowserFlow(Browser browser, string kind, string init)
    {
        var started = await browser.Client.GetAsync(init);
        Assert.Equal(HttpStatusCode.SeeOther, started.StatusCode);
        var id = started.Headers.Location!.ToString().Split("flow=")[1];
        return await (await browser.Client.GetAsync($"/self-service/{kind}/flows?id={id}")).Json(HttpStatusCode.OK);
    }

    /// <summary>Signs a new identity up with an HTML form (the session hook signs the browser in); returns the email.</summary>
    private static async Task<string> SignUp(Browser browser)
    {
        var email = HttpAssertions.UniqueEmail("continuity");
        var flow = await BrowserFlow(browser, "registration", "/self-service/registration/browser");
        var done = await browser.PostForm($"/self-service/registration?flow={flow["id"]}",
            [new("csrf_token", Csrf(flow)), new("method", "password"), new("traits.email", email), new("password", GoodPassword)]);
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        return email;
    }

    /// <summary>Signs in again at <paramref name="refreshUrl"/> (the refresh login); returns where the login sends the browser.</summary>
    private static async Task<string> RefreshLogin(Browser browser, string refreshUrl, string email, string password = GoodPassword)
    {
        var login = await BrowserFlow(browser, "login", refreshUrl);
        Assert.True(login["refresh"]!.GetValue<bool>());
        var done = await browser.PostForm($"/self-service/login?flow={login["id"]}",
            [new("csrf_token", Csrf(login)), new("method", "password"), new("identifier", email), new("password", password)]);
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        return done.Headers.Location!.ToString();
    }

    private static async Task<string> IdentityId(Browser browser) =>
        (await (await browser.Client.GetAsync("/sessions/whoami")).Json(HttpStatusCode.OK))["identity"]!["id"]!.GetValue<string>();

    private static async Task<JsonNode?> Credential(TestServer s, string identityId, string type) =>
        (await (await s.AdminWithKey.GetAsync($"/admin/identities/{identityId}?include_credential={type}")).Json(HttpStatusCode.OK))["credentials"]![type];

    private static async Task<string> StoredContext(TestServer s, string flowId)
    {
        await using var scope = s.Services.CreateAsyncScope();
        var flow = await scope.ServiceProvider.GetRequiredService<IFlowStore>().FindAsync(Guid.Parse(flowId), FlowKinds.Settings, CancellationToken.None);
        return flow!.InternalContext ?? "";
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_html_totp_enrolment_of_an_old_session_is_paused_and_finished_once_after_the_refresh_login(string db)
    {
        var s = await fixture.Get(db);
        using var browser = new Browser(s.PublicUrl);
        var email = await SignUp(browser);
        var identityId = await IdentityId(browser);
        var flow = await BrowserFlow(browser, "settings", "/self-service/settings/browser");
        var id = flow["id"]!.GetValue<string>();
        Clock.Advance(Stale);
        var code = Code(Secret(flow));

        var paused = await browser.PostForm($"/self-service/settings?flow={id}", [new("csrf_token", Csrf(flow)), new("method", "totp"), new("totp_code", code)]);
        Assert.Equal(HttpStatusCode.SeeOther, paused.StatusCode);
        Assert.Equal(RefreshLoginUrl(s, id), paused.Headers.Location!.ToString());
        Assert.Null(await Credential(s, identityId, "totp"));
        var stored = await StoredContext(s, id);
        Assert.Contains("settings_continuity", stored, StringComparison.Ordinal);
        Assert.DoesNotContain(code, stored, StringComparison.Ordinal);

        // Back before signing in again: the session is still too old, the submit is paused again and nothing changes.
        var early = await browser.Client.GetAsync($"/self-service/settings?flow={id}");
        Assert.Equal(HttpStatusCode.SeeOther, early.StatusCode);
        Assert.Equal(RefreshLoginUrl(s, id), early.Headers.Location!.ToString());
        Assert.Null(await Credential(s, identityId, "totp"));

        var back = await RefreshLogin(browser, paused.Headers.Location!.ToString(), email);
        Assert.Equal($"{s.PublicUrl}/self-service/settings?flow={id}", back);
        var resumed = await browser.Client.GetAsync(back);
        Assert.Equal(HttpStatusCode.SeeOther, resumed.StatusCode);
        Assert.DoesNotContain("/self-service/login/", resumed.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.NotNull(await Credential(s, identityId, "totp"));
        Assert.DoesNotContain("settings_continuity", await StoredContext(s, id), StringComparison.Ordinal);

        // Used once: nothing is paused any more, and Kratos's handler finds no method for a bare GET (4010004 on the flow).
        var again = await browser.Client.GetAsync($"/self-service/settings?flow={id}");
        Assert.Equal(HttpStatusCode.SeeOther, again.StatusCode);
        Assert.Equal($"{s.PublicUrl}/ui/settings?flow={id}", again.Headers.Location!.ToString());
        var shown = await (await browser.Client.GetAsync($"/self-service/settings/flows?id={id}")).Json(HttpStatusCode.OK);
        Assert.Contains(4010004L, MessageIds(shown));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_single_page_app_gets_403_and_the_browser_navigation_after_the_refresh_login_finishes_the_enrolment(string db)
    {
        var s = await fixture.Get(db);
        using var browser = new Browser(s.PublicUrl);
        var email = await SignUp(browser);
        var identityId = await IdentityId(browser);
        var flow = await (await browser.Client.SendAsync(Json(HttpMethod.Get, "/self-service/settings/browser"))).Json(HttpStatusCode.OK);
        var id = flow["id"]!.GetValue<string>();
        Clock.Advance(Stale);

        var refused = await (await browser.Client.SendAsync(Json(HttpMethod.Post, $"/self-service/settings?flow={id}",
            new JsonObject { ["csrf_token"] = Csrf(flow), ["method"] = "totp", ["totp_code"] = Code(Secret(flow)) }))).Json(HttpStatusCode.Forbidden);
        Assert.Equal("session_refresh_required", refused["error"]!["id"]!.GetValue<string>());
        Assert.Equal("The login session is too old and thus not allowed to update these fields. Please re-authenticate.", refused["error"]!["reason"]!.GetValue<string>());
        Assert.Equal(RefreshLoginUrl(s, id), refused["redirect_browser_to"]!.GetValue<string>());
        Assert.Null(await Credential(s, identityId, "totp"));

        // A JSON request to the submit URL resumes nothing (Kratos's PrepareUpdate): no method takes a bare GET, 400 + 4010004.
        var json = await (await browser.Client.SendAsync(Json(HttpMethod.Get, $"/self-service/settings?flow={id}"))).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4010004L, MessageIds(json));
        Assert.Null(await Credential(s, identityId, "totp"));

        var back = await RefreshLogin(browser, refused["redirect_browser_to"]!.GetValue<string>(), email);
        Assert.Equal($"{s.PublicUrl}/self-service/settings?flow={id}", back);
        var resumed = await browser.Client.GetAsync(back);
        Assert.Equal(HttpStatusCode.SeeOther, resumed.StatusCode);
        Assert.NotNull(await Credential(s, identityId, "totp"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_api_flow_gets_403_naming_the_submit_url_and_pauses_nothing(string db)
    {
        var s = await fixture.Get(db);
        var (_, token, reg) = await RegisterApi(s);
        var identityId = reg["identity"]!["id"]!.GetValue<string>();
        var enrol = await (await s.Public.SendAsync(WithToken(HttpMethod.Get, "/self-service/settings/api", token))).Json(HttpStatusCode.OK);
        await (await s.Public.SendAsync(WithToken(HttpMethod.Post, $"/self-service/settings?flow={enrol["id"]}", token,
            new JsonObject { ["method"] = "totp", ["totp_code"] = Code(Secret(enrol)) }))).Json(HttpStatusCode.OK);
        var flow = await (await s.Public.SendAsync(WithToken(HttpMethod.Get, "/self-service/settings/api", token))).Json(HttpStatusCode.OK);
        var id = flow["id"]!.GetValue<string>();
        Clock.Advance(Stale);

        var refused = await (await s.Public.SendAsync(WithToken(HttpMethod.Post, $"/self-service/settings?flow={id}", token,
            new JsonObject { ["method"] = "totp", ["totp_unlink"] = true }))).Json(HttpStatusCode.Forbidden);
        Assert.Equal("session_refresh_required", refused["error"]!["id"]!.GetValue<string>());
        Assert.Equal(RefreshLoginUrl(s, id), refused["redirect_browser_to"]!.GetValue<string>());
        Assert.NotNull(await Credential(s, identityId, "totp"));
        Assert.DoesNotContain("settings_continuity", await StoredContext(s, id), StringComparison.Ordinal);

        var get = await (await s.Public.SendAsync(WithToken(HttpMethod.Get, $"/self-service/settings?flow={id}", token))).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4010004L, MessageIds(get));
        Assert.NotNull(await Credential(s, identityId, "totp"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_html_recovery_code_regeneration_is_resumed_and_shows_the_codes(string db)
    {
        var s = await fixture.Get(db);
        using var browser = new Browser(s.PublicUrl);
        var email = await SignUp(browser);
        var flow = await BrowserFlow(browser, "settings", "/self-service/settings/browser");
        var id = flow["id"]!.GetValue<string>();
        Clock.Advance(Stale);

        // The button alone (no method), as the form posts it.
        var paused = await browser.PostForm($"/self-service/settings?flow={id}", [new("csrf_token", Csrf(flow)), new("lookup_secret_regenerate", "true")]);
        Assert.Equal(HttpStatusCode.SeeOther, paused.StatusCode);
        Assert.Equal(RefreshLoginUrl(s, id), paused.Headers.Location!.ToString());

        var back = await RefreshLogin(browser, paused.Headers.Location!.ToString(), email);
        var resumed = await browser.Client.GetAsync(back);
        Assert.Equal(HttpStatusCode.SeeOther, resumed.StatusCode);
        Assert.Equal($"{s.PublicUrl}/ui/settings?flow={id}", resumed.Headers.Location!.ToString());
        var shown = await (await browser.Client.GetAsync($"/self-service/settings/flows?id={id}")).Json(HttpStatusCode.OK);
        Assert.NotNull(Node(shown, "lookup_secret_confirm"));
        Assert.Contains(shown["ui"]!["nodes"]!.AsArray(), n => n!["attributes"]!["id"]?.GetValue<string>() == "lookup_secret_codes");
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_paused_password_change_is_kept_encrypted_finished_after_the_login_and_expires_after_15_minutes(string db)
    {
        var s = await fixture.Get(db);
        using var browser = new Browser(s.PublicUrl);
        var email = await SignUp(browser);
        var flow = await BrowserFlow(browser, "settings", "/self-service/settings/browser");
        var id = flow["id"]!.GetValue<string>();
        Clock.Advance(Stale);

        const string second = "second-fine-passphrase-81";
        var paused = await browser.PostForm($"/self-service/settings?flow={id}", [new("csrf_token", Csrf(flow)), new("method", "password"), new("password", second)]);
        Assert.Equal(RefreshLoginUrl(s, id), paused.Headers.Location!.ToString());
        Assert.DoesNotContain(second, await StoredContext(s, id), StringComparison.Ordinal);
        var back = await RefreshLogin(browser, paused.Headers.Location!.ToString(), email);
        Assert.Equal(HttpStatusCode.SeeOther, (await browser.Client.GetAsync(back)).StatusCode);
        var login = await ApiFlow(s.Public, "login");
        await (await s.Public.PostJson($"/self-service/login?flow={login["id"]}",
            new JsonObject { ["method"] = "password", ["identifier"] = email, ["password"] = second })).Json(HttpStatusCode.OK);

        // Paused again, but the browser comes back after the container's 15 minutes: nothing is finished.
        flow = await BrowserFlow(browser, "settings", "/self-service/settings/browser");
        id = flow["id"]!.GetValue<string>();
        Clock.Advance(Stale);
        const string third = "third-fine-passphrase-93";
        var late = await browser.PostForm($"/self-service/settings?flow={id}", [new("csrf_token", Csrf(flow)), new("method", "password"), new("password", third)]);
        Assert.Equal(RefreshLoginUrl(s, id), late.Headers.Location!.ToString());
        Clock.Advance(TimeSpan.FromMinutes(15) + TimeSpan.FromSeconds(1));
        back = await RefreshLogin(browser, late.Headers.Location!.ToString(), email, second);
        var expired = await browser.Client.GetAsync(back);
        Assert.Equal(HttpStatusCode.SeeOther, expired.StatusCode);
        Assert.Equal($"{s.PublicUrl}/ui/settings?flow={id}", expired.Headers.Location!.ToString());
        var shown = await (await browser.Client.GetAsync($"/self-service/settings/flows?id={id}")).Json(HttpStatusCode.OK);
        Assert.Contains(4010004L, MessageIds(shown));
        login = await ApiFlow(s.Public, "login");
        await (await s.Public.PostJson($"/self-service/login?flow={login["id"]}",
            new JsonObject { ["method"] = "password", ["identifier"] = email, ["password"] = second })).Json(HttpStatusCode.OK);
    }
}
