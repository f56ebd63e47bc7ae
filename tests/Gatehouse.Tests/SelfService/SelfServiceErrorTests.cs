using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Persistence;
using Gatehouse.SelfService.Errors;
using Gatehouse.Tests.Hooks;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

/// <summary>Servers for the error forwarding tests: the flow tests' settings, with every log line kept.</summary>
public sealed class ErrorServerFixture : IAsyncDisposable
{
    private readonly Dictionary<string, Task<TestServer>> _servers = [];
    private readonly Lock _lock = new();

    public LogCapture Logs { get; } = new();

    /// <summary>The server for a provider and scenario; <paramref name="extra"/> runs once, on top of the flow tests' settings.</summary>
    public Task<TestServer> Get(string provider, string scenario = "default", Action<GatehouseOptions>? extra = null)
    {
        lock (_lock)
        {
            if (!_servers.TryGetValue(provider + "/" + scenario, out var server))
            {
                server = TestServer.StartAsync(provider, o =>
                {
                    FlowServerFixture.Configure(o);
                    o.Log.Level = "info";
                    extra?.Invoke(o);
                }, services => services.AddSingleton<ILoggerProvider>(Logs));
                _servers[provider + "/" + scenario] = server;
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
/// Kratos's error forwarding: errors of browser requests that Kratos hands to <c>errorx.Manager.Forward</c> are stored and
/// answered with 303 to the error UI, which reads them back with <c>GET /self-service/errors?id=</c>.
/// </summary>
public sealed class SelfServiceErrorTests(ErrorServerFixture fixture) : IClassFixture<ErrorServerFixture>
{
    private const string Evil = "https://evil.example/";

    /// <summary>A 303 to the built-in error page; returns the stored error's id.</summary>
    private static Guid ForwardedId(TestServer s, HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        var location = response.Headers.Location!.ToString();
        Assert.StartsWith($"{s.PublicUrl}/ui/error?id=", location, StringComparison.Ordinal);
        return Guid.Parse(location[(location.IndexOf("?id=", StringComparison.Ordinal) + 4)..]);
    }

    private static async Task<JsonObject> FetchError(TestServer s, Guid id) =>
        (await (await s.Public.GetAsync($"/self-service/errors?id={id}")).Json(HttpStatusCode.OK)).AsObject();

    private static async Task<JsonObject> ForwardedError(TestServer s, HttpResponseMessage response) =>
        (await FetchError(s, ForwardedId(s, response)))["error"]!.AsObject();

    private static async Task<int> StoredErrorCount(TestServer s)
    {
        await using var scope = s.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<GatehouseDbContext>().SelfServiceErrors.CountAsync();
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_browser_error_is_stored_forwarded_with_303_and_read_back_with_the_same_content(string db)
    {
        var s = await fixture.Get(db);
        var url = "/self-service/login/browser?return_to=" + Uri.EscapeDataString(Evil);
        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        var direct = await (await spa.Client.GetAsync(url)).Error(HttpStatusCode.BadRequest);
        Assert.Equal("self_service_flow_return_to_forbidden", direct["id"]!.GetValue<string>());

        using var browser = new Browser(s.PublicUrl);
        var forwarded = await browser.Client.GetAsync(url);
        var id = ForwardedId(s, forwarded);
        Assert.Equal(7, id.Version);

        var response = await s.Public.GetAsync($"/self-service/errors?id={id}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var container = (await response.Json(HttpStatusCode.OK)).AsObject();
        // Kratos's flowError: id, error (the envelope's inner object), created_at, updated_at.
        Assert.Equal(["id", "error", "created_at", "updated_at"], container.Select(kv => kv.Key));
        Assert.Equal(id.ToString(), container["id"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(direct, container["error"]), $"{direct.ToJsonString()} != {container["error"]!.ToJsonString()}");
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", container["created_at"]!.GetValue<string>());
        Assert.Equal(container["created_at"]!.GetValue<string>(), container["updated_at"]!.GetValue<string>());

        // Reading marks it seen (Kratos's was_seen, seen_at); it stays readable, also under Kratos's older parameter name.
        await using (var scope = s.Services.CreateAsyncScope())
        {
            var stored = await scope.ServiceProvider.GetRequiredService<GatehouseDbContext>().SelfServiceErrors.AsNoTracking().SingleAsync(e => e.Id == id);
            Assert.True(stored.WasSeen);
            Assert.NotNull(stored.SeenAt);
        }
        var again = await (await s.Public.GetAsync($"/self-service/errors?error={id}")).Json(HttpStatusCode.OK);
        Assert.True(JsonNode.DeepEquals(container, again));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Json_requests_get_the_envelope_directly_and_nothing_is_stored(string db)
    {
        var s = await fixture.Get(db);
        var before = await StoredErrorCount(s);
        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        await (await spa.Client.GetAsync("/self-service/login/browser?return_to=" + Uri.EscapeDataString(Evil))).Error(HttpStatusCode.BadRequest);
        await (await spa.Client.GetAsync("/self-service/logout/browser")).Error(HttpStatusCode.Unauthorized);
        // A JSON body makes a request JSON whatever it accepts (Kratos's x.IsJSONRequest).
        using var browser = new Browser(s.PublicUrl);
        await (await browser.Client.PostJson($"/self-service/login?flow={Guid.NewGuid()}", new JsonObject { ["method"] = "password" })).Error(HttpStatusCode.NotFound);
        Assert.Equal(before, await StoredErrorCount(s));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Unknown_malformed_and_missing_ids_are_404_with_kratos_envelope(string db)
    {
        var s = await fixture.Get(db);
        foreach (var query in new[] { $"?id={Guid.NewGuid()}", "?id=not-a-uuid", "?id=", "", "?id=stub:404" })
        {
            var error = await (await s.Public.GetAsync("/self-service/errors" + query)).Error(HttpStatusCode.NotFound);
            // sqlcon.ErrNoRows: Kratos looks a malformed id up as the nil UUID, so it is not found either.
            Assert.Equal(["code", "status", "message"], error.Select(kv => kv.Key));
            Assert.Equal("Unable to locate the resource", error["message"]!.GetValue<string>());
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Stub_500_returns_kratos_stub_error(string db)
    {
        var s = await fixture.Get(db);
        var container = (await (await s.Public.GetAsync("/self-service/errors?id=stub:500")).Json(HttpStatusCode.OK)).AsObject();
        Assert.True(Guid.TryParse(container["id"]!.GetValue<string>(), out _));
        var expected = JsonNode.Parse("""
            {"code":500,"status":"Internal Server Error","reason":"This is a stub error.","message":"An internal server error occurred, please contact the system administrator"}
            """);
        Assert.True(JsonNode.DeepEquals(expected, container["error"]), container.ToJsonString());
        Assert.Equal("0001-01-01T00:00:00Z", container["created_at"]!.GetValue<string>());
        Assert.Equal("0001-01-01T00:00:00Z", container["updated_at"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_admin_listener_answers_307_to_the_public_route(string db)
    {
        var s = await fixture.Get(db);
        using var handler = new HttpClientHandler { AllowAutoRedirect = false };
        using var admin = new HttpClient(handler) { BaseAddress = new Uri(s.AdminUrl) };
        var response = await admin.GetAsync("/self-service/errors?id=stub:500");
        Assert.Equal(HttpStatusCode.TemporaryRedirect, response.StatusCode);
        Assert.Equal($"{s.PublicUrl}/self-service/errors?id=stub:500", response.Headers.Location!.ToString());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Errors_of_another_tenant_are_not_found(string db)
    {
        var s = await fixture.Get(db);
        var mine = Guid.CreateVersion7();
        var theirs = Guid.CreateVersion7();
        await using (var scope = s.Services.CreateAsyncScope())
        {
            var context = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
            var now = DateTime.UtcNow;
            context.SelfServiceErrors.Add(new SelfServiceError { Id = mine, Nid = context.Nid, Errors = """{"code":404,"status":"Not Found","message":"mine"}""", CreatedAt = now, UpdatedAt = now });
            context.SelfServiceErrors.Add(new SelfServiceError { Id = theirs, Nid = Guid.NewGuid(), Errors = """{"code":404,"status":"Not Found","message":"theirs"}""", CreatedAt = now, UpdatedAt = now });
            await context.SaveChangesAsync();
        }
        Assert.Equal("mine", (await FetchError(s, mine))["error"]!["message"]!.GetValue<string>());
        await (await s.Public.GetAsync($"/self-service/errors?id={theirs}")).Error(HttpStatusCode.NotFound);
        await using (var scope = s.Services.CreateAsyncScope())
        {
            var context = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
            Assert.False(await context.SelfServiceErrors.AnyAsync(e => e.Id == theirs));
            // Reading another tenant's id marked nothing of it seen.
            Assert.False((await context.SelfServiceErrors.IgnoreQueryFilters().SingleAsync(e => e.Id == theirs)).WasSeen);
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Submits_forward_errors_before_the_flow_is_known_and_a_browser_flows_csrf_violation(string db)
    {
        var s = await fixture.Get(db);
        using var browser = new Browser(s.PublicUrl);
        var unknown = await ForwardedError(s, await browser.PostForm($"/self-service/login?flow={Guid.NewGuid()}", [new("method", "password")]));
        Assert.Equal(404, unknown["code"]!.GetValue<int>());
        var malformed = await ForwardedError(s, await browser.PostForm("/self-service/registration?flow=not-a-uuid", [new("method", "password")]));
        Assert.Equal(400, malformed["code"]!.GetValue<int>());
        Assert.Equal("The flow query parameter is missing or malformed.", malformed["reason"]!.GetValue<string>());
        var link = await ForwardedError(s, await browser.Client.GetAsync($"/self-service/verification?flow={Guid.NewGuid()}&code=123456"));
        Assert.Equal(404, link["code"]!.GetValue<int>());

        // A browser flow posted without this browser's CSRF cookie (a forged post).
        var started = await browser.Client.GetAsync("/self-service/login/browser");
        var flowId = started.Headers.Location!.ToString().Split("flow=")[1];
        using var forger = new Browser(s.PublicUrl);
        var csrf = await ForwardedError(s, await forger.PostForm($"/self-service/login?flow={flowId}", [new("method", "password"), new("identifier", "a@example.com"), new("password", "x")]));
        Assert.Equal(403, csrf["code"]!.GetValue<int>());
        Assert.Equal("security_csrf_violation", csrf["id"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(csrf["details"]!["reject_reason"]!.GetValue<string>()));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_api_flow_never_forwards_its_errors(string db)
    {
        var s = await fixture.Get(db);
        var (_, token, _) = await RegisterApi(s);
        using var native = new HttpClient { BaseAddress = new Uri(s.PublicUrl) };
        native.DefaultRequestHeaders.Add("X-Session-Token", token);
        var flow = await ApiFlow(native, "settings");
        // Form-encoded and without Accept (not JSON), but the flow is an API flow: Kratos answers directly. (Without any
        // session Kratos's settings routes answer before the flow is known: a 302 to the login UI, see SettingsFlowTests.)
        var (_, other, _) = await RegisterApi(s);
        using var form = new HttpRequestMessage(HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}")
        {
            Content = new FormUrlEncodedContent([new("method", "password"), new("password", GoodPassword + "!")]),
        };
        form.Headers.Add("X-Session-Token", other);
        using var plain = new HttpClient { BaseAddress = new Uri(s.PublicUrl) };
        var response = await plain.SendAsync(form);
        Assert.Equal("security_identity_mismatch", (await response.Error(HttpStatusCode.Forbidden))["id"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Logout_errors_are_forwarded_and_the_logout_token_reaches_neither_the_store_nor_the_log(string db)
    {
        var s = await fixture.Get(db);
        using var browser = new Browser(s.PublicUrl);
        var noSession = await ForwardedError(s, await browser.Client.GetAsync("/self-service/logout/browser"));
        Assert.Equal(401, noSession["code"]!.GetValue<int>());

        const string token = "ory_lo_b9d2e6f1a8c34d07a5e2c9f4b1d86e3a";
        var id = ForwardedId(s, await browser.Client.GetAsync($"/self-service/logout?token={token}"));
        var stored = await FetchError(s, id);
        Assert.Equal(401, stored["error"]!["code"]!.GetValue<int>());
        Assert.DoesNotContain(token, stored.ToJsonString(), StringComparison.Ordinal);
        var lines = fixture.Logs.Lines;
        Assert.Contains(lines, l => l.Contains(id.ToString(), StringComparison.Ordinal) && l.Contains("/self-service/logout", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains(token, StringComparison.Ordinal));

        // The native logout answers directly, as in Kratos.
        var api = await browser.Client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/self-service/logout/api") { Content = new StringContent("session_token=x") });
        await api.Error(HttpStatusCode.BadRequest);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Disabled_recovery_and_verification_are_forwarded_on_the_init_and_fetch_routes(string db)
    {
        var s = await fixture.Get(db);
        Assert.False(s.Options.Selfservice.Flows.Recovery.Enabled);
        Assert.False(s.Options.Selfservice.Flows.Verification.Enabled);
        using var browser = new Browser(s.PublicUrl);
        foreach (var url in new[]
        {
            "/self-service/recovery/browser", $"/self-service/recovery/flows?id={Guid.NewGuid()}",
            "/self-service/verification/browser", $"/self-service/verification/flows?id={Guid.NewGuid()}",
        })
        {
            var error = await ForwardedError(s, await browser.Client.GetAsync(url));
            Assert.Equal("self_service_flow_disabled", error["id"]!.GetValue<string>());
        }
        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        await (await spa.Client.GetAsync("/self-service/recovery/api")).Error(HttpStatusCode.BadRequest);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_configured_error_ui_url_keeps_its_query_and_only_kratos_forwarded_cases_go_there(string db)
    {
        var s = await fixture.Get(db, "custom-ui", o =>
        {
            o.Selfservice.Flows.Error.UiUrl = "https://app.example.com/errors?theme=dark";
            o.Selfservice.Flows.Registration.Enabled = false;
            o.Selfservice.Flows.Verification.Enabled = true;
        });
        using var browser = new Browser(s.PublicUrl);
        var response = await browser.Client.GetAsync($"/self-service/registration/flows?id={Guid.NewGuid()}");
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.Equal("https://app.example.com/errors", location.GetLeftPart(UriPartial.Path));
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(location.Query);
        Assert.Equal("dark", query["theme"].ToString());
        var error = (await FetchError(s, Guid.Parse(query["id"].ToString())))["error"]!;
        Assert.Equal("self_service_flow_disabled", error["id"]!.GetValue<string>());
        Assert.Equal("registration flow disabled", error["message"]!.GetValue<string>());

        // Kratos answers a verification init's forbidden return_to directly, also to browsers.
        var refused = await browser.Client.GetAsync("/self-service/verification/browser?return_to=" + Uri.EscapeDataString(Evil));
        Assert.Equal("self_service_flow_return_to_forbidden", (await refused.Error(HttpStatusCode.BadRequest))["id"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Settings_submits_without_a_session_or_with_an_old_one_send_the_browser_to_sign_in(string db)
    {
        var s = await fixture.Get(db);
        using var browser = new Browser(s.PublicUrl);
        var registration = await browser.Client.GetAsync("/self-service/registration/browser");
        var regId = registration.Headers.Location!.ToString().Split("flow=")[1];
        var regFlow = await (await browser.Client.GetAsync($"/self-service/registration/flows?id={regId}")).Json(HttpStatusCode.OK);
        var done = await browser.PostForm($"/self-service/registration?flow={regId}",
            [new("csrf_token", Csrf(regFlow)), new("method", "password"), new("traits.email", HttpAssertions.UniqueEmail("settings-err")), new("password", GoodPassword)]);
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        var started = await browser.Client.GetAsync("/self-service/settings/browser");
        var flowId = started.Headers.Location!.ToString().Split("flow=")[1];
        var flow = await (await browser.Client.GetAsync($"/self-service/settings/flows?id={flowId}")).Json(HttpStatusCode.OK);

        // Signed in long ago: changing the password needs a fresh sign-in (Kratos's reauthenticate: 303 for browsers).
        var whoami = await (await browser.Client.GetAsync("/sessions/whoami")).Json(HttpStatusCode.OK);
        await Sessions.SessionFixtures.Update(s, Guid.Parse(whoami["id"]!.GetValue<string>()), x => x.AuthenticatedAt = DateTime.UtcNow.AddHours(-2));
        var old = await browser.PostForm($"/self-service/settings?flow={flowId}", [new("csrf_token", Csrf(flow)), new("method", "password"), new("password", GoodPassword + "-new")]);
        Assert.Equal(HttpStatusCode.SeeOther, old.StatusCode);
        Assert.StartsWith($"{s.PublicUrl}/self-service/login/browser?refresh=true&return_to=", old.Headers.Location!.ToString(), StringComparison.Ordinal);

        // Without the session cookie (only the CSRF cookie): sign in first — Kratos's OnUnauthenticated, a 302 to the login UI.
        using var signedOutBrowser = new Browser(s.PublicUrl);
        signedOutBrowser.Cookies.Add(new Uri(s.PublicUrl), browser.Cookies.GetAllCookies().Single(c => c.Name.StartsWith("csrf_token_", StringComparison.Ordinal)));
        var signedOut = await signedOutBrowser.PostForm($"/self-service/settings?flow={flowId}", [new("csrf_token", Csrf(flow)), new("method", "password"), new("password", GoodPassword + "-new")]);
        Assert.Equal(HttpStatusCode.Found, signedOut.StatusCode);
        Assert.Equal($"{s.PublicUrl}/ui/login", signedOut.Headers.Location!.ToString());
    }
}
