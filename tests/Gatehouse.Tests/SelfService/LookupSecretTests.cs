using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gatehouse.Config;
using Gatehouse.Persistence;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

/// <summary>A server per provider with recovery codes on and a fake clock, shared by the tests of a class.</summary>
public sealed class LookupServerFixture : IAsyncDisposable
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
                    FlowServerFixture.Configure(o);
                    o.Selfservice.Methods.LookupSecret.Enabled = true;
                    o.Secrets.Default = ["a-test-default-secret-32-chars!!"];
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
/// Recovery codes (<c>lookup_secret</c>): regenerate / confirm / reveal / disable in settings with Kratos's nodes and
/// messages, codes kept only as hashes (never in a stored flow or credential row), each code working once — also when
/// submitted several times at once — as the second factor of an aal2 login that upgrades the same session.
/// </summary>
public sealed partial class LookupSecretTests(LookupServerFixture fixture) : IClassFixture<LookupServerFixture>
{
    [GeneratedRegex("^[a-z0-9]{8}$")]
    private static partial Regex CodeShape();

    private static HttpRequestMessage WithToken(HttpMethod method, string url, string token, JsonNode? body = null)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Add("X-Session-Token", token);
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        return request;
    }

    private static Task<HttpResponseMessage> Send(TestServer s, HttpMethod method, string url, string token, JsonNode? body = null) =>
        s.Public.SendAsync(WithToken(method, url, token, body));

    private static async Task<JsonNode> SettingsFlow(TestServer s, string token) =>
        await (await Send(s, HttpMethod.Get, "/self-service/settings/api", token)).Json(HttpStatusCode.OK);

    private static JsonObject? TextNode(JsonNode flow, string id) =>
        flow["ui"]!["nodes"]!.AsArray().OfType<JsonObject>().FirstOrDefault(n => n["attributes"]!["id"]?.GetValue<string>() == id);

    private static List<JsonObject> Secrets(JsonNode flow) =>
        [.. TextNode(flow, "lookup_secret_codes")!["attributes"]!["text"]!["context"]!["secrets"]!.AsArray().OfType<JsonObject>()];

    private static List<string> Codes(JsonNode flow) =>
        [.. Secrets(flow).Select(x => x["context"]?["secret"]?.GetValue<string>() ?? "")];

    private static List<string> GroupNames(JsonNode flow) =>
        [.. flow["ui"]!["nodes"]!.AsArray().Where(n => n!["group"]!.GetValue<string>() == "lookup_secret")
            .Select(n => n!["attributes"]!["name"]?.GetValue<string>() ?? n["attributes"]!["id"]!.GetValue<string>())];

    private static async Task<JsonNode> PasswordLogin(TestServer s, string email)
    {
        var flow = await ApiFlow(s.Public, "login");
        return await (await s.Public.PostJson($"/self-service/login?flow={flow["id"]}",
            new JsonObject { ["method"] = "password", ["identifier"] = email, ["password"] = GoodPassword })).Json(HttpStatusCode.OK);
    }

    private static async Task<T> Db<T>(TestServer s, Func<GatehouseDbContext, Task<T>> query)
    {
        using var scope = s.Services.CreateScope();
        return await query(scope.ServiceProvider.GetRequiredService<GatehouseDbContext>());
    }

    /// <summary>Registers (session token A) and sets up recovery codes with it; returns the email, the codes, token A and the id.</summary>
    private static async Task<(string Email, List<string> Codes, string Token, string Id)> EnrolledUser(TestServer s)
    {
        var (email, token, reg) = await RegisterApi(s);
        var flow = await SettingsFlow(s, token);
        var url = $"/self-service/settings?flow={flow["id"]}";
        var generated = await (await Send(s, HttpMethod.Post, url, token, new JsonObject { ["method"] = "lookup_secret", ["lookup_secret_regenerate"] = true })).Json(HttpStatusCode.OK);
        var codes = Codes(generated);
        await (await Send(s, HttpMethod.Post, url, token, new JsonObject { ["method"] = "lookup_secret", ["lookup_secret_confirm"] = true })).Json(HttpStatusCode.OK);
        return (email, codes, token, reg["identity"]!["id"]!.GetValue<string>());
    }

    private static async Task<HttpResponseMessage> StepUp(TestServer s, string token, string code)
    {
        var flow = await (await Send(s, HttpMethod.Get, "/self-service/login/api?aal=aal2", token)).Json(HttpStatusCode.OK);
        return await Send(s, HttpMethod.Post, $"/self-service/login?flow={flow["id"]}", token, new JsonObject { ["method"] = "lookup_secret", ["lookup_secret"] = code });
    }

    [Theory, MemberData(nameof(Gatehouse.Tests.Infrastructure.Db.Providers), MemberType = typeof(Gatehouse.Tests.Infrastructure.Db))]
    public async Task Regenerate_shows_twelve_codes_once_and_stores_only_their_hashes_until_confirmed(string db)
    {
        var s = await fixture.Get(db);
        var (_, token, reg) = await RegisterApi(s);
        var id = reg["identity"]!["id"]!.GetValue<string>();
        var flow = await SettingsFlow(s, token);
        Assert.Equal(["lookup_secret_regenerate"], GroupNames(flow));
        var url = $"/self-service/settings?flow={flow["id"]}";

        var early = await (await Send(s, HttpMethod.Post, url, token, new JsonObject { ["method"] = "lookup_secret", ["lookup_secret_confirm"] = true })).Json(HttpStatusCode.BadRequest);
        Assert.Equal("You must (re-)generate recovery backup codes before you can save them.", early["ui"]!["messages"]![0]!["text"]!.GetValue<string>());

        var generated = await (await Send(s, HttpMethod.Post, url, token, new JsonObject { ["method"] = "lookup_secret", ["lookup_secret_regenerate"] = true })).Json(HttpStatusCode.OK);
        Assert.Equal(["lookup_secret_codes", "lookup_secret_confirm"], GroupNames(generated));
        var codes = Codes(generated);
        Assert.Equal(12, codes.Distinct().Count());
        Assert.All(codes, c => Assert.Matches(CodeShape(), c));
        var text = TextNode(generated, "lookup_secret_codes")!["attributes"]!["text"]!;
        Assert.Equal(1050015, text["id"]!.GetValue<long>());
        Assert.Equal(string.Join(", ", codes), text["text"]!.GetValue<string>());
        Assert.All(Secrets(generated), x => Assert.Equal(1050009, x["id"]!.GetValue<long>()));
        Assert.Equal(1050010, TextNode(generated, "lookup_secret_codes")!["meta"]!["label"]!["id"]!.GetValue<long>());
        Assert.Equal(1050011, Node(generated, "lookup_secret_confirm")!["meta"]!["label"]!["id"]!.GetValue<long>());

        // Neither the stored flow nor a fetch of it has the codes; nothing is on the identity yet.
        var fetched = await (await Send(s, HttpMethod.Get, $"/self-service/settings/flows?id={flow["id"]}", token)).Json(HttpStatusCode.OK);
        Assert.Equal(["lookup_secret_codes", "lookup_secret_confirm"], GroupNames(fetched));
        Assert.All(Secrets(fetched), x => Assert.Equal("********", x["text"]!.GetValue<string>()));
        var row = await Db(s, d => d.Flows.AsNoTracking().SingleAsync(f => f.Id == Guid.Parse(flow["id"]!.GetValue<string>())));
        Assert.All(codes, c => Assert.DoesNotContain(c, row.Ui + row.InternalContext, StringComparison.Ordinal));
        Assert.Null((await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}?include_credential=lookup_secret")).Json(HttpStatusCode.OK))["credentials"]!["lookup_secret"]);

        var saved = await (await Send(s, HttpMethod.Post, url, token, new JsonObject { ["method"] = "lookup_secret", ["lookup_secret_confirm"] = true })).Json(HttpStatusCode.OK);
        Assert.Equal("success", saved["state"]!.GetValue<string>());
        Assert.Equal(["lookup_secret_reveal", "lookup_secret_disable"], GroupNames(saved));
        var session = await (await Send(s, HttpMethod.Get, "/sessions/whoami", token)).Json(HttpStatusCode.OK);
        Assert.Equal("aal2", session["authenticator_assurance_level"]!.GetValue<string>());
        Assert.Contains(session["authentication_methods"]!.AsArray(), m => m!["method"]!.GetValue<string>() == "lookup_secret" && m["aal"]!.GetValue<string>() == "aal2");

        // Stored hashed; the admin API shows Kratos's list with used_at only.
        var admin = await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}?include_credential=lookup_secret")).Json(HttpStatusCode.OK);
        var credential = admin["credentials"]!["lookup_secret"]!;
        Assert.Equal([id], credential["identifiers"]!.AsArray().Select(x => x!.GetValue<string>()));
        var shown = credential["config"]!["recovery_codes"]!.AsArray();
        Assert.Equal(12, shown.Count);
        Assert.All(shown, e => Assert.True(JsonNode.DeepEquals(new JsonObject { ["used_at"] = null }, e)));
        var stored = await Db(s, d => d.Credentials.AsNoTracking().SingleAsync(c => c.IdentityId == Guid.Parse(id) && c.Type == "lookup_secret"));
        Assert.All(codes, c => Assert.DoesNotContain(c, stored.Config, StringComparison.Ordinal));
        var allFlows = await Db(s, d => d.Flows.AsNoTracking().Where(f => f.IdentityId == Guid.Parse(id)).Select(f => f.Ui + f.InternalContext).ToListAsync());
        Assert.All(codes, c => Assert.All(allFlows, f => Assert.DoesNotContain(c, f, StringComparison.Ordinal)));
    }

    [Theory, MemberData(nameof(Gatehouse.Tests.Infrastructure.Db.Providers), MemberType = typeof(Gatehouse.Tests.Infrastructure.Db))]
    public async Task A_code_is_the_second_factor_of_the_same_session_and_works_once(string db)
    {
        var s = await fixture.Get(db);
        var (email, codes, _, _) = await EnrolledUser(s);
        var token = (await PasswordLogin(s, email))["session_token"]!.GetValue<string>();

        var flow = await (await Send(s, HttpMethod.Get, "/self-service/login/api?aal=aal2", token)).Json(HttpStatusCode.OK);
        Assert.Equal("text", Node(flow, "lookup_secret")!["attributes"]!["type"]!.GetValue<string>());
        Assert.Equal(1010007, Node(flow, "lookup_secret")!["meta"]!["label"]!["id"]!.GetValue<long>());

        Assert.Contains(4000016L, MessageIds(await (await StepUp(s, token, "notacode")).Json(HttpStatusCode.BadRequest)));
        // An empty string is left out, as Kratos's decoder reads JSON as a form: the required code is missing.
        Assert.Contains(4000002L, MessageIds(await (await StepUp(s, token, "")).Json(HttpStatusCode.BadRequest), "lookup_secret"));
        var before = await (await Send(s, HttpMethod.Get, "/sessions/whoami", token)).Error(HttpStatusCode.Forbidden);
        Assert.Equal("session_aal2_required", before["id"]!.GetValue<string>());

        var done = await (await StepUp(s, token, codes[3])).Json(HttpStatusCode.OK);
        var whoami = await (await Send(s, HttpMethod.Get, "/sessions/whoami", token)).Json(HttpStatusCode.OK);
        Assert.Equal("aal2", whoami["authenticator_assurance_level"]!.GetValue<string>());
        Assert.Equal(done["session"]!["id"]!.GetValue<string>(), whoami["id"]!.GetValue<string>());
        Assert.Equal(["password", "lookup_secret"], whoami["authentication_methods"]!.AsArray().Select(m => m!["method"]!.GetValue<string>()));

        // The same code in another session: already used (4000012), and the reveal lists it as used, with its time.
        var other = (await PasswordLogin(s, email))["session_token"]!.GetValue<string>();
        var used = await (await StepUp(s, other, codes[3])).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4000012L, MessageIds(used));
        Assert.Equal("This backup recovery code has already been used.", used["ui"]!["messages"]!.AsArray().Single(m => m!["id"]!.GetValue<long>() == 4000012)!["text"]!.GetValue<string>());
        await (await StepUp(s, other, codes[4])).Json(HttpStatusCode.OK);

        var settings = await SettingsFlow(s, token);
        var revealed = await (await Send(s, HttpMethod.Post, $"/self-service/settings?flow={settings["id"]}", token,
            new JsonObject { ["method"] = "lookup_secret", ["lookup_secret_reveal"] = true })).Json(HttpStatusCode.OK);
        Assert.Equal(["lookup_secret_codes", "lookup_secret_disable", "lookup_secret_regenerate"], GroupNames(revealed));
        var secrets = Secrets(revealed);
        Assert.Equal(12, secrets.Count);
        Assert.Equal(1050014, secrets[3]["id"]!.GetValue<long>());
        Assert.Equal("Secret was used at 2026-12-04 12:00:00 +0000 UTC", secrets[3]["text"]!.GetValue<string>());
        Assert.Equal("2026-12-04T12:00:00Z", secrets[3]["context"]!["used_at"]!.GetValue<string>());
        Assert.Equal(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds(), secrets[3]["context"]!["used_at_unix"]!.GetValue<long>());
        Assert.Equal(1050014, secrets[4]["id"]!.GetValue<long>());
        Assert.Equal(10, secrets.Count(x => x["id"]!.GetValue<long>() == 1050009));
        var list = TextNode(revealed, "lookup_secret_codes")!["attributes"]!["text"]!["text"]!.GetValue<string>().Split(", ");
        Assert.Equal("used", list[3]);
    }

    [Theory, MemberData(nameof(Gatehouse.Tests.Infrastructure.Db.Providers), MemberType = typeof(Gatehouse.Tests.Infrastructure.Db))]
    public async Task One_code_submitted_at_once_from_several_sessions_signs_in_exactly_one(string db)
    {
        var s = await fixture.Get(db);
        var (email, codes, _, _) = await EnrolledUser(s);
        var tokens = new List<string>();
        for (var i = 0; i < 4; i++) tokens.Add((await PasswordLogin(s, email))["session_token"]!.GetValue<string>());
        var flows = new List<string>();
        foreach (var t in tokens) flows.Add((await (await Send(s, HttpMethod.Get, "/self-service/login/api?aal=aal2", t)).Json(HttpStatusCode.OK))["id"]!.GetValue<string>());
        // Two different codes race as well: both must work (a lost compare-and-swap is retried, not refused).
        var results = await Task.WhenAll(tokens.Select((t, i) => Send(s, HttpMethod.Post, $"/self-service/login?flow={flows[i]}", t,
            new JsonObject { ["method"] = "lookup_secret", ["lookup_secret"] = i < 3 ? codes[0] : codes[1] })));
        Assert.Equal(1, results.Take(3).Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(2, results.Take(3).Count(r => r.StatusCode == HttpStatusCode.BadRequest));
        Assert.Equal(HttpStatusCode.OK, results[3].StatusCode);
    }

    [Theory, MemberData(nameof(Gatehouse.Tests.Infrastructure.Db.Providers), MemberType = typeof(Gatehouse.Tests.Infrastructure.Db))]
    public async Task Disable_removes_the_codes_and_the_identity_is_back_to_aal1(string db)
    {
        var s = await fixture.Get(db);
        var (email, codes, token, id) = await EnrolledUser(s);
        var flow = await SettingsFlow(s, token);
        var done = await (await Send(s, HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}", token,
            new JsonObject { ["method"] = "lookup_secret", ["lookup_secret_disable"] = true })).Json(HttpStatusCode.OK);
        Assert.Equal(["lookup_secret_regenerate"], GroupNames(done));
        Assert.Null((await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}")).Json(HttpStatusCode.OK))["credentials"]!["lookup_secret"]);
        var fresh = (await PasswordLogin(s, email))["session_token"]!.GetValue<string>();
        await (await Send(s, HttpMethod.Get, "/sessions/whoami", fresh)).Json(HttpStatusCode.OK);
        var aal2 = await (await Send(s, HttpMethod.Get, "/self-service/login/api?aal=aal2", fresh)).Json(HttpStatusCode.OK);
        Assert.Null(Node(aal2, "lookup_secret"));
        var refused = await Send(s, HttpMethod.Post, $"/self-service/login?flow={aal2["id"]}", fresh, new JsonObject { ["method"] = "lookup_secret", ["lookup_secret"] = codes[0] });
        Assert.Contains(4000014L, MessageIds(await refused.Json(HttpStatusCode.BadRequest)));
        // No button true: Kratos's lookup strategy is not responsible, so the settings flow answers 4010004.
        var nothing = await (await Send(s, HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}", token, new JsonObject { ["method"] = "lookup_secret" })).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4010004L], MessageIds(nothing));
        Assert.Equal("Could not find a strategy to update your settings. Did you fill out the form correctly?", nothing["ui"]!["messages"]![0]!["text"]!.GetValue<string>());
        // Reveal without codes: Kratos's 400 reason as 4000001.
        var none = await (await Send(s, HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}", token,
            new JsonObject { ["method"] = "lookup_secret", ["lookup_secret_reveal"] = true })).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4000001L], MessageIds(none));
        Assert.Equal("Can not reveal lookup codes because you have none.", none["ui"]!["messages"]![0]!["text"]!.GetValue<string>());
    }

    /// <summary>
    /// Several buttons true at once: Kratos's lookup <c>continueSettingsFlow</c> takes confirm, then reveal, then disable,
    /// then regenerate (its snapshot <c>regenerate_but_no_confirmation</c> posts all the form's buttons and shows the
    /// revealed codes); a regenerate leaves only the codes and confirm, disable included.
    /// </summary>
    [Theory, MemberData(nameof(Gatehouse.Tests.Infrastructure.Db.Providers), MemberType = typeof(Gatehouse.Tests.Infrastructure.Db))]
    public async Task Several_buttons_follow_kratos_order_and_regenerate_leaves_only_codes_and_confirm(string db)
    {
        var s = await fixture.Get(db);
        var (_, codes, token, id) = await EnrolledUser(s);
        var flow = await SettingsFlow(s, token);
        var url = $"/self-service/settings?flow={flow["id"]}";
        async Task<string> Stored() => (await Db(s, d => d.Credentials.AsNoTracking().SingleAsync(c => c.IdentityId == Guid.Parse(id) && c.Type == "lookup_secret"))).Config;
        var before = await Stored();

        var all = await (await Send(s, HttpMethod.Post, url, token, new JsonObject
        {
            ["method"] = "lookup_secret", ["lookup_secret_reveal"] = true, ["lookup_secret_disable"] = true, ["lookup_secret_regenerate"] = true,
        })).Json(HttpStatusCode.OK);
        Assert.Equal(["lookup_secret_codes", "lookup_secret_disable", "lookup_secret_regenerate"], GroupNames(all));
        Assert.Equal(12, Secrets(all).Count);
        Assert.Equal(before, await Stored());

        var regenerated = await (await Send(s, HttpMethod.Post, url, token, new JsonObject { ["method"] = "lookup_secret", ["lookup_secret_regenerate"] = true })).Json(HttpStatusCode.OK);
        Assert.Equal(["lookup_secret_codes", "lookup_secret_confirm"], GroupNames(regenerated));
        var fetched = await (await Send(s, HttpMethod.Get, $"/self-service/settings/flows?id={flow["id"]}", token)).Json(HttpStatusCode.OK);
        Assert.Equal(["lookup_secret_codes", "lookup_secret_confirm"], GroupNames(fetched));

        // Confirm before regenerate: the codes shown above are stored, not a fresh set.
        var confirmed = await (await Send(s, HttpMethod.Post, url, token, new JsonObject
        {
            ["method"] = "lookup_secret", ["lookup_secret_regenerate"] = true, ["lookup_secret_confirm"] = true,
        })).Json(HttpStatusCode.OK);
        Assert.Equal("success", confirmed["state"]!.GetValue<string>());
        Assert.NotEqual(before, await Stored());
        var fresh = Codes(regenerated);
        var stepUp = (await PasswordLogin(s, (await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}")).Json(HttpStatusCode.OK))["traits"]!["email"]!.GetValue<string>()))["session_token"]!.GetValue<string>();
        Assert.Contains(4000016L, MessageIds(await (await StepUp(s, stepUp, codes[0])).Json(HttpStatusCode.BadRequest)));
        await (await StepUp(s, stepUp, fresh[0])).Json(HttpStatusCode.OK);

        // Disable before regenerate.
        var next = await SettingsFlow(s, token);
        var disabled = await (await Send(s, HttpMethod.Post, $"/self-service/settings?flow={next["id"]}", token, new JsonObject
        {
            ["method"] = "lookup_secret", ["lookup_secret_disable"] = true, ["lookup_secret_regenerate"] = true,
        })).Json(HttpStatusCode.OK);
        Assert.Equal(["lookup_secret_regenerate"], GroupNames(disabled));
        Assert.Null((await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}")).Json(HttpStatusCode.OK))["credentials"]!["lookup_secret"]);
    }

    private static Task<HttpResponseMessage> SendForm(TestServer s, string url, string token, KeyValuePair<string, string>[] fields)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(fields) };
        request.Headers.Add("X-Session-Token", token);
        return s.Public.SendAsync(request);
    }

    /// <summary>
    /// Kratos reads the JSON of a lookup_secret submit as a form (<c>HTTPDecoderJSONFollowsFormFormat</c>): a number is a
    /// code like any other, null and <c>""</c> are left out (the required code: 4000002), and the buttons take Go's
    /// <c>strconv.ParseBool</c> spellings whether sent as JSON booleans, strings or numbers. A value ParseBool refuses is
    /// Go's decode error: the flow with 4000001 from a form, a 400 error from JSON. Nothing is changed by a refusal.
    /// </summary>
    [Theory, MemberData(nameof(Gatehouse.Tests.Infrastructure.Db.Providers), MemberType = typeof(Gatehouse.Tests.Infrastructure.Db))]
    public async Task Fields_are_read_as_kratos_reads_json_as_a_form(string db)
    {
        var s = await fixture.Get(db);
        var (email, codes, tokenA, id) = await EnrolledUser(s);
        var token = (await PasswordLogin(s, email))["session_token"]!.GetValue<string>();
        var flow = await (await Send(s, HttpMethod.Get, "/self-service/login/api?aal=aal2", token)).Json(HttpStatusCode.OK);
        var submit = $"/self-service/login?flow={flow["id"]}";
        var number = await (await Send(s, HttpMethod.Post, submit, token, new JsonObject { ["method"] = "lookup_secret", ["lookup_secret"] = 12345678 })).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4000016L], MessageIds(number));
        var missing = await (await Send(s, HttpMethod.Post, submit, token, new JsonObject { ["method"] = "lookup_secret" })).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4000002L], MessageIds(missing, "lookup_secret"));
        var nulled = await (await Send(s, HttpMethod.Post, submit, token, new JsonObject { ["method"] = "lookup_secret", ["lookup_secret"] = null })).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4000002L], MessageIds(nulled, "lookup_secret"));
        var empty = await (await Send(s, HttpMethod.Post, submit, token, new JsonObject { ["method"] = "lookup_secret", ["lookup_secret"] = "" })).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4000002L], MessageIds(empty, "lookup_secret"));
        await (await Send(s, HttpMethod.Post, submit, token, new JsonObject { ["method"] = "lookup_secret", ["lookup_secret"] = codes[0] })).Json(HttpStatusCode.OK);

        var settings = await SettingsFlow(s, tokenA);
        var url = $"/self-service/settings?flow={settings["id"]}";
        async Task<string> Stored() => (await Db(s, d => d.Credentials.AsNoTracking().SingleAsync(c => c.IdentityId == Guid.Parse(id) && c.Type == "lookup_secret"))).Config;
        var before = await Stored();
        var number5 = await (await Send(s, HttpMethod.Post, url, tokenA, new JsonObject { ["lookup_secret_disable"] = 5 })).Error(HttpStatusCode.BadRequest);
        Assert.Equal("json: cannot unmarshal string into Go struct field updateSettingsFlowWithLookupMethod.lookup_secret_disable of type bool",
            number5["message"]!.GetValue<string>());
        var word = await (await Send(s, HttpMethod.Post, url, tokenA, new JsonObject { ["method"] = "lookup_secret", ["lookup_secret_disable"] = "yes" })).Error(HttpStatusCode.BadRequest);
        Assert.Equal("json: cannot unmarshal string into Go struct field updateSettingsFlowWithLookupMethod.lookup_secret_disable of type bool",
            word["message"]!.GetValue<string>());
        var badForm = await (await SendForm(s, url, tokenA, [new("lookup_secret_disable", "yes")])).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4000001L], MessageIds(badForm));
        Assert.Equal("Unable to decode JSON payload: json: cannot unmarshal string into Go struct field updateSettingsFlowWithLookupMethod.lookup_secret_disable of type bool",
            badForm["ui"]!["messages"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(before, await Stored());
        // The JSON string "true" and the number 1 are true buttons.
        var regenerated = await (await Send(s, HttpMethod.Post, url, tokenA, new JsonObject { ["method"] = "lookup_secret", ["lookup_secret_regenerate"] = "true" })).Json(HttpStatusCode.OK);
        Assert.Equal(["lookup_secret_codes", "lookup_secret_confirm"], GroupNames(regenerated));
        Assert.Equal(before, await Stored());
        await (await Send(s, HttpMethod.Post, url, tokenA, new JsonObject { ["lookup_secret_confirm"] = 1 })).Json(HttpStatusCode.OK);
        Assert.NotEqual(before, await Stored());
    }

    /// <summary>
    /// The four buttons post only their own name (no <c>method</c>), as a form without scripts sends them: Kratos's lookup
    /// strategy sets the method itself when one of them is true. A <c>method</c> naming another method still wins.
    /// </summary>
    [Theory, MemberData(nameof(Gatehouse.Tests.Infrastructure.Db.Providers), MemberType = typeof(Gatehouse.Tests.Infrastructure.Db))]
    public async Task The_buttons_alone_are_taken_by_the_lookup_secret_method(string db)
    {
        var s = await fixture.Get(db);
        var (_, token, reg) = await RegisterApi(s);
        var id = reg["identity"]!["id"]!.GetValue<string>();
        var flow = await SettingsFlow(s, token);
        var url = $"/self-service/settings?flow={flow["id"]}";
        var generated = await (await SendForm(s, url, token, [new("lookup_secret_regenerate", "true")])).Json(HttpStatusCode.OK);
        Assert.Equal("lookup_secret", generated["active"]!.GetValue<string>());
        var codes = Codes(generated);
        Assert.Equal(12, codes.Distinct().Count());
        Assert.All(codes, c => Assert.Matches(CodeShape(), c));
        // method=password with a lookup button is the password method's submit (Kratos asks the strategies in order).
        var password = await (await Send(s, HttpMethod.Post, url, token, new JsonObject { ["method"] = "password", ["lookup_secret_confirm"] = true })).Json(HttpStatusCode.BadRequest);
        Assert.Equal("password", password["active"]!.GetValue<string>());
        Assert.Null((await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}")).Json(HttpStatusCode.OK))["credentials"]!["lookup_secret"]);
        await (await Send(s, HttpMethod.Post, url, token, new JsonObject { ["lookup_secret_confirm"] = true })).Json(HttpStatusCode.OK);
        Assert.NotNull((await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}")).Json(HttpStatusCode.OK))["credentials"]!["lookup_secret"]);
        var revealed = await (await SendForm(s, url, token, [new("lookup_secret_reveal", "true")])).Json(HttpStatusCode.OK);
        Assert.Equal(12, Secrets(revealed).Count);
        var disabled = await (await SendForm(s, url, token, [new("lookup_secret_disable", "true")])).Json(HttpStatusCode.OK);
        Assert.Equal(["lookup_secret_regenerate"], GroupNames(disabled));
        Assert.Null((await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}")).Json(HttpStatusCode.OK))["credentials"]!["lookup_secret"]);
        var nobody = await (await SendForm(s, url, token, [new("lookup_secret_regenerate", "false")])).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4010004L, MessageIds(nobody));
    }

    [Theory, MemberData(nameof(Gatehouse.Tests.Infrastructure.Db.Providers), MemberType = typeof(Gatehouse.Tests.Infrastructure.Db))]
    public async Task Imported_codes_are_hashed_work_once_and_survive_admin_patch_and_put(string db)
    {
        var s = await fixture.Get(db);
        var email = HttpAssertions.UniqueEmail("lookup-import");
        var created = await (await s.AdminWithKey.PostJson("/admin/identities", JsonNode.Parse("""
            {"schema_id":"default","traits":{"email":"EMAIL"},
             "credentials":{"password":{"config":{"password":"PASSWORD"}},
                            "lookup_secret":{"config":{"codes":[{"code":"import-one"},{"code":"import-two","used_at":"2026-01-02T03:04:05Z"}]}}}}
            """.Replace("EMAIL", email, StringComparison.Ordinal).Replace("PASSWORD", GoodPassword, StringComparison.Ordinal))!)).Json(HttpStatusCode.Created);
        var id = created["id"]!.GetValue<string>();
        var stored = await Db(s, d => d.Credentials.AsNoTracking().SingleAsync(c => c.IdentityId == Guid.Parse(id) && c.Type == "lookup_secret"));
        Assert.DoesNotContain("import-one", stored.Config, StringComparison.Ordinal);
        var admin = await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}?include_credential=lookup_secret")).Json(HttpStatusCode.OK);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"recovery_codes":[{"used_at":null},{"used_at":"2026-01-02T03:04:05Z"}]}"""), admin["credentials"]!["lookup_secret"]!["config"]));

        // A PATCH of something else and a PUT without credentials keep the hashes; a PATCH adding a plain code hashes it.
        await (await s.AdminWithKey.PatchJson($"/admin/identities/{id}", """[{"op":"replace","path":"/metadata_admin","value":{"a":1}}]""")).Json(HttpStatusCode.OK);
        await (await s.AdminWithKey.PatchJson($"/admin/identities/{id}", """[{"op":"add","path":"/credentials/lookup_secret/config/recovery_codes/-","value":{"code":"patched-3"}}]""")).Json(HttpStatusCode.OK);
        await (await s.AdminWithKey.PutJson($"/admin/identities/{id}", $$$"""{"schema_id":"default","state":"active","traits":{"email":"{{{email}}}"}}""")).Json(HttpStatusCode.OK);
        var after = await Db(s, d => d.Credentials.AsNoTracking().SingleAsync(c => c.IdentityId == Guid.Parse(id) && c.Type == "lookup_secret"));
        Assert.StartsWith(stored.Config.TrimEnd(']', '}'), after.Config, StringComparison.Ordinal);
        Assert.DoesNotContain("patched-3", after.Config, StringComparison.Ordinal);

        var token = (await PasswordLogin(s, email))["session_token"]!.GetValue<string>();
        Assert.Contains(4000012L, MessageIds(await (await StepUp(s, token, "import-two")).Json(HttpStatusCode.BadRequest)));
        await (await StepUp(s, token, "import-one")).Json(HttpStatusCode.OK);
        var second = (await PasswordLogin(s, email))["session_token"]!.GetValue<string>();
        Assert.Contains(4000012L, MessageIds(await (await StepUp(s, second, "import-one")).Json(HttpStatusCode.BadRequest)));
        await (await StepUp(s, second, "patched-3")).Json(HttpStatusCode.OK);

        await (await s.AdminWithKey.DeleteAsync($"/admin/identities/{id}/credentials/lookup_secret")).Json(HttpStatusCode.NoContent);
        Assert.Null((await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}")).Json(HttpStatusCode.OK))["credentials"]!["lookup_secret"]);
    }

    /// <summary>
    /// A browser's form post: 303 to the settings page, whose fetch shows the codes from this browser's encrypted cookie
    /// (the stored flow has only hashes); another request without that cookie sees placeholders; confirming removes it.
    /// </summary>
    [Theory, MemberData(nameof(Gatehouse.Tests.Infrastructure.Db.Providers), MemberType = typeof(Gatehouse.Tests.Infrastructure.Db))]
    public async Task A_browser_form_post_sees_its_codes_on_the_settings_page_it_is_sent_to(string db)
    {
        var s = await fixture.Get(db);
        using var browser = new Browser(s.PublicUrl);
        var email = HttpAssertions.UniqueEmail("lookup-browser");
        var reg = await StartBrowserFlow(browser, "registration");
        await browser.PostForm($"/self-service/registration?flow={reg["id"]}",
            [new("csrf_token", Csrf(reg)), new("method", "password"), new("traits.email", email), new("password", GoodPassword)]);
        var settings = await StartBrowserFlow(browser, "settings");
        var posted = await browser.PostForm($"/self-service/settings?flow={settings["id"]}",
            [new("csrf_token", Csrf(settings)), new("method", "lookup_secret"), new("lookup_secret_regenerate", "true")]);
        Assert.Equal(HttpStatusCode.SeeOther, posted.StatusCode);
        var cookie = browser.Cookie("gatehouse_lookup_secret_codes");
        Assert.NotNull(cookie);
        Assert.True(cookie.HttpOnly);
        var shown = await (await browser.Client.GetAsync($"/self-service/settings/flows?id={settings["id"]}")).Json(HttpStatusCode.OK);
        var codes = Codes(shown);
        Assert.All(codes, c => Assert.Matches(CodeShape(), c));
        var page = await (await browser.Client.GetAsync($"/ui/settings?flow={settings["id"]}")).Content.ReadAsStringAsync();
        Assert.All(codes, c => Assert.Contains(c, page, StringComparison.Ordinal));

        // A tampered cookie shows nothing.
        var value = cookie.Value;
        cookie.Value = value[..^2] + (value[^2] == 'A' ? "B" : "A") + value[^1];
        var tampered = await (await browser.Client.GetAsync($"/self-service/settings/flows?id={settings["id"]}")).Json(HttpStatusCode.OK);
        Assert.All(Secrets(tampered), x => Assert.Equal("********", x["text"]!.GetValue<string>()));
        cookie.Value = value;

        var confirmed = await browser.PostForm($"/self-service/settings?flow={settings["id"]}",
            [new("csrf_token", Csrf(settings)), new("method", "lookup_secret"), new("lookup_secret_confirm", "true")]);
        Assert.Equal(HttpStatusCode.SeeOther, confirmed.StatusCode);
        Assert.Null(browser.Cookie("gatehouse_lookup_secret_codes"));
        var row = await Db(s, d => d.Flows.AsNoTracking().SingleAsync(f => f.Id == Guid.Parse(settings["id"]!.GetValue<string>())));
        Assert.All(codes, c => Assert.DoesNotContain(c, row.Ui + row.InternalContext, StringComparison.Ordinal));
    }

    /// <summary>
    /// The lookup_secret nodes of browser settings flows (no codes; codes hidden behind reveal with disable; revealed) and
    /// of an aal2 browser login equal Kratos's snapshots (<c>shared/reference/kratos/methods/snapshots/lookup</c>).
    /// </summary>
    [Fact]
    public async Task Lookup_nodes_match_kratos_snapshots()
    {
        static JsonArray Snapshot(string name) =>
            JsonNode.Parse(File.ReadAllText(Gatehouse.Tests.Schemas.ReferenceData.PathOrSkip("kratos", "methods", "snapshots", "lookup", name)))!.AsArray();
        static JsonArray Ours(JsonNode flow, bool keepText = false)
        {
            var nodes = new JsonArray();
            foreach (var n in flow["ui"]!["nodes"]!.AsArray().Where(n => n!["group"]!.GetValue<string>() == "lookup_secret" || n["attributes"]!["name"]?.GetValue<string>() == "csrf_token"))
            {
                var copy = n!.DeepClone().AsObject();
                if (copy["attributes"]!["name"]?.GetValue<string>() == "csrf_token") copy["attributes"]!.AsObject().Remove("value");
                nodes.Add(copy);
            }
            return nodes;
        }

        var s = await fixture.Get(Gatehouse.Tests.Infrastructure.Db.Sqlite);
        using var browser = new Browser(s.PublicUrl);
        var email = HttpAssertions.UniqueEmail("snap");
        var reg = await StartBrowserFlow(browser, "registration");
        await browser.PostForm($"/self-service/registration?flow={reg["id"]}",
            [new("csrf_token", Csrf(reg)), new("method", "password"), new("traits.email", email), new("password", GoodPassword)]);
        var settings = await StartBrowserFlow(browser, "settings");
        Assert.True(JsonNode.DeepEquals(Snapshot("TestCompleteSettings-case=button_for_regeneration_is_displayed_when_identity_has_no_recovery_codes_yet-case=browser.json"), Ours(settings)), Ours(settings).ToJsonString());
        await browser.PostForm($"/self-service/settings?flow={settings["id"]}", [new("csrf_token", Csrf(settings)), new("method", "lookup_secret"), new("lookup_secret_regenerate", "true")]);
        await browser.PostForm($"/self-service/settings?flow={settings["id"]}", [new("csrf_token", Csrf(settings)), new("method", "lookup_secret"), new("lookup_secret_confirm", "true")]);
        var after = await StartBrowserFlow(browser, "settings");
        Assert.True(JsonNode.DeepEquals(Snapshot("TestCompleteSettings-case=hide_recovery_codes_behind_reveal_button_and_show_disable_button-case=browser.json"), Ours(after)), Ours(after).ToJsonString());

        // Revealed: Kratos's node list (codes, disable, regenerate) with the codes' texts as Gatehouse can show them.
        await browser.PostForm($"/self-service/settings?flow={after["id"]}", [new("csrf_token", Csrf(after)), new("method", "lookup_secret"), new("lookup_secret_reveal", "true")]);
        var revealed = await (await browser.Client.GetAsync($"/self-service/settings/flows?id={after["id"]}")).Json(HttpStatusCode.OK);
        var expected = Snapshot("TestCompleteSettings-case=should_pass_without_csrf_if_API_flow.json");
        var text = expected[1]!["attributes"]!["text"]!.AsObject();
        text["text"] = string.Join(", ", Enumerable.Repeat("********", 12));
        text["context"] = new JsonObject { ["secrets"] = new JsonArray([.. Enumerable.Range(0, 12).Select(_ => (JsonNode)new JsonObject { ["id"] = 1050009, ["text"] = "********", ["type"] = "info" })]) };
        Assert.True(JsonNode.DeepEquals(expected, Ours(revealed)), Ours(revealed).ToJsonString());

        using var second = new Browser(s.PublicUrl);
        var login = await StartBrowserFlow(second, "login");
        await second.PostForm($"/self-service/login?flow={login["id"]}",
            [new("csrf_token", Csrf(login)), new("method", "password"), new("identifier", email), new("password", GoodPassword)]);
        var aal2 = await StartBrowserFlow(second, "login", "?aal=aal2");
        Assert.True(JsonNode.DeepEquals(Snapshot("TestFormHydration-method=PopulateLoginMethodSecondFactor.json"), Ours(aal2)), Ours(aal2).ToJsonString());
    }

    private static async Task<JsonNode> StartBrowserFlow(Browser browser, string kind, string query = "")
    {
        var init = await browser.Client.GetAsync($"/self-service/{kind}/browser{query}");
        Assert.Equal(HttpStatusCode.SeeOther, init.StatusCode);
        var location = init.Headers.Location!.ToString();
        var id = location[(location.IndexOf("flow=", StringComparison.Ordinal) + 5)..];
        return await (await browser.Client.GetAsync($"/self-service/{kind}/flows?id={id}")).Json(HttpStatusCode.OK);
    }
}
