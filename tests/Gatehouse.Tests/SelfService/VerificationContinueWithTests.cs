using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Persistence;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

/// <summary>
/// The verification that follows a registration or a profile change, as Kratos v26.2's verification hook
/// (<c>selfservice/hook/verification.go</c> <c>Verifier.do</c>) and <c>show_verification_ui</c>
/// (<c>hook/show_verification_ui.go</c>) do it: the first unverified address gets a flow and a code; the answer's
/// <c>continue_with</c> names that flow only with the <c>show_verification_ui</c> hook, unless
/// <c>feature_flags.legacy_continue_with_verification_ui</c> is on, which gives each unverified address its own flow and
/// names every one. The item's <c>url</c> is only there for browser flows, and the items come in Kratos's order
/// (registration: <c>redirect_browser_to</c> before the hooks, the <c>session</c> hook's token last).
/// </summary>
public sealed class VerificationContinueWithTests(FlowServerFixture fixture) : IClassFixture<FlowServerFixture>
{
    private const string TwoAddressSchema = """
        {
          "$id": "https://example.com/two-addresses.schema.json",
          "$schema": "http://json-schema.org/draft-07/schema#",
          "type": "object",
          "properties": {
            "traits": {
              "type": "object",
              "properties": {
                "email": {
                  "type": "string", "format": "email",
                  "ory.sh/kratos": { "credentials": { "password": { "identifier": true } }, "verification": { "via": "email" } }
                },
                "backup": {
                  "type": "string", "format": "email",
                  "ory.sh/kratos": { "verification": { "via": "email" } }
                }
              },
              "required": ["email"]
            }
          }
        }
        """;

    private static Task<TestServer> Server(FlowServerFixture f, string db, bool hook, bool legacy = false) =>
        f.Get(db, $"continue-with-{hook}-{legacy}", o =>
        {
            o.Selfservice.Flows.Verification.Enabled = true;
            o.Identity.Schemas = [new IdentitySchemaEntry { Id = "default", Url = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(TwoAddressSchema)) }];
            o.Identity.DefaultSchemaId = "default";
            o.FeatureFlags.LegacyContinueWithVerificationUi = legacy;
            // The session hook first, as in Kratos's quickstart: Kratos runs it last whatever its place.
            List<HookConfig> hooks = hook ? [new() { Hook = "session" }, new() { Hook = "show_verification_ui" }] : [new() { Hook = "session" }];
            o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions { Hooks = hooks };
            if (hook) o.Selfservice.Flows.Settings.After.Profile = new FlowAfterMethodOptions { Hooks = [new() { Hook = "show_verification_ui" }] };
        });

    private static async Task<JsonObject> RegisterApi(TestServer s, JsonObject traits)
    {
        var flow = await ApiFlow(s.Public, "registration");
        return (await (await s.Public.PostJson($"/self-service/registration?flow={flow["id"]}",
            new JsonObject { ["method"] = "password", ["password"] = GoodPassword, ["traits"] = traits })).Json(HttpStatusCode.OK)).AsObject();
    }

    private static string[] Actions(JsonNode body) =>
        body["continue_with"]?.AsArray().Select(c => c!["action"]!.GetValue<string>()).ToArray() ?? [];

    private static async Task<int> VerificationFlowCount(TestServer s, string address)
    {
        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        return await db.CourierMessages.Where(x => x.Recipient == address && x.TemplateType == "verification_code_valid").CountAsync();
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Without_the_hook_the_first_address_gets_its_code_and_no_answer_names_the_flow(string db)
    {
        var s = await Server(fixture, db, hook: false);
        var email = HttpAssertions.UniqueEmail("cw-plain");
        var backup = HttpAssertions.UniqueEmail("cw-plain-backup");
        var body = await RegisterApi(s, new JsonObject { ["email"] = email, ["backup"] = backup });
        Assert.Equal(["set_ory_session_token"], Actions(body));
        Assert.Equal(1, await VerificationFlowCount(s, email));
        // Kratos's hook stops after the first address: the second gets nothing.
        Assert.Equal(0, await MailCount(s, backup));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task With_the_hook_a_native_app_learns_the_flow_before_its_token_and_without_a_url(string db)
    {
        var s = await Server(fixture, db, hook: true);
        var email = HttpAssertions.UniqueEmail("cw-hook");
        var body = await RegisterApi(s, new JsonObject { ["email"] = email });
        Assert.Equal(["show_verification_ui", "set_ory_session_token"], Actions(body));
        var show = body["continue_with"]![0]!["flow"]!.AsObject();
        Assert.Equal(email, show["verifiable_address"]!.GetValue<string>());
        Assert.False(show.ContainsKey("url"), show.ToJsonString());
        var flow = await (await s.Public.GetAsync($"/self-service/verification/flows?id={show["id"]}")).Json(HttpStatusCode.OK);
        Assert.Equal("api", flow["type"]!.GetValue<string>());
        Assert.Equal("sent_email", flow["state"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task With_the_hook_an_spa_gets_its_redirect_first_and_the_flow_with_its_url(string db)
    {
        var s = await Server(fixture, db, hook: true);
        using var browser = new Browser(s.PublicUrl, acceptJson: true);
        var flow = await (await browser.Client.GetAsync("/self-service/registration/browser")).Json(HttpStatusCode.OK);
        var email = HttpAssertions.UniqueEmail("cw-spa");
        var body = await (await browser.Client.PostJson($"/self-service/registration?flow={flow["id"]}",
            new JsonObject { ["csrf_token"] = Csrf(flow), ["method"] = "password", ["password"] = GoodPassword, ["traits"] = new JsonObject { ["email"] = email } })).Json(HttpStatusCode.OK);
        Assert.Equal(["redirect_browser_to", "show_verification_ui"], Actions(body));
        var show = body["continue_with"]![1]!["flow"]!;
        Assert.Equal($"{s.PublicUrl}/ui/verification?flow={show["id"]}", show["url"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_legacy_flag_gives_every_address_its_own_flow_and_names_each(string db)
    {
        var s = await Server(fixture, db, hook: false, legacy: true);
        var email = HttpAssertions.UniqueEmail("cw-legacy");
        var backup = HttpAssertions.UniqueEmail("cw-legacy-backup");
        var body = await RegisterApi(s, new JsonObject { ["email"] = email, ["backup"] = backup });
        Assert.Equal(["show_verification_ui", "show_verification_ui", "set_ory_session_token"], Actions(body));
        var items = body["continue_with"]!.AsArray().Take(2).Select(c => c!["flow"]!).ToList();
        Assert.Equal([email, backup], items.Select(f => f["verifiable_address"]!.GetValue<string>()));
        Assert.NotEqual(items[0]["id"]!.GetValue<string>(), items[1]["id"]!.GetValue<string>());
        Assert.Equal(1, await VerificationFlowCount(s, email));
        Assert.Equal(1, await VerificationFlowCount(s, backup));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_profile_change_that_adds_an_address_names_its_flow_only_with_the_hook(string db)
    {
        foreach (var hook in new[] { true, false })
        {
            var s = await Server(fixture, db, hook);
            var email = HttpAssertions.UniqueEmail("cw-settings");
            var token = (await RegisterApi(s, new JsonObject { ["email"] = email }))["session_token"]!.GetValue<string>();
            using var init = new HttpRequestMessage(HttpMethod.Get, "/self-service/settings/api");
            init.Headers.Add("X-Session-Token", token);
            var flow = await (await s.Public.SendAsync(init)).Json(HttpStatusCode.OK);
            var backup = HttpAssertions.UniqueEmail("cw-settings-backup");
            using var submit = new HttpRequestMessage(HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}")
            {
                Content = new StringContent(new JsonObject { ["method"] = "profile", ["traits"] = new JsonObject { ["email"] = email, ["backup"] = backup } }.ToJsonString(),
                    Encoding.UTF8, "application/json"),
            };
            submit.Headers.Add("X-Session-Token", token);
            var saved = (await (await s.Public.SendAsync(submit)).Json(HttpStatusCode.OK)).AsObject();
            Assert.Equal(1, await VerificationFlowCount(s, backup));
            if (!hook)
            {
                Assert.False(saved.ContainsKey("continue_with"), saved.ToJsonString());
                continue;
            }
            Assert.Equal(["show_verification_ui"], Actions(saved));
            Assert.Equal(backup, saved["continue_with"]![0]!["flow"]!["verifiable_address"]!.GetValue<string>());
        }
    }
}
