using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Persistence;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

/// <summary>
/// <c>feature_flags.choose_recovery_address</c>, Kratos v26.2's "recovery v2" of the code method
/// (<c>selfservice/strategy/code/strategy_recovery.go</c> <c>recoveryV2Handle*</c>, <c>selfservice/flow/state.go</c>,
/// <c>strategy_recovery_test.go</c> <c>TestRecovery_V2_*</c> and its snapshots).
/// </summary>
public sealed class RecoveryChooseAddressTests : IAsyncLifetime
{
    /// <summary>Two recovery e-mail addresses and a recovery phone; the built-in UI's recovery v2 tests use it too.</summary>
    internal const string Schema = """
    {
      "$schema": "http://json-schema.org/draft-07/schema#",
      "type": "object",
      "properties": {
        "traits": {
          "type": "object",
          "properties": {
            "email": {
              "type": "string", "format": "email",
              "ory.sh/kratos": { "credentials": { "password": { "identifier": true } }, "recovery": { "via": "email" }, "verification": { "via": "email" } }
            },
            "backup_email": { "type": "string", "format": "email", "ory.sh/kratos": { "recovery": { "via": "email" } } },
            "phone": { "type": "string", "format": "tel", "ory.sh/kratos": { "recovery": { "via": "sms" } } }
          },
          "required": ["email"],
          "additionalProperties": false
        }
      }
    }
    """;

    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private readonly Dictionary<string, TestServer> _servers = [];

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _servers.Values) await s.DisposeAsync();
    }

    private async Task<TestServer> Server(string db, string key = "on")
    {
        if (_servers.TryGetValue(db + key, out var s)) return s;
        s = await TestServer.StartAsync(db, o =>
        {
            FlowServerFixture.Configure(o);
            o.Identity.Schemas = [new IdentitySchemaEntry { Id = "default", Url = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(Schema)) }];
            o.FeatureFlags.ChooseRecoveryAddress = key != "off";
            o.FeatureFlags.UseContinueWithTransitions = key == "continue-with";
            if (key == "link")
            {
                o.Selfservice.Methods.Link.Enabled = true;
                o.Selfservice.Flows.Recovery.Use = "link";
            }
            o.Selfservice.Flows.Recovery.Enabled = true;
            o.Selfservice.Flows.Recovery.Lifespan = TimeSpan.FromMinutes(10);
            o.Selfservice.Methods.Code.Config.MaxSubmissions = 2;
        }, services => services.AddSingleton<TimeProvider>(_clock));
        return _servers[db + key] = s;
    }

    private static string UniquePhone() => "+49176" + RandomNumberGenerator.GetInt32(10_000_000, 99_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string Hash(string address) => Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(address)));

    private static async Task<string> CreateIdentity(TestServer s, JsonObject traits)
    {
        var created = await (await s.AdminWithKey.PostJson("/admin/identities", new JsonObject { ["schema_id"] = "default", ["traits"] = traits })).Json(HttpStatusCode.Created);
        return created["id"]!.GetValue<string>();
    }

    private static async Task<List<Gatehouse.Courier.CourierMessage>> Messages(TestServer s, string to)
    {
        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        return await db.CourierMessages.AsNoTracking().Where(m => m.Recipient == to).OrderBy(m => m.CreatedAt).ThenBy(m => m.Id).ToListAsync();
    }

    private static async Task<string> CodeSentTo(TestServer s, string to, string channel)
    {
        var m = (await Messages(s, to)).Last();
        Assert.Equal(channel, m.Channel);
        Assert.Equal("recovery_code_valid", m.TemplateType);
        return JsonNode.Parse(m.TemplateData!)!["recovery_code"]!.GetValue<string>();
    }

    private static async Task<JsonNode> Submit(HttpClient client, JsonNode flow, JsonObject body, HttpStatusCode expected) =>
        await (await client.SubmitJson($"/self-service/recovery?flow={flow["id"]}", body)).Json(expected);

    /// <summary>A native app's client: no cookies, no redirects followed.</summary>
    private static HttpClient Native(TestServer s) =>
        new(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = new Uri(s.PublicUrl) };

    private static IEnumerable<string> NodeNames(JsonNode flow) =>
        flow["ui"]!["nodes"]!.AsArray().Select(n => $"{n!["attributes"]!["name"]}:{n["attributes"]!["type"]}");

    private static string State(JsonNode flow) => flow["state"]!.GetValue<string>();

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_new_flow_asks_for_any_recovery_address(string db)
    {
        var s = await Server(db);
        var flow = await ApiFlow(s.Public, "recovery");
        Assert.Equal("recovery_awaiting_address", State(flow));
        Assert.Equal("code", flow["active"]!.GetValue<string>());
        Assert.Equal(["csrf_token:hidden", "recovery_address:text", "method:submit"], NodeNames(flow));
        var address = Node(flow, "recovery_address")!;
        Assert.Equal("code", address["group"]!.GetValue<string>());
        Assert.True(address["attributes"]!["required"]!.GetValue<bool>());
        Assert.Equal(1070016, address["meta"]!["label"]!["id"]!.GetValue<long>());
        Assert.Equal("Recovery address", address["meta"]!["label"]!["text"]!.GetValue<string>());
        Assert.Equal(1070009, Node(flow, "method")!["meta"]!["label"]!["id"]!.GetValue<long>());
        Assert.Empty(MessageIds(flow));
    }

    /// <summary>
    /// Several addresses: the choice (1060006) lists them masked and sorted, each as the SHA-256 of the address; another
    /// address than the one typed must be given in full (1060005, a tel input for a phone number); the code goes by SMS
    /// to it (1060004 names it masked) and recovers the account.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Several_addresses_are_offered_masked_and_the_code_goes_by_sms_to_the_one_confirmed(string db)
    {
        var s = await Server(db);
        var email = HttpAssertions.UniqueEmail("v2");
        var backup = HttpAssertions.UniqueEmail("bk");
        var phone = UniquePhone();
        var identityId = await CreateIdentity(s, new JsonObject { ["email"] = email, ["backup_email"] = backup, ["phone"] = phone });
        var flow = await ApiFlow(s.Public, "recovery");

        var choice = await Submit(s.Public, flow, new JsonObject { ["recovery_address"] = email }, HttpStatusCode.OK);
        Assert.Equal("recovery_awaiting_address_choice", State(choice));
        Assert.Equal([1060006L], MessageIds(choice));
        Assert.Equal(["csrf_token:hidden", "recovery_select_address:submit", "recovery_select_address:submit", "recovery_select_address:submit", "method:hidden", "recovery_address:hidden"], NodeNames(choice));
        var sorted = new[] { email, backup, phone }.Order(StringComparer.Ordinal).ToList();
        var options = choice["ui"]!["nodes"]!.AsArray().Where(n => n!["attributes"]!["name"]!.GetValue<string>() == "recovery_select_address").ToList();
        Assert.Equal(sorted.Select(Hash), options.Select(o => o!["attributes"]!["value"]!.GetValue<string>()));
        Assert.Equal(sorted.Select(a => a.Contains('@') ? a[..2] + "****" + a[a.IndexOf('@')..] : a[..3] + "****" + a[^2..]),
            options.Select(o => o!["meta"]!["label"]!["text"]!.GetValue<string>()));
        Assert.All(options, o => Assert.Equal(1070000, o!["meta"]!["label"]!["id"]!.GetValue<long>()));
        Assert.Equal(email, Node(choice, "recovery_address")!["attributes"]!["value"]!.GetValue<string>());
        Assert.DoesNotContain(phone, choice["ui"]!["nodes"]!.ToJsonString(), StringComparison.Ordinal);

        var confirm = await Submit(s.Public, flow, new JsonObject { ["recovery_address"] = email, ["recovery_select_address"] = Hash(phone) }, HttpStatusCode.OK);
        Assert.Equal("recovery_confirming_address", State(confirm));
        Assert.Equal([1060005L], MessageIds(confirm));
        Assert.Equal(["csrf_token:hidden", "recovery_confirm_address:tel", "recovery_address:hidden", "method:submit", "method:hidden", "screen:submit"], NodeNames(confirm));
        Assert.Equal(1070017, Node(confirm, "recovery_confirm_address")!["meta"]!["label"]!["id"]!.GetValue<long>());
        Assert.Equal(1060007, Node(confirm, "screen")!["meta"]!["label"]!["id"]!.GetValue<long>());
        Assert.Empty(await Messages(s, phone));

        var sent = await Submit(s.Public, flow, new JsonObject { ["recovery_address"] = email, ["recovery_confirm_address"] = phone }, HttpStatusCode.OK);
        Assert.Equal("recovery_awaiting_code", State(sent));
        var message = sent["ui"]!["messages"]![0]!;
        Assert.Equal(1060004, message["id"]!.GetValue<long>());
        Assert.Equal(phone[..3] + "****" + phone[^2..], message["context"]!["masked_address"]!.GetValue<string>());
        Assert.Equal(["csrf_token:hidden", "code:text", "method:submit", "method:hidden", "recovery_confirm_address:submit", "recovery_address:hidden", "screen:submit"], NodeNames(sent));
        Assert.Equal(phone, Node(sent, "recovery_confirm_address")!["attributes"]!["value"]!.GetValue<string>());
        var code = await CodeSentTo(s, phone, "sms");
        Assert.Empty(await Messages(s, email));

        // The right code recovers the account (without use_continue_with_transitions: 422 to the settings UI).
        var done = await (await s.Public.SubmitJson($"/self-service/recovery?flow={flow["id"]}", new JsonObject { ["code"] = code }))
            .Error(HttpStatusCode.UnprocessableEntity);
        Assert.Equal("browser_location_change_required", done["id"]!.GetValue<string>());
        var fetched = await (await s.Public.GetAsync($"/self-service/recovery/flows?id={flow["id"]}")).Json(HttpStatusCode.OK);
        Assert.Equal("passed_challenge", State(fetched));
        await using var scope = s.Services.CreateAsyncScope();
        var sessions = await scope.ServiceProvider.GetRequiredService<GatehouseDbContext>().Sessions.AsNoTracking().CountAsync(x => x.IdentityId == Guid.Parse(identityId));
        Assert.Equal(1, sessions);
    }

    /// <summary>
    /// A browser (HTML form posts, 303 to the UI at every step): choosing the address typed first skips the confirmation
    /// (Kratos compares the choice with the typed address's hash); the e-mail carries the code; the back button from the
    /// code returns to the choice, and a resend makes the first code useless.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_browser_choosing_the_typed_address_gets_the_code_without_confirming_it_and_can_go_back_and_resend(string db)
    {
        var s = await Server(db);
        var email = HttpAssertions.UniqueEmail("v2b");
        var phone = UniquePhone();
        await CreateIdentity(s, new JsonObject { ["email"] = email, ["phone"] = phone });
        using var browser = new Browser(s.PublicUrl);
        var init = await browser.Client.GetAsync("/self-service/recovery/browser");
        Assert.Equal(HttpStatusCode.SeeOther, init.StatusCode);
        var id = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(init.Headers.Location!.Query)["flow"].ToString();
        async Task<JsonNode> Post(Dictionary<string, string> form)
        {
            var flow = await (await browser.Client.GetAsync($"/self-service/recovery/flows?id={id}")).Json(HttpStatusCode.OK);
            form["csrf_token"] = Csrf(flow);
            var answer = await browser.PostForm($"/self-service/recovery?flow={id}", form);
            Assert.Equal(HttpStatusCode.SeeOther, answer.StatusCode);
            Assert.Contains($"flow={id}", answer.Headers.Location!.ToString(), StringComparison.Ordinal);
            return await (await browser.Client.GetAsync($"/self-service/recovery/flows?id={id}")).Json(HttpStatusCode.OK);
        }

        var choice = await Post(new() { ["recovery_address"] = email });
        Assert.Equal("recovery_awaiting_address_choice", State(choice));
        var sent = await Post(new() { ["recovery_address"] = email, ["recovery_select_address"] = Hash(email) });
        Assert.Equal("recovery_awaiting_code", State(sent));
        var first = await CodeSentTo(s, email, "email");

        var back = await Post(new() { ["recovery_address"] = email, ["screen"] = "previous" });
        Assert.Equal("recovery_awaiting_address_choice", State(back));
        Assert.Equal([1060006L], MessageIds(back));
        sent = await Post(new() { ["recovery_address"] = email, ["recovery_select_address"] = Hash(email) });
        Assert.Equal("recovery_awaiting_code", State(sent));
        var resent = await Post(new() { ["recovery_address"] = email, ["recovery_confirm_address"] = email });
        Assert.Equal("recovery_awaiting_code", State(resent));
        var third = await CodeSentTo(s, email, "email");
        Assert.Equal(3, (await Messages(s, email)).Count);

        var wrong = await Post(new() { ["code"] = first == third ? "000000" : first });
        Assert.Equal([4060006L], MessageIds(wrong));
        Assert.Equal("recovery_awaiting_code", State(wrong));

        var flowNow = await (await browser.Client.GetAsync($"/self-service/recovery/flows?id={id}")).Json(HttpStatusCode.OK);
        var done = await browser.PostForm($"/self-service/recovery?flow={id}", new Dictionary<string, string> { ["code"] = third, ["csrf_token"] = Csrf(flowNow) });
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        Assert.Contains("/settings?flow=", done.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.NotNull(browser.Cookie("ory_kratos_session"));
    }

    /// <summary>
    /// Anti-enumeration: an address no account has is answered exactly as an account's only address (straight to the code
    /// screen with 1060004), and nothing is sent to it; its flow takes no code.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_unknown_address_is_answered_as_a_known_single_address(string db)
    {
        var s = await Server(db);
        var known = HttpAssertions.UniqueEmail("one");
        await CreateIdentity(s, new JsonObject { ["email"] = known });
        var unknown = HttpAssertions.UniqueEmail("nobody");

        var knownFlow = await ApiFlow(s.Public, "recovery");
        var knownAnswer = await Submit(s.Public, knownFlow, new JsonObject { ["recovery_address"] = known }, HttpStatusCode.OK);
        var unknownFlow = await ApiFlow(s.Public, "recovery");
        var unknownAnswer = await Submit(s.Public, unknownFlow, new JsonObject { ["recovery_address"] = unknown }, HttpStatusCode.OK);

        foreach (var answer in new[] { knownAnswer, unknownAnswer })
        {
            Assert.Equal("recovery_awaiting_code", State(answer));
            Assert.Equal([1060004L], MessageIds(answer));
            Assert.Equal(["csrf_token:hidden", "code:text", "method:submit", "method:hidden", "recovery_confirm_address:submit", "recovery_address:hidden", "screen:submit"], NodeNames(answer));
        }
        Assert.Equal(unknown[..2] + "****" + unknown[unknown.IndexOf('@')..], unknownAnswer["ui"]!["messages"]![0]!["context"]!["masked_address"]!.GetValue<string>());
        Assert.Single(await Messages(s, known));
        Assert.Empty(await Messages(s, unknown));

        var guess = await Submit(s.Public, unknownFlow, new JsonObject { ["code"] = "123456" }, HttpStatusCode.OK);
        Assert.Equal([4060006L], MessageIds(guess));
    }

    /// <summary>
    /// Bad input leaves the flow where it was: no address (4000002 on its node), no choice, a choice that is none of the
    /// account's addresses or a <c>recovery_address</c> swapped for another account's (4000001 "The selected recovery
    /// address is not valid."), no full address — each 400 for API clients, nothing sent.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Missing_and_tampered_fields_are_refused_and_change_nothing(string db)
    {
        var s = await Server(db);
        var email = HttpAssertions.UniqueEmail("tamper");
        var phone = UniquePhone();
        await CreateIdentity(s, new JsonObject { ["email"] = email, ["phone"] = phone });
        var other = HttpAssertions.UniqueEmail("other");
        var otherPhone = UniquePhone();
        await CreateIdentity(s, new JsonObject { ["email"] = other, ["phone"] = otherPhone });
        var flow = await ApiFlow(s.Public, "recovery");

        var missing = await Submit(s.Public, flow, new JsonObject { ["method"] = "code" }, HttpStatusCode.BadRequest);
        Assert.Equal("recovery_awaiting_address", State(missing));
        Assert.Equal([4000002L], MessageIds(missing, "recovery_address"));

        await Submit(s.Public, flow, new JsonObject { ["recovery_address"] = email }, HttpStatusCode.OK);
        var noChoice = await Submit(s.Public, flow, new JsonObject { ["recovery_address"] = email }, HttpStatusCode.BadRequest);
        Assert.Equal("recovery_awaiting_address_choice", State(noChoice));
        Assert.Equal([4000002L], MessageIds(noChoice, "recovery_select_address"));

        foreach (var (address, selected) in new[] { (email, Hash("stranger@example.com")), (email, Hash(otherPhone)), (other, Hash(phone)) })
        {
            var bad = await Submit(s.Public, flow, new JsonObject { ["recovery_address"] = address, ["recovery_select_address"] = selected }, HttpStatusCode.BadRequest);
            Assert.Equal("recovery_awaiting_address_choice", State(bad));
            Assert.Equal([4000001L], MessageIds(bad));
            Assert.Equal("The selected recovery address is not valid.", bad["ui"]!["messages"]![0]!["text"]!.GetValue<string>());
            Assert.Equal(3, bad["ui"]!["nodes"]!.AsArray().Count(n => n!["attributes"]!["name"]!.GetValue<string>() is "recovery_select_address" or "csrf_token"));
        }

        await Submit(s.Public, flow, new JsonObject { ["recovery_address"] = email, ["recovery_select_address"] = Hash(phone) }, HttpStatusCode.OK);
        var noFull = await Submit(s.Public, flow, new JsonObject { ["recovery_address"] = email }, HttpStatusCode.BadRequest);
        Assert.Equal("recovery_confirming_address", State(noFull));
        Assert.Equal([4000002L], MessageIds(noFull, "recovery_confirm_address"));
        Assert.Empty(await Messages(s, phone));
        Assert.Empty(await Messages(s, otherPhone));
        Assert.Empty(await Messages(s, email));
    }

    /// <summary>
    /// Spent and expired flows are replaced by a new flow that asks for an address again (the flag still on): wrong codes
    /// past <c>max_submissions</c> (4000001 "submitted too often"), a flow past its lifespan (4060005).
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Spent_and_expired_flows_are_replaced_by_a_new_flow_asking_for_an_address(string db)
    {
        var s = await Server(db);
        var email = HttpAssertions.UniqueEmail("spent");
        await CreateIdentity(s, new JsonObject { ["email"] = email });
        var flow = await ApiFlow(s.Public, "recovery");
        await Submit(s.Public, flow, new JsonObject { ["recovery_address"] = email }, HttpStatusCode.OK);
        var right = await CodeSentTo(s, email, "email");
        var wrong = right == "000000" ? "111111" : "000000";
        for (var i = 0; i < 2; i++)
            Assert.Equal([4060006L], MessageIds(await Submit(s.Public, flow, new JsonObject { ["code"] = wrong }, HttpStatusCode.OK)));
        using var native = Native(s);
        var spent = await native.SubmitJson($"/self-service/recovery?flow={flow["id"]}", new JsonObject { ["code"] = right });
        Assert.Equal(HttpStatusCode.SeeOther, spent.StatusCode);
        var replaced = await (await s.Public.GetAsync(spent.Headers.Location)).Json(HttpStatusCode.OK);
        Assert.NotEqual(flow["id"]!.GetValue<string>(), replaced["id"]!.GetValue<string>());
        Assert.Equal("recovery_awaiting_address", State(replaced));
        Assert.Equal([4000001L], MessageIds(replaced));
        Assert.NotNull(Node(replaced, "recovery_address"));

        var old = await ApiFlow(s.Public, "recovery");
        _clock.Advance(TimeSpan.FromMinutes(11));
        var expired = await native.SubmitJson($"/self-service/recovery?flow={old["id"]}", new JsonObject { ["recovery_address"] = email });
        Assert.Equal(HttpStatusCode.SeeOther, expired.StatusCode);
        var fresh = await (await s.Public.GetAsync(expired.Headers.Location)).Json(HttpStatusCode.OK);
        Assert.Equal("recovery_awaiting_address", State(fresh));
        Assert.Equal([4060005L], MessageIds(fresh));
        Assert.Single(await Messages(s, email));
    }

    /// <summary>
    /// The version is fixed when a flow is made: a flow made with the flag goes on as recovery v2 after the flag is turned
    /// off, while new flows are the e-mail form again (and the reverse); with the flag off nothing changes.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_flow_keeps_the_version_it_was_made_with_when_the_flag_changes(string db)
    {
        var s = await Server(db, "toggle");
        var options = s.Services.GetRequiredService<GatehouseOptions>();
        var email = HttpAssertions.UniqueEmail("toggle");
        await CreateIdentity(s, new JsonObject { ["email"] = email });

        options.FeatureFlags.ChooseRecoveryAddress = true;
        var v2 = await ApiFlow(s.Public, "recovery");
        options.FeatureFlags.ChooseRecoveryAddress = false;
        var v1 = await ApiFlow(s.Public, "recovery");
        Assert.Equal("choose_method", State(v1));
        Assert.Equal(["csrf_token:hidden", "email:email", "method:submit"], NodeNames(v1));

        var sent = await Submit(s.Public, v2, new JsonObject { ["recovery_address"] = email }, HttpStatusCode.OK);
        Assert.Equal("recovery_awaiting_code", State(sent));
        Assert.Equal([1060004L], MessageIds(sent));

        options.FeatureFlags.ChooseRecoveryAddress = true;
        var v1Sent = await Submit(s.Public, v1, new JsonObject { ["method"] = "code", ["email"] = email }, HttpStatusCode.OK);
        Assert.Equal("sent_email", State(v1Sent));
        Assert.Equal([1060003L], MessageIds(v1Sent));
        options.FeatureFlags.ChooseRecoveryAddress = false;
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Without_the_flag_recovery_asks_for_an_email_and_ignores_the_new_fields(string db)
    {
        var s = await Server(db, "off");
        var email = HttpAssertions.UniqueEmail("off");
        await CreateIdentity(s, new JsonObject { ["email"] = email, ["phone"] = UniquePhone() });
        var flow = await ApiFlow(s.Public, "recovery");
        Assert.Equal("choose_method", State(flow));
        var refused = await Submit(s.Public, flow, new JsonObject { ["method"] = "code", ["recovery_address"] = email }, HttpStatusCode.BadRequest);
        Assert.Equal([4000002L], MessageIds(refused, "email"));
        Assert.Empty(await Messages(s, email));
    }

    /// <summary>Kratos's <c>MaskAddress</c> (selfservice/strategy/code/strategy.go), including its short-value cases.</summary>
    [Theory]
    [InlineData("foo@bar", "fo****@bar")]
    [InlineData("fo@bar", "fo****@bar")]
    [InlineData("f@bar", "f@bar")]
    [InlineData("foobar", "foo****ar")]
    [InlineData("fooba", "fooba")]
    [InlineData("+12345678910", "+12****10")]
    public void Addresses_are_masked_as_Kratos_masks_them(string address, string masked) =>
        Assert.Equal(masked, Gatehouse.SelfService.Flows.Recovery.RecoveryFlows.MaskAddress(address));

    /// <summary>As in Kratos's v2 <c>Recover</c>, a signed-in client is refused before the state is looked at (a code too).</summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_signed_in_client_is_refused(string db)
    {
        var s = await Server(db);
        var (email, token, _) = await RegisterApi(s);
        var flow = await ApiFlow(s.Public, "recovery");
        var request = new HttpRequestMessage(HttpMethod.Post, $"/self-service/recovery?flow={flow["id"]}")
        {
            Content = new StringContent(new JsonObject { ["recovery_address"] = email }.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Session-Token", token);
        request.Headers.Accept.ParseAdd("application/json");
        var error = await (await s.Public.SendAsync(request)).Error(HttpStatusCode.BadRequest);
        Assert.Equal("session_already_available", error["id"]!.GetValue<string>());
        var fetched = await (await s.Public.GetAsync($"/self-service/recovery/flows?id={flow["id"]}")).Json(HttpStatusCode.OK);
        Assert.Equal("recovery_awaiting_address", State(fetched));
        Assert.Empty(await Messages(s, email));
    }

    /// <summary>Back from the code screen of an account with a single address: the first screen again (recoveryV2HandleGoBack).</summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Back_with_a_single_address_returns_to_the_first_screen(string db)
    {
        var s = await Server(db);
        var email = HttpAssertions.UniqueEmail("single");
        await CreateIdentity(s, new JsonObject { ["email"] = email });
        var flow = await ApiFlow(s.Public, "recovery");
        await Submit(s.Public, flow, new JsonObject { ["recovery_address"] = email }, HttpStatusCode.OK);
        var back = await Submit(s.Public, flow, new JsonObject { ["recovery_address"] = email, ["screen"] = "previous" }, HttpStatusCode.OK);
        Assert.Equal("recovery_awaiting_address", State(back));
        Assert.Equal(["csrf_token:hidden", "recovery_address:text", "method:submit"], NodeNames(back));
        Assert.Empty(MessageIds(back));
    }

    /// <summary>
    /// With <c>use_continue_with_transitions</c> too (Kratos tests recovery v2 only so): a native app's right code answers
    /// 200 with the flow and <c>continue_with</c> [set_ory_session_token, show_settings_ui].
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task With_continue_with_transitions_a_native_app_gets_its_session_token(string db)
    {
        var s = await Server(db, "continue-with");
        var email = HttpAssertions.UniqueEmail("native");
        var phone = UniquePhone();
        var identityId = await CreateIdentity(s, new JsonObject { ["email"] = email, ["phone"] = phone });
        using var native = Native(s);
        var flow = await ApiFlow(native, "recovery");
        await Submit(native, flow, new JsonObject { ["recovery_address"] = phone }, HttpStatusCode.OK);
        var sent = await Submit(native, flow, new JsonObject { ["recovery_address"] = phone, ["recovery_select_address"] = Hash(phone) }, HttpStatusCode.OK);
        Assert.Equal("recovery_awaiting_code", State(sent));
        var done = await Submit(native, flow, new JsonObject { ["code"] = await CodeSentTo(s, phone, "sms") }, HttpStatusCode.OK);
        Assert.Equal("passed_challenge", State(done));
        var continueWith = done["continue_with"]!.AsArray();
        Assert.Equal(["set_ory_session_token", "show_settings_ui"], continueWith.Select(c => c!["action"]!.GetValue<string>()));
        var whoami = new HttpRequestMessage(HttpMethod.Get, "/sessions/whoami");
        whoami.Headers.Add("X-Session-Token", continueWith[0]!["ory_session_token"]!.GetValue<string>());
        var session = await (await native.SendAsync(whoami)).Json(HttpStatusCode.OK);
        Assert.Equal(identityId, session["identity"]!["id"]!.GetValue<string>());
        Assert.Equal("code_recovery", session["authentication_methods"]![0]!["method"]!.GetValue<string>());
    }

    /// <summary>Recovery v2 is the code method's; with <c>use: link</c> flows are made as without the flag.</summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_link_method_ignores_the_flag(string db)
    {
        var s = await Server(db, "link");
        var flow = await ApiFlow(s.Public, "recovery");
        Assert.Equal("choose_method", State(flow));
        Assert.Equal("link", flow["active"]!.GetValue<string>());
        Assert.NotNull(Node(flow, "email"));
        Assert.Null(Node(flow, "recovery_address"));
    }
}
