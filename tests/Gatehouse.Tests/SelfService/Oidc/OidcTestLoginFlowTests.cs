using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Persistence;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.SelfService.Oidc;

/// <summary>One upstream provider and one Gatehouse per database for the test login flow tests, with mappers that work, fail and mis-map.</summary>
public sealed class OidcTestFlowFixture : IAsyncDisposable
{
    private const string BrokenMapper = """
        local claims = std.extVar('claims');
        std.trace('mapping ' + claims.sub, error 'no mapping for this account')
        """;

    private const string InvalidMapper = """
        local claims = std.extVar('claims');
        { identity: { traits: { email: 'not-an-email' }, metadata_public: { subject: claims.sub } } }
        """;

    private readonly Dictionary<string, Task<TestServer>> _servers = [];
    private readonly Lock _lock = new();
    private Task<TestOpenIdProvider>? _idp;

    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    public Task<TestOpenIdProvider> Idp()
    {
        lock (_lock) return _idp ??= TestOpenIdProvider.StartAsync();
    }

    public async Task<TestServer> Get(string db)
    {
        var idp = await Idp();
        Task<TestServer> server;
        lock (_lock)
        {
            if (!_servers.TryGetValue(db, out server!))
            {
                OidcProviderOptions Provider(string id, string mapper) => new()
                {
                    Id = id, Provider = "generic", Label = id == "test-idp" ? "Test IdP" : "", ClientId = TestOpenIdProvider.ClientId,
                    ClientSecret = TestOpenIdProvider.ClientSecret, IssuerUrl = idp.Issuer, Scope = ["email"],
                    MapperUrl = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(mapper)),
                };
                server = TestServer.StartAsync(db, o =>
                {
                    FlowServerFixture.Configure(o);
                    o.Selfservice.Flows.Registration.After.Oidc = new FlowAfterMethodOptions { Hooks = [new HookConfig { Hook = "session" }] };
                    o.Selfservice.Methods.Oidc.Enabled = true;
                    o.Selfservice.Methods.Oidc.Config.Providers =
                        [Provider("test-idp", OidcServerFixture.Mapper), Provider("broken", BrokenMapper), Provider("invalid", InvalidMapper)];
                }, services => services.AddSingleton<TimeProvider>(Clock));
                _servers[db] = server;
            }
        }
        return await server;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _servers.Values)
        {
            if (s.IsCompletedSuccessfully) await s.Result.DisposeAsync();
        }
        if (_idp is { IsCompletedSuccessfully: true }) await _idp.Result.DisposeAsync();
    }
}

/// <summary>
/// Kratos's dry-run social sign-in test (<c>POST /admin/test-login-flows</c>, <c>DELETE /self-service/login/test</c>,
/// <c>loginFlow.test_context</c>): the flow offers one provider; its callback captures claims, mapper input, output and
/// trace, the schema's verdict or the failed step, and writes no identity and no session; after the capture only the
/// browser holding the <c>ory_kratos_test_flow</c> cookie reads or deletes it.
/// </summary>
public sealed class OidcTestLoginFlowTests(OidcTestFlowFixture fixture) : IClassFixture<OidcTestFlowFixture>
{
    private static async Task<JsonNode> CreateTestFlow(TestServer s, string provider = "test-idp") =>
        await (await s.AdminWithKey.PostJson("/admin/test-login-flows", new JsonObject { ["provider_id"] = provider }.ToJsonString())).Json(HttpStatusCode.Created);

    private static async Task<HttpResponseMessage> Fetch(HttpClient client, string id)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/self-service/login/flows?id={id}");
        request.Headers.Accept.ParseAdd("application/json");
        return await client.SendAsync(request);
    }

    private static async Task<(long Identities, long Sessions, long Flows)> Rows(TestServer s)
    {
        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        return (await db.Identities.LongCountAsync(), await db.Sessions.LongCountAsync(), await db.Flows.LongCountAsync());
    }

    /// <summary>The tester's browser submits the flow's one button and comes back from the provider with <paramref name="callbackQuery"/> (null: a code for the claims).</summary>
    private async Task<HttpResponseMessage> RoundTrip(Browser browser, JsonNode flow, JsonObject? claims, string? callbackQuery = null)
    {
        var id = (string)flow["id"]!;
        var provider = (string)flow["test_context"]!["provider_id"]!;
        var bearer = (string)flow["ui"]!["nodes"]![0]!["attributes"]!["value"]!;
        var submit = await browser.PostForm($"/self-service/login?flow={id}", [new("csrf_token", bearer), new("provider", provider)]);
        Assert.Equal(HttpStatusCode.SeeOther, submit.StatusCode);
        var q = QueryHelpers.ParseQuery(submit.Headers.Location!.Query);
        Assert.Equal("login", q["prompt"].ToString());
        var state = Uri.EscapeDataString(q["state"].ToString());
        if (callbackQuery is not null) return await browser.Client.GetAsync($"/self-service/methods/oidc/callback/{provider}?state={state}&{callbackQuery}");
        var idp = await fixture.Idp();
        claims!["nonce"] = q["nonce"].ToString();
        var code = idp.AddCode(new TestOpenIdProvider.Grant(claims, q["code_challenge"].ToString(), q["redirect_uri"].ToString()));
        return await browser.Client.GetAsync($"/self-service/methods/oidc/callback/{provider}?state={state}&code={code}");
    }

    private async Task<JsonObject> Claims(string subject) => (await fixture.Idp()).Claims(subject, fixture.Clock.GetUtcNow(), null);

    private static string NewSubject() => "sub-" + Guid.NewGuid().ToString("N")[..10];

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Create_answers_201_with_a_login_flow_scoped_to_the_provider_as_Kratos(string db)
    {
        var s = await fixture.Get(db);
        var flow = await CreateTestFlow(s);
        Assert.Equal("browser", (string?)flow["type"]);
        Assert.Equal("choose_method", (string?)flow["state"]);
        Assert.True((bool)flow["refresh"]!);
        Assert.Equal("aal1", (string?)flow["requested_aal"]);
        Assert.Equal(new JsonObject { ["provider_id"] = "test-idp" }.ToJsonString(), flow["test_context"]!.ToJsonString());
        Assert.Equal($"{s.PublicUrl}/self-service/login?flow={flow["id"]}", (string?)flow["ui"]!["action"]);
        // Kratos's snapshot: the CSRF bearer and the one provider's button, nothing else.
        var nodes = flow["ui"]!["nodes"]!.AsArray();
        Assert.Equal(2, nodes.Count);
        var csrf = nodes[0]!;
        Assert.Equal("default", (string?)csrf["group"]);
        Assert.Equal("csrf_token", (string?)csrf["attributes"]!["name"]);
        Assert.Equal("hidden", (string?)csrf["attributes"]!["type"]);
        Assert.True((bool)csrf["attributes"]!["required"]!);
        Assert.True(Guid.TryParse((string?)csrf["attributes"]!["value"], out _));
        var button = nodes[1]!;
        Assert.Equal("oidc", (string?)button["group"]);
        Assert.Equal("""{"name":"provider","type":"submit","value":"test-idp","disabled":false,"node_type":"input"}""", button["attributes"]!.ToJsonString());
        Assert.Equal("""{"id":1010002,"text":"Sign in with Test IdP","type":"info","context":{"provider":"Test IdP","provider_id":"test-idp"}}""",
            button["meta"]!["label"]!.ToJsonString());
        // A provider without a label is named by its id.
        var broken = await CreateTestFlow(s, "broken");
        Assert.Equal("Sign in with broken", (string?)broken["ui"]!["nodes"]![1]!["meta"]!["label"]!["text"]);

        // Anyone with the id reads it until the callback captured (no CSRF cookie is bound to it).
        var fetched = await (await Fetch(s.Public, (string)flow["id"]!)).Json(HttpStatusCode.OK);
        Assert.Equal("test-idp", (string?)fetched["test_context"]!["provider_id"]);
        Assert.Null(fetched["test_context"]!["debug_payload"]);

        // The admin listener without the prefix, and /admin on the public listener with the key; not without the key.
        Assert.Equal(HttpStatusCode.Created, (await s.AdminWithKey.PostJson("/test-login-flows", """{"provider_id":"test-idp"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await s.PublicWithKey.PostJson("/admin/test-login-flows", """{"provider_id":"test-idp"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.Public.PostJson("/admin/test-login-flows", """{"provider_id":"test-idp"}""")).StatusCode);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Create_refuses_an_unknown_provider_with_404_and_bad_bodies_with_400_and_makes_no_flow(string db)
    {
        var s = await fixture.Get(db);
        var before = await Rows(s);
        var unknown = await (await s.AdminWithKey.PostJson("/admin/test-login-flows", """{"provider_id":"nonesuch"}""")).Error(HttpStatusCode.NotFound);
        Assert.Equal("OpenID Connect provider \"nonesuch\" is not configured", (string?)unknown["reason"]);
        foreach (var (body, reason) in new[]
        {
            ("{}", "provider_id is required"),
            ("""{"provider_id":""}""", "provider_id is required"),
            ("null", "provider_id is required"),
            ("""{"provider_id":"%"}""".Replace("%", new string('a', 256), StringComparison.Ordinal), "provider_id must be at most 255 characters"),
            ("""{"provider_id":42}""", "could not parse request body"),
            ("[]", "could not parse request body"),
            ("{", "could not parse request body"),
            ("", "could not parse request body"),
        })
        {
            var error = await (await s.AdminWithKey.PostJson("/admin/test-login-flows", body)).Error(HttpStatusCode.BadRequest);
            Assert.Equal(reason, (string?)error["reason"]);
        }
        Assert.Equal(before, await Rows(s));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_callback_captures_claims_and_mapper_output_and_writes_no_identity_and_no_session(string db)
    {
        var s = await fixture.Get(db);
        var flow = await CreateTestFlow(s);
        var id = (string)flow["id"]!;
        var subject = NewSubject();
        using var browser = new Browser(s.PublicUrl);
        var before = await Rows(s);

        var done = await RoundTrip(browser, flow, await Claims(subject));
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        Assert.Equal($"{s.PublicUrl}/session/test-oidc?flow={id}", done.Headers.Location!.ToString());
        Assert.NotNull(browser.Cookie("ory_kratos_test_flow"));
        Assert.Null(browser.Cookie("ory_kratos_session"));
        Assert.Equal((before.Identities, before.Sessions), ((await Rows(s)).Identities, (await Rows(s)).Sessions));

        var captured = await (await Fetch(browser.Client, id)).Json(HttpStatusCode.OK);
        Assert.Equal("passed_challenge", (string?)captured["state"]);
        var payload = captured["test_context"]!["debug_payload"]!;
        Assert.Null(payload["error"]);
        Assert.Equal(subject, (string?)payload["id_token_claims"]!["sub"]);
        Assert.Equal(subject, (string?)payload["jsonnet_input"]!["sub"]);
        Assert.Equal(subject, (string?)payload["jsonnet_input"]!["raw_claims"]!["sub"]);
        Assert.StartsWith("base64://", (string?)payload["jsonnet_mapper_url"], StringComparison.Ordinal);
        Assert.Equal($"{subject}@idp.test", (string?)payload["jsonnet_output"]!["identity"]!["traits"]!["email"]);
        Assert.Null(payload["schema_validation_errors"]);
        // No bearer tokens, not even the ID token.
        var text = payload.ToJsonString();
        Assert.DoesNotContain("\"at-", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\"rt-", text, StringComparison.Ordinal);
        Assert.DoesNotContain("id_token\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("access_token", text, StringComparison.Ordinal);

        // The captured payload is the callback's browser's alone.
        var refused = await (await Fetch(s.Public, id)).Error(HttpStatusCode.Forbidden);
        Assert.StartsWith("missing or invalid CSRF token", (string?)refused["reason"], StringComparison.Ordinal);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_failing_mapper_and_a_schema_invalid_mapping_are_captured_as_step_errors(string db)
    {
        var s = await fixture.Get(db);
        var before = await Rows(s);

        var brokenFlow = await CreateTestFlow(s, "broken");
        var subject = NewSubject();
        using var first = new Browser(s.PublicUrl);
        Assert.Equal(HttpStatusCode.SeeOther, (await RoundTrip(first, brokenFlow, await Claims(subject))).StatusCode);
        var broken = (await (await Fetch(first.Client, (string)brokenFlow["id"]!)).Json(HttpStatusCode.OK))["test_context"]!["debug_payload"]!;
        Assert.Equal("jsonnet_run", (string?)broken["error"]!["step"]);
        Assert.Equal("evaluation_failed", (string?)broken["error"]!["reason"]);
        Assert.Contains("no mapping for this account", (string?)broken["error"]!["message"], StringComparison.Ordinal);
        Assert.Contains("mapping " + subject, (string?)broken["jsonnet_stderr"], StringComparison.Ordinal);
        Assert.Equal(subject, (string?)broken["id_token_claims"]!["sub"]);
        Assert.Null(broken["jsonnet_output"]);

        var invalidFlow = await CreateTestFlow(s, "invalid");
        using var second = new Browser(s.PublicUrl);
        Assert.Equal(HttpStatusCode.SeeOther, (await RoundTrip(second, invalidFlow, await Claims(NewSubject()))).StatusCode);
        var invalid = (await (await Fetch(second.Client, (string)invalidFlow["id"]!)).Json(HttpStatusCode.OK))["test_context"]!["debug_payload"]!;
        Assert.Equal("schema_validate", (string?)invalid["error"]!["step"]);
        Assert.Equal("traits_invalid", (string?)invalid["error"]!["reason"]);
        Assert.Equal("not-an-email", (string?)invalid["jsonnet_output"]!["identity"]!["traits"]!["email"]);
        var violation = invalid["schema_validation_errors"]!.AsArray().Single()!;
        Assert.Equal("/traits/email", (string?)violation["path"]);
        Assert.False(string.IsNullOrEmpty((string?)violation["message"]));

        // The provider refusing is the provider_denied step.
        var deniedFlow = await CreateTestFlow(s);
        using var third = new Browser(s.PublicUrl);
        Assert.Equal(HttpStatusCode.SeeOther, (await RoundTrip(third, deniedFlow, null, "error=access_denied&error_description=no")).StatusCode);
        var denied = (await (await Fetch(third.Client, (string)deniedFlow["id"]!)).Json(HttpStatusCode.OK))["test_context"]!["debug_payload"]!;
        Assert.Equal("""{"step":"provider_denied","reason":"access_denied","message":"Unable to complete OpenID Connect flow because the OpenID Provider returned error \u0022access_denied\u0022: no"}""",
            denied["error"]!.ToJsonString());

        var after = await Rows(s);
        Assert.Equal((before.Identities, before.Sessions), (after.Identities, after.Sessions));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_test_flow_takes_only_its_bearer_token_and_its_provider(string db)
    {
        var s = await fixture.Get(db);
        var flow = await CreateTestFlow(s);
        var id = (string)flow["id"]!;
        using var browser = new Browser(s.PublicUrl, acceptJson: true);
        var wrongToken = await browser.PostForm($"/self-service/login?flow={id}", [new("csrf_token", Guid.NewGuid().ToString()), new("provider", "test-idp")]);
        Assert.Equal("security_csrf_violation", (string?)(await wrongToken.Error(HttpStatusCode.Forbidden))["id"]);
        var bearer = (string)flow["ui"]!["nodes"]![0]!["attributes"]!["value"]!;
        var otherProvider = await (await browser.PostForm($"/self-service/login?flow={id}", [new("csrf_token", bearer), new("provider", "broken")])).Json(HttpStatusCode.BadRequest);
        Assert.Contains("\"test-idp\" only", (string?)otherProvider["ui"]!["messages"]![0]!["text"], StringComparison.Ordinal);
        var password = await (await browser.PostForm($"/self-service/login?flow={id}",
            [new("csrf_token", bearer), new("method", "password"), new("identifier", "a@b.test"), new("password", "x")])).Json(HttpStatusCode.BadRequest);
        Assert.Equal(4010002, (long)password["ui"]!["messages"]![0]!["id"]!);
        Assert.Equal("choose_method", (string?)(await (await Fetch(s.Public, id)).Json(HttpStatusCode.OK))["state"]);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Delete_before_the_capture_needs_only_the_id(string db)
    {
        var s = await fixture.Get(db);
        var flow = await CreateTestFlow(s);
        var id = (string)flow["id"]!;
        Assert.Equal(HttpStatusCode.NoContent, (await s.Public.DeleteAsync($"/self-service/login/test?id={id}")).StatusCode);
        await (await Fetch(s.Public, id)).Error(HttpStatusCode.NotFound);
        await (await s.Public.DeleteAsync($"/self-service/login/test?id={id}")).Error(HttpStatusCode.NotFound);

        Assert.Equal("invalid flow id", (string?)(await (await s.Public.DeleteAsync("/self-service/login/test?id=not-a-uuid")).Error(HttpStatusCode.BadRequest))["reason"]);
        await (await s.Public.DeleteAsync("/self-service/login/test")).Error(HttpStatusCode.BadRequest);

        // A user's login flow is not a test flow: 404, and it stays.
        var login = await FlowTestHelpers.ApiFlow(s.Public, "login");
        await (await s.Public.DeleteAsync($"/self-service/login/test?id={login["id"]}")).Error(HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.OK, (await Fetch(s.Public, (string)login["id"]!)).StatusCode);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Delete_after_the_capture_needs_the_cookie_the_callback_set(string db)
    {
        var s = await fixture.Get(db);
        var flow = await CreateTestFlow(s);
        var id = (string)flow["id"]!;
        using var browser = new Browser(s.PublicUrl);
        Assert.Equal(HttpStatusCode.SeeOther, (await RoundTrip(browser, flow, await Claims(NewSubject()))).StatusCode);

        await (await s.Public.DeleteAsync($"/self-service/login/test?id={id}")).Error(HttpStatusCode.Forbidden);
        using (var forged = new HttpRequestMessage(HttpMethod.Delete, $"/self-service/login/test?id={id}"))
        {
            forged.Headers.Add("Cookie", "ory_kratos_test_flow=" + browser.Cookie("ory_kratos_test_flow")!.Value[..^2] + "AA");
            await (await s.Public.SendAsync(forged)).Error(HttpStatusCode.Forbidden);
        }
        Assert.Equal(HttpStatusCode.OK, (await Fetch(browser.Client, id)).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await browser.Client.DeleteAsync($"/self-service/login/test?id={id}")).StatusCode);
        Assert.Null(browser.Cookie("ory_kratos_test_flow"));
        await (await Fetch(s.Public, id)).Error(HttpStatusCode.NotFound);
    }
}
