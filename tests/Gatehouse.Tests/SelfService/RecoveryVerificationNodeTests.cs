using System.Net;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Persistence;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

/// <summary>
/// The node sets of recovery and verification in each state, in Kratos's order and with its attributes and labels (its
/// code and link strategies' <c>PopulateRecoveryMethod</c> / <c>PopulateMethod</c> / <c>populateEmailSentFlow</c>), and
/// its answers to a wrong code.
/// </summary>
public sealed class RecoveryVerificationNodeTests(FlowServerFixture fixture) : IClassFixture<FlowServerFixture>
{
    private static Task<TestServer> CodeServer(FlowServerFixture f, string db) => f.Get(db, "nodes-code", o =>
    {
        o.Selfservice.Flows.Verification.Enabled = true;
        o.Selfservice.Flows.Recovery.Enabled = true;
    });

    private static Task<TestServer> LinkServer(FlowServerFixture f, string db) => f.Get(db, "nodes-link", o =>
    {
        o.Selfservice.Flows.Verification.Enabled = true;
        o.Selfservice.Flows.Verification.Use = "link";
        o.Selfservice.Flows.Recovery.Enabled = true;
        o.Selfservice.Flows.Recovery.Use = "link";
        o.Selfservice.Methods.Link.Enabled = true;
    });

    private static readonly JsonSerializerOptions Plain = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>One line per node: group, name, type, value (the CSRF token's is not compared), the other attributes, label id.</summary>
    private static List<string> Shape(JsonNode flow) =>
    [
        .. flow["ui"]!["nodes"]!.AsArray().Select(n =>
        {
            var a = n!["attributes"]!.AsObject();
            var name = a["name"]?.GetValue<string>() ?? a["id"]?.GetValue<string>();
            var value = name == "csrf_token" ? "*" : (a["value"] ?? a["href"])?.ToJsonString();
            var rest = string.Join(",", a.Where(p => p.Key is not ("name" or "type" or "value" or "href" or "id" or "title" or "node_type" or "disabled"))
                .Select(p => $"{p.Key}={p.Value!.ToJsonString(Plain)}"));
            return $"{n["group"]} {name} {a["type"]?.GetValue<string>() ?? n["type"]!.GetValue<string>()} {value} [{rest}] {n["meta"]!["label"]?["id"]}".TrimEnd();
        }),
    ];

    private static async Task<string> LastCode(TestServer s, string to, string field)
    {
        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        var m = await db.CourierMessages.AsNoTracking().Where(x => x.Recipient == to.ToLowerInvariant()).OrderByDescending(x => x.CreatedAt).FirstAsync();
        return JsonNode.Parse(m.TemplateData!)![field]!.GetValue<string>();
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Code_recovery_offers_kratos_nodes_before_and_after_the_code_is_sent_and_answers_a_wrong_code_with_200(string db)
    {
        var s = await CodeServer(fixture, db);
        var (email, _, _) = await RegisterApi(s);
        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        var flow = await (await spa.Client.GetAsync("/self-service/recovery/browser")).Json(HttpStatusCode.OK);
        Assert.Equal(
        [
            "default csrf_token hidden * [required=true]",
            "code email email  [required=true] 1070007",
            "code method submit \"code\" [] 1070009",
        ], Shape(flow));

        var action = $"/self-service/recovery?flow={flow["id"]}";
        var sent = await (await spa.Client.PostJson(action, new JsonObject { ["method"] = "code", ["email"] = email, ["csrf_token"] = Csrf(flow) })).Json(HttpStatusCode.OK);
        Assert.Equal(
        [
            "default csrf_token hidden * [required=true]",
            "code code text  [required=true,autocomplete=\"one-time-code\",pattern=\"[0-9]+\",maxlength=6] 1070010",
            "code method hidden \"code\" []",
            "code method submit \"code\" [] 1070009",
            $"code email submit \"{email}\" [] 1070008",
        ], Shape(sent));

        var code = await LastCode(s, email, "recovery_code");
        var wrong = await (await spa.Client.PostJson(action, new JsonObject { ["method"] = "code", ["code"] = code == "000000" ? "111111" : "000000", ["csrf_token"] = Csrf(flow) })).Json(HttpStatusCode.OK);
        Assert.Equal("sent_email", wrong["state"]!.GetValue<string>());
        Assert.Equal([4060006L], MessageIds(wrong));

        var api = await ApiFlow(s.Public, "recovery");
        await (await s.Public.PostJson($"/self-service/recovery?flow={api["id"]}", new JsonObject { ["method"] = "code", ["email"] = email })).Json(HttpStatusCode.OK);
        var apiWrong = await (await s.Public.PostJson($"/self-service/recovery?flow={api["id"]}", new JsonObject { ["method"] = "code", ["code"] = "12345678" })).Json(HttpStatusCode.OK);
        Assert.Equal([4060006L], MessageIds(apiWrong));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_admin_made_code_recovery_flow_shows_only_the_code_and_its_submit(string db)
    {
        var s = await CodeServer(fixture, db);
        var (_, _, reg) = await RegisterApi(s);
        var created = await (await s.AdminWithKey.PostJson("/admin/recovery/code", new JsonObject { ["identity_id"] = reg["identity"]!["id"]!.GetValue<string>(), ["flow_type"] = "api" })).Json(HttpStatusCode.Created);
        var flowId = new Uri(created["recovery_link"]!.GetValue<string>()).Query.Split("flow=")[1];
        var flow = await (await s.Public.GetAsync($"/self-service/recovery/flows?id={flowId}")).Json(HttpStatusCode.OK);
        Assert.Equal(
        [
            "code code text  [required=true,autocomplete=\"one-time-code\",pattern=\"[0-9]+\",maxlength=6] 1070010",
            "code method submit \"code\" [] 1070009",
        ], Shape(flow));

        // A browser flow gets one CSRF token node, the opening browser's, when it binds the flow.
        var browserMade = await (await s.AdminWithKey.PostJson("/admin/recovery/code", new JsonObject { ["identity_id"] = reg["identity"]!["id"]!.GetValue<string>() })).Json(HttpStatusCode.Created);
        using var browser = new Browser(s.PublicUrl, acceptJson: true);
        var opened = await (await browser.Client.GetAsync($"/self-service/recovery/flows?id={new Uri(browserMade["recovery_link"]!.GetValue<string>()).Query.Split("flow=")[1]}")).Json(HttpStatusCode.OK);
        Assert.Equal(
        [
            "default csrf_token hidden * [required=true]",
            "code code text  [required=true,autocomplete=\"one-time-code\",pattern=\"[0-9]+\",maxlength=6] 1070010",
            "code method submit \"code\" [] 1070009",
        ], Shape(opened));
        Assert.False(string.IsNullOrEmpty(Csrf(opened)));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Code_verification_offers_kratos_nodes_in_every_state(string db)
    {
        var s = await CodeServer(fixture, db);
        var (email, _, _) = await RegisterApi(s);
        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        var flow = await (await spa.Client.GetAsync("/self-service/verification/browser?return_to=http://app.example.com/after")).Json(HttpStatusCode.OK);
        Assert.Equal(
        [
            "code email email  [required=true] 1070007",
            "code method submit \"code\" [] 1070009",
            "default csrf_token hidden * [required=true]",
        ], Shape(flow));

        var action = $"/self-service/verification?flow={flow["id"]}";
        var sent = await (await spa.Client.PostJson(action, new JsonObject { ["method"] = "code", ["email"] = email, ["csrf_token"] = Csrf(flow) })).Json(HttpStatusCode.OK);
        Assert.Equal(
        [
            "code method hidden \"code\" []",
            "code code text  [required=true,autocomplete=\"one-time-code\"] 1070011",
            "code method submit \"code\" [] 1070009",
            "default csrf_token hidden * [required=true]",
            $"code email submit \"{email}\" [] 1070008",
        ], Shape(sent));

        var code = await LastCode(s, email, "verification_code");
        var wrong = await (await spa.Client.PostJson(action, new JsonObject { ["method"] = "code", ["code"] = code == "000000" ? "111111" : "000000", ["csrf_token"] = Csrf(flow) })).Json(HttpStatusCode.OK);
        Assert.Equal([4070006L], MessageIds(wrong));

        var done = await (await spa.Client.PostJson(action, new JsonObject { ["method"] = "code", ["code"] = code, ["csrf_token"] = Csrf(flow) })).Json(HttpStatusCode.OK);
        Assert.Equal("passed_challenge", done["state"]!.GetValue<string>());
        Assert.Equal("GET", done["ui"]!["method"]!.GetValue<string>());
        Assert.Equal("http://app.example.com/after", done["ui"]!["action"]!.GetValue<string>());
        Assert.Equal(["code continue a \"http://app.example.com/after\" [] 1070009"], Shape(done));
        Assert.Equal([1080002L], MessageIds(done));

        var api = await ApiFlow(s.Public, "verification");
        Assert.Equal(
        [
            "code email email  [required=true] 1070007",
            "code method submit \"code\" [] 1070009",
        ], Shape(api));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Link_recovery_and_verification_ask_for_the_address_with_kratos_nodes(string db)
    {
        var s = await LinkServer(fixture, db);
        var (email, _, _) = await RegisterApi(s);
        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        foreach (var kind in new[] { "recovery", "verification" })
        {
            var flow = await (await spa.Client.GetAsync($"/self-service/{kind}/browser")).Json(HttpStatusCode.OK);
            Assert.Equal(
            [
                "default csrf_token hidden * [required=true]",
                "link email email  [required=true] 1070007",
                "link method submit \"link\" [] 1070009",
            ], Shape(flow));
            var sent = await (await spa.Client.PostJson($"/self-service/{kind}?flow={flow["id"]}", new JsonObject { ["method"] = "link", ["email"] = email, ["csrf_token"] = Csrf(flow) })).Json(HttpStatusCode.OK);
            Assert.Equal(
            [
                "default csrf_token hidden * [required=true]",
                $"link email email \"{email}\" [required=true] 1070007",
                "link method submit \"link\" [] 1070009",
            ], Shape(sent));
        }
    }
    /// <summary>
    /// Kratos's code and link recovery methods and its link verification method set the CSRF token node whatever the flow's
    /// type (<c>PopulateRecoveryMethod</c> / <c>PopulateVerificationMethod</c> call <c>SetCSRF</c>), so API flows carry it
    /// too, empty; the code verification method only on browser flows, but its <c>handleVerificationError</c> appends it to
    /// a refused submit's form.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Api_flows_carry_the_csrf_token_node_where_kratos_methods_set_it_for_every_flow_type(string db)
    {
        static string CsrfValue(JsonNode flow) =>
            flow["ui"]!["nodes"]!.AsArray().Single(n => n!["attributes"]!["name"]?.GetValue<string>() == "csrf_token")!["attributes"]!["value"]!.GetValue<string>();

        var code = await CodeServer(fixture, db);
        var (email, _, _) = await RegisterApi(code);
        var recovery = await ApiFlow(code.Public, "recovery");
        Assert.Equal(
        [
            "default csrf_token hidden * [required=true]",
            "code email email  [required=true] 1070007",
            "code method submit \"code\" [] 1070009",
        ], Shape(recovery));
        Assert.Equal("", CsrfValue(recovery));
        var sent = await (await code.Public.PostJson($"/self-service/recovery?flow={recovery["id"]}", new JsonObject { ["method"] = "code", ["email"] = email })).Json(HttpStatusCode.OK);
        Assert.Equal(
        [
            "default csrf_token hidden * [required=true]",
            "code code text  [required=true,autocomplete=\"one-time-code\",pattern=\"[0-9]+\",maxlength=6] 1070010",
            "code method hidden \"code\" []",
            "code method submit \"code\" [] 1070009",
            $"code email submit \"{email}\" [] 1070008",
        ], Shape(sent));
        Assert.Equal("", CsrfValue(sent));

        var verification = await ApiFlow(code.Public, "verification");
        var refused = await (await code.Public.PostJson($"/self-service/verification?flow={verification["id"]}", new JsonObject { ["method"] = "code" })).Json(HttpStatusCode.BadRequest);
        Assert.Equal(
        [
            "code email email  [required=true] 1070007",
            "code method submit \"code\" [] 1070009",
            "default csrf_token hidden * [required=true]",
        ], Shape(refused));
        Assert.Equal([4000002L], MessageIds(refused, "email"));
        Assert.Equal("", CsrfValue(refused));

        var link = await LinkServer(fixture, db);
        var (linkEmail, _, _) = await RegisterApi(link);
        foreach (var kind in new[] { "recovery", "verification" })
        {
            var flow = await ApiFlow(link.Public, kind);
            Assert.Equal(
            [
                "default csrf_token hidden * [required=true]",
                "link email email  [required=true] 1070007",
                "link method submit \"link\" [] 1070009",
            ], Shape(flow));
            Assert.Equal("", CsrfValue(flow));
            var linkSent = await (await link.Public.SubmitJson($"/self-service/{kind}?flow={flow["id"]}", new JsonObject { ["method"] = "link", ["email"] = linkEmail })).Json(HttpStatusCode.OK);
            Assert.Equal("default csrf_token hidden * [required=true]", Shape(linkSent)[0]);
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Admin_recovery_refuses_a_bad_expires_in_or_flow_type_with_kratos_reasons(string db)
    {
        var s = await LinkServer(fixture, db);
        var (_, _, reg) = await RegisterApi(s);
        var id = reg["identity"]!["id"]!.GetValue<string>();
        async Task<string> Reason(string method, JsonObject body)
        {
            body["identity_id"] = id;
            var error = await (await s.AdminWithKey.PostJson($"/admin/recovery/{method}", body)).Error(HttpStatusCode.BadRequest);
            return error["reason"]!.GetValue<string>();
        }
        Assert.Equal("Unable to parse \"expires_in\" whose format should match \"[0-9]+(ns|us|ms|s|m|h)\" but did not: not-a-valid-value",
            await Reason("code", new JsonObject { ["expires_in"] = "not-a-valid-value" }));
        Assert.Equal("Unable to parse \"expires_in\" whose format should match \"[0-9]+(ns|us|ms|s|m|h)\" but did not: soon",
            await Reason("link", new JsonObject { ["expires_in"] = "soon" }));
        Assert.Equal("Value from \"expires_in\" must result to a future time: -1h0m0s", await Reason("code", new JsonObject { ["expires_in"] = "-1h" }));
        Assert.Equal("Value from \"expires_in\" must result to a future time: -1m30s", await Reason("code", new JsonObject { ["expires_in"] = "-90s" }));
        Assert.Equal("Value from \"expires_in\" must result to a future time: 0s", await Reason("code", new JsonObject { ["expires_in"] = "0s" }));
        Assert.Equal("Value from \"expires_in\" must be result to a future time: -1h", await Reason("link", new JsonObject { ["expires_in"] = "-1h" }));
        Assert.Equal("Value from \"flow_type\" is not valid: \"native\"", await Reason("code", new JsonObject { ["flow_type"] = "native" }));
        // The link method takes no flow_type: its flows are browser flows.
        await (await s.AdminWithKey.PostJson("/admin/recovery/link", new JsonObject { ["identity_id"] = id, ["flow_type"] = "native" })).Json(HttpStatusCode.OK);
    }
}
