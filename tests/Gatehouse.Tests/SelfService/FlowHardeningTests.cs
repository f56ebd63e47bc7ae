using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Persistence;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

/// <summary>Findings of the flow review: each test failed before its fix.</summary>
public sealed class FlowHardeningTests(FlowServerFixture fixture) : IClassFixture<FlowServerFixture>
{
    /// <summary>A username identifier, and an email that is a verification and recovery address but no identifier.</summary>
    private const string ContactSchema = """
    {
      "$schema": "http://json-schema.org/draft-07/schema#",
      "type": "object",
      "properties": {
        "traits": {
          "type": "object",
          "properties": {
            "username": { "type": "string", "minLength": 2, "ory.sh/kratos": { "credentials": { "password": { "identifier": true } } } },
            "email": { "type": "string", "format": "email", "ory.sh/kratos": { "verification": { "via": "email" }, "recovery": { "via": "email" } } },
            "nickname": { "type": "string" }
          },
          "required": ["username"]
        }
      }
    }
    """;

    private static IdentitySchemaEntry Schema(string id, string json, bool selectable) =>
        new() { Id = id, Url = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(json)), SelfserviceSelectable = selectable };

    private static Task<TestServer> Flows(FlowServerFixture f, string db) => f.Get(db, "hardening", o =>
    {
        o.Selfservice.Flows.Verification.Enabled = true;
        o.Selfservice.Flows.Recovery.Enabled = true;
    });

    // --- ?identity_schema= ---------------------------------------------------------------------------------------

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Registration_picks_only_the_default_or_a_selfservice_selectable_schema(string db)
    {
        var s = await fixture.Get(db, "selectable", o => o.Identity.Schemas =
        [
            Schema("default", TestSchemas.Default, selectable: false),
            Schema("customer", TestSchemas.Customer, selectable: false),
            Schema("contact", ContactSchema, selectable: true),
        ]);
        var refused = await (await s.Public.GetAsync("/self-service/registration/api?identity_schema=customer")).Error(HttpStatusCode.BadRequest);
        Assert.Equal("Requested identity schema \"customer\" is not enabled for self-service flows.", refused["reason"]!.GetValue<string>());
        var unknown = await (await s.Public.GetAsync("/self-service/registration/api?identity_schema=nope")).Error(HttpStatusCode.BadRequest);
        Assert.Equal("Requested identity schema \"nope\" does not exist.", unknown["reason"]!.GetValue<string>());

        var contact = await (await s.Public.GetAsync("/self-service/registration/api?identity_schema=contact")).Json(HttpStatusCode.OK);
        Assert.NotNull(Node(contact, "traits.username"));
        var byDefault = await (await s.Public.GetAsync("/self-service/registration/api?identity_schema=default")).Json(HttpStatusCode.OK);
        Assert.NotNull(Node(byDefault, "traits.email"));
        Assert.Null(Node(byDefault, "traits.username"));
    }

    // --- settings: recovery and verification addresses are protected ---------------------------------------------

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Settings_needs_a_recent_login_to_change_a_recovery_or_verification_address(string db)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var s = await TestServer.StartAsync(db, o =>
        {
            FlowServerFixture.Configure(o);
            o.Identity.Schemas = [Schema("default", TestSchemas.Default, false), Schema("contact", ContactSchema, false)];
            o.Selfservice.Flows.Settings.PrivilegedSessionMaxAge = TimeSpan.FromMinutes(15);
        }, services => services.AddSingleton<TimeProvider>(clock));
        var username = "user-" + Guid.NewGuid().ToString("N")[..10];
        var email = HttpAssertions.UniqueEmail("contact");
        var created = await (await s.AdminWithKey.PostJson("/admin/identities", new JsonObject
        {
            ["schema_id"] = "contact",
            ["traits"] = new JsonObject { ["username"] = username, ["email"] = email },
            ["credentials"] = new JsonObject { ["password"] = new JsonObject { ["config"] = new JsonObject { ["password"] = GoodPassword } } },
        })).Json(HttpStatusCode.Created);
        var id = created["id"]!.GetValue<string>();
        var login = await ApiFlow(s.Public, "login");
        var signedIn = await (await s.Public.PostJson($"/self-service/login?flow={login["id"]}",
            new JsonObject { ["method"] = "password", ["identifier"] = username, ["password"] = GoodPassword })).Json(HttpStatusCode.OK);
        var token = signedIn["session_token"]!.GetValue<string>();

        // Past privileged_session_max_age.
        clock.Advance(TimeSpan.FromMinutes(20));
        async Task<HttpResponseMessage> SaveProfile(JsonObject traits)
        {
            using var init = new HttpRequestMessage(HttpMethod.Get, "/self-service/settings/api");
            init.Headers.Add("X-Session-Token", token);
            var flow = await (await s.Public.SendAsync(init)).Json(HttpStatusCode.OK);
            using var submit = new HttpRequestMessage(HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}")
            {
                Content = new StringContent(new JsonObject { ["method"] = "profile", ["traits"] = traits }.ToJsonString(), Encoding.UTF8, "application/json"),
            };
            submit.Headers.Add("X-Session-Token", token);
            return await s.Public.SendAsync(submit);
        }

        var before = (await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}")).Json(HttpStatusCode.OK)).ToJsonString();
        var refused = await (await SaveProfile(new JsonObject { ["username"] = username, ["email"] = HttpAssertions.UniqueEmail("taken-over") })).Json(HttpStatusCode.Forbidden);
        Assert.Equal("session_refresh_required", refused["error"]!["id"]!.GetValue<string>());
        Assert.Contains("/self-service/login/browser?refresh=true", refused["redirect_browser_to"]!.GetValue<string>());
        // Removing the address is a change of it too.
        await (await SaveProfile(new JsonObject { ["username"] = username })).Json(HttpStatusCode.Forbidden);
        Assert.Equal(before, (await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}")).Json(HttpStatusCode.OK)).ToJsonString());

        // Other traits still change with an old session.
        var saved = await (await SaveProfile(new JsonObject { ["username"] = username, ["email"] = email, ["nickname"] = "ada" })).Json(HttpStatusCode.OK);
        Assert.Equal("success", saved["state"]!.GetValue<string>());
    }

    // --- API flows ------------------------------------------------------------------------------------------------

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Api_init_of_disabled_recovery_and_verification_answers_json_400_not_a_redirect(string db)
    {
        var s = await fixture.Get(db);
        Assert.False(s.Options.Selfservice.Flows.Recovery.Enabled);
        // A native app's plain HTTP client, which asks for no particular content type.
        using var browserLike = new Browser(s.PublicUrl);
        foreach (var kind in new[] { "recovery", "verification" })
        {
            var response = await browserLike.Client.GetAsync($"/self-service/{kind}/api");
            var error = await response.Error(HttpStatusCode.BadRequest);
            Assert.Equal("self_service_flow_disabled", error["id"]!.GetValue<string>());
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Api_flows_refuse_submits_that_carry_an_origin_header_or_browser_cookies(string db)
    {
        var s = await Flows(fixture, db);
        var (email, token, _) = await RegisterApi(s);
        var bodies = new Dictionary<string, JsonObject>
        {
            ["login"] = new() { ["method"] = "password", ["identifier"] = email, ["password"] = GoodPassword },
            ["registration"] = new() { ["method"] = "password", ["password"] = GoodPassword, ["traits"] = new JsonObject { ["email"] = HttpAssertions.UniqueEmail("origin") } },
            ["recovery"] = new() { ["method"] = "code", ["email"] = email },
            ["verification"] = new() { ["method"] = "code", ["email"] = email },
            ["settings"] = new() { ["method"] = "profile", ["traits"] = new JsonObject { ["email"] = email } },
        };
        foreach (var (kind, body) in bodies)
        {
            using var init = new HttpRequestMessage(HttpMethod.Get, $"/self-service/{kind}/api");
            if (kind == "settings") init.Headers.Add("X-Session-Token", token);
            var flow = await (await s.Public.SendAsync(init)).Json(HttpStatusCode.OK);
            HttpRequestMessage Submit(string header, string value)
            {
                var r = new HttpRequestMessage(HttpMethod.Post, $"/self-service/{kind}?flow={flow["id"]}")
                {
                    Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
                };
                r.Headers.Add(header, value);
                if (kind == "settings") r.Headers.Add("X-Session-Token", token);
                return r;
            }
            using var withOrigin = Submit("Origin", "https://app.example.com");
            var origin = await (await s.Public.SendAsync(withOrigin)).Error(HttpStatusCode.BadRequest);
            Assert.StartsWith("The HTTP Request Header included the \"Origin\" key", origin["reason"]!.GetValue<string>(), StringComparison.Ordinal);
            using var withCookies = Submit("Cookie", "ory_kratos_session=abc; csrf_token_0123=def; __cf_bm=ok");
            var cookies = await (await s.Public.SendAsync(withCookies)).Error(HttpStatusCode.BadRequest);
            Assert.StartsWith("The HTTP Request Header included the \"Cookie\" key", cookies["reason"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Equal("[\"ory_kratos_session\",\"csrf_token_0123\"]", cookies["details"]!["found cookies"]!.ToJsonString());
        }
        // Cloudflare's own cookies are no sign of a browser-made request (Kratos ignores them too).
        var login = await ApiFlow(s.Public, "login");
        using var cloudflare = new HttpRequestMessage(HttpMethod.Post, $"/self-service/login?flow={login["id"]}")
        {
            Content = new StringContent(bodies["login"].ToJsonString(), Encoding.UTF8, "application/json"),
        };
        cloudflare.Headers.Add("Cookie", "__cf_bm=1; _cfuvid=2; cf_clearance=3");
        await (await s.Public.SendAsync(cloudflare)).Json(HttpStatusCode.OK);
    }

    // --- the email field of recovery and verification -----------------------------------------------------------

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Recovery_and_verification_refuse_an_email_that_is_not_an_email_address_and_mail_nothing(string db)
    {
        var s = await Flows(fixture, db);
        foreach (var kind in new[] { "recovery", "verification" })
        {
            foreach (var bad in new[] { "not-an-email", "a@b@example.com", "two words@example.com", "x@example.com\r\nBcc: y@example.com" })
            {
                var flow = await ApiFlow(s.Public, kind);
                var answer = await (await s.Public.PostJson($"/self-service/{kind}?flow={flow["id"]}", new JsonObject { ["method"] = "code", ["email"] = bad })).Json(HttpStatusCode.BadRequest);
                var message = Node(answer, "email")!["messages"]!.AsArray().Single()!;
                Assert.Equal(4000040, message["id"]!.GetValue<long>());
                Assert.Equal("Enter a valid email address", message["text"]!.GetValue<string>());
                Assert.Equal(bad, message["context"]!["value"]!.GetValue<string>());
                Assert.Equal("choose_method", answer["state"]!.GetValue<string>());
            }
        }
        await using var scope = s.Services.CreateAsyncScope();
        var dbc = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        Assert.False(await dbc.CourierMessages.AnyAsync(m => m.Recipient.Contains("not-an-email") || m.Recipient.Contains("words") || m.Recipient.Contains("Bcc")));
    }

    // --- known and unknown addresses take the same path -----------------------------------------------------------

    [Theory]
    [MemberData(nameof(AddressCases))]
    public async Task Known_and_unknown_addresses_run_the_same_statements(string db, string kind, bool notifyUnknown)
    {
        // Listening before the server starts: EF Core caches for a while whether anyone listens.
        using var recorder = new StatementRecorder();
        await using var s = await TestServer.StartAsync(db, o =>
        {
            FlowServerFixture.Configure(o);
            o.Selfservice.Flows.Verification.Enabled = true;
            o.Selfservice.Flows.Recovery.Enabled = true;
            o.Selfservice.Flows.Verification.NotifyUnknownRecipients = notifyUnknown;
            o.Selfservice.Flows.Recovery.NotifyUnknownRecipients = notifyUnknown;
        });
        // An identity made through the admin API: its address is still "pending" (the most work for a known address).
        var known = HttpAssertions.UniqueEmail("known");
        await (await s.AdminWithKey.PostJson("/admin/identities", new JsonObject { ["schema_id"] = "default", ["traits"] = new JsonObject { ["email"] = known } })).Json(HttpStatusCode.Created);
        var unknown = HttpAssertions.UniqueEmail("unknown");
        recorder.Database = new Uri(s.Options.Dsn).AbsolutePath.Split('/')[^1];

        async Task<List<string>> Statements(string email)
        {
            var flow = await ApiFlow(s.Public, kind);
            recorder.Take();
            await (await s.Public.SubmitJson($"/self-service/{kind}?flow={flow["id"]}", new JsonObject { ["method"] = "code", ["email"] = email })).Json(HttpStatusCode.OK);
            return recorder.Take();
        }
        var forKnown = await Statements(known);
        var forUnknown = await Statements(unknown);
        Assert.Contains(forKnown, sql => sql.Contains("courier_messages", StringComparison.Ordinal));
        Assert.Equal(forKnown, forUnknown);
    }

    public static TheoryData<string, string, bool> AddressCases
    {
        get
        {
            var data = new TheoryData<string, string, bool>();
            foreach (var db in Db.Providers.Select(r => (string)r.Data))
            {
                foreach (var kind in new[] { "recovery", "verification" })
                {
                    data.Add(db, kind, false);
                    data.Add(db, kind, true);
                }
            }
            return data;
        }
    }

    /// <summary>Records the SQL EF Core runs (and the transactions it commits) on one test database.</summary>
    private sealed class StatementRecorder : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>, IDisposable
    {
        private readonly List<IDisposable> _subscriptions = [];
        private readonly Lock _lock = new();
        private readonly List<string> _statements = [];

        public StatementRecorder() => _subscriptions.Add(DiagnosticListener.AllListeners.Subscribe(this));

        /// <summary>The database (file or PostgreSQL database name) whose statements are recorded.</summary>
        public string Database { get; set; } = Guid.NewGuid().ToString("N");

        /// <summary>The statements recorded since the last call.</summary>
        public List<string> Take()
        {
            lock (_lock)
            {
                var taken = _statements.ToList();
                _statements.Clear();
                return taken;
            }
        }

        public void OnNext(DiagnosticListener value)
        {
            if (value.Name == DbLoggerCategory.Name) lock (_lock) _subscriptions.Add(value.Subscribe(this));
        }

        public void OnNext(KeyValuePair<string, object?> value)
        {
            string? entry = value.Value switch
            {
                CommandExecutedEventData c when value.Key == RelationalEventId.CommandExecuted.Name && Ours(c.Command.Connection?.ConnectionString) => c.Command.CommandText,
                TransactionEndEventData t when value.Key == RelationalEventId.TransactionCommitted.Name && Ours(t.Transaction.Connection?.ConnectionString) => "COMMIT",
                _ => null,
            };
            if (entry is not null) lock (_lock) _statements.Add(entry);
        }

        private bool Ours(string? connectionString) => connectionString?.Contains(Database, StringComparison.Ordinal) == true;

        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }

        public void Dispose()
        {
            lock (_lock)
            {
                foreach (var s in _subscriptions) s.Dispose();
            }
        }
    }

    // --- link tokens ----------------------------------------------------------------------------------------------

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_link_token_used_on_another_flow_is_refused_and_stays_usable_on_its_own(string db)
    {
        var s = await Flows(fixture, db);
        var (_, _, reg) = await RegisterApi(s);
        var id = reg["identity"]!["id"]!.GetValue<string>();
        var a = new Uri((await (await s.AdminWithKey.PostJson("/admin/recovery/link", new JsonObject { ["identity_id"] = id })).Json(HttpStatusCode.OK))["recovery_link"]!.GetValue<string>());
        var b = new Uri((await (await s.AdminWithKey.PostJson("/admin/recovery/link", new JsonObject { ["identity_id"] = id })).Json(HttpStatusCode.OK))["recovery_link"]!.GetValue<string>());
        var tokenA = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(a.Query)["token"].ToString();
        var flowB = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(b.Query)["flow"].ToString();

        // Kratos's link method answers a token it cannot use with a new browser flow carrying 4060004, and a 303 to its UI.
        using var attacker = new Browser(s.PublicUrl, acceptJson: true);
        var opened0 = await attacker.Client.GetAsync($"/self-service/recovery?flow={flowB}&token={tokenA}");
        Assert.Equal(HttpStatusCode.SeeOther, opened0.StatusCode);
        var retry = opened0.Headers.Location!.ToString();
        Assert.Contains("/ui/recovery?flow=", retry);
        var refused = await (await attacker.Client.GetAsync($"/self-service/recovery/flows?id={retry[(retry.IndexOf("flow=", StringComparison.Ordinal) + 5)..]}")).Json(HttpStatusCode.OK);
        Assert.Contains(4060004L, MessageIds(refused));
        Assert.Null(attacker.Cookie("ory_kratos_session"));

        using var owner = new Browser(s.PublicUrl);
        var opened = await owner.Client.GetAsync(a.PathAndQuery);
        Assert.Equal(HttpStatusCode.SeeOther, opened.StatusCode);
        Assert.Contains("/ui/settings?flow=", opened.Headers.Location!.ToString());
        Assert.NotNull(owner.Cookie("ory_kratos_session"));
    }

    // --- return_to ------------------------------------------------------------------------------------------------

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_flow_stores_and_redirects_to_the_return_to_it_validated(string db)
    {
        var s = await Flows(fixture, db);
        var raw = "http://app.example.com/after login?next=a b";
        var flow = await (await s.Public.GetAsync("/self-service/login/api?return_to=" + Uri.EscapeDataString(raw))).Json(HttpStatusCode.OK);
        Assert.Equal("http://app.example.com/after%20login?next=a%20b", flow["return_to"]!.GetValue<string>());

        // A return_to with a line break is stored (and later sent as Location) escaped, never raw.
        var injected = "http://app.example.com/x\r\nSet-Cookie: stolen=1";
        using var browser = new Browser(s.PublicUrl, acceptJson: true);
        var withBreak = await (await browser.Client.GetAsync("/self-service/login/browser?return_to=" + Uri.EscapeDataString(injected))).Json(HttpStatusCode.OK);
        var stored = withBreak["return_to"]!.GetValue<string>();
        Assert.DoesNotContain('\r', stored);
        Assert.DoesNotContain('\n', stored);
        Assert.StartsWith("http://app.example.com/x", stored, StringComparison.Ordinal);
        var email = HttpAssertions.UniqueEmail("ret");
        await RegisterApi(s, email);
        using var html = new Browser(s.PublicUrl);
        var init = await html.Client.GetAsync("/self-service/login/browser?return_to=" + Uri.EscapeDataString(injected));
        Assert.Equal(HttpStatusCode.SeeOther, init.StatusCode);
        var flowId = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(init.Headers.Location!.Query)["flow"].ToString();
        using var json = new HttpRequestMessage(HttpMethod.Get, $"/self-service/login/flows?id={flowId}");
        json.Headers.Accept.ParseAdd("application/json");
        var htmlFlow = await (await html.Client.SendAsync(json)).Json(HttpStatusCode.OK);
        var done = await html.PostForm($"/self-service/login?flow={flowId}",
            [new("csrf_token", Csrf(htmlFlow)), new("method", "password"), new("identifier", email), new("password", GoodPassword)]);
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        Assert.Equal(stored, done.Headers.Location!.OriginalString);
        Assert.False(done.Headers.Contains("Set-Cookie") && done.Headers.GetValues("Set-Cookie").Any(c => c.StartsWith("stolen", StringComparison.Ordinal)));
    }
}
