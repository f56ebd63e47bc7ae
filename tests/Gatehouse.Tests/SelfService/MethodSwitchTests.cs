using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

/// <summary>
/// <c>selfservice.methods.&lt;name&gt;.enabled</c>: a switched-off method contributes no nodes and handles no submit, and a
/// recovery or verification flow whose <c>use</c> names a switched-off method answers Kratos's 400.
/// </summary>
public sealed class MethodSwitchTests(FlowServerFixture fixture) : IClassFixture<FlowServerFixture>
{
    private static IEnumerable<string> Groups(JsonNode flow) =>
        flow["ui"]!["nodes"]!.AsArray().Select(n => n!["group"]!.GetValue<string>()).Distinct();

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Without_the_password_method_login_and_registration_show_no_password_nodes_and_refuse_method_password(string db)
    {
        var s = await fixture.Get(db, "no-password", o => o.Selfservice.Methods.Password.Enabled = false);

        var login = await ApiFlow(s.Public, "login");
        Assert.DoesNotContain("password", Groups(login));
        Assert.Null(Node(login, "password"));
        var refused = await (await s.Public.PostJson($"/self-service/login?flow={login["id"]}",
            """{"method":"password","identifier":"someone@example.com","password":"correct-horse-battery-staple-42"}""")).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4010002L, MessageIds(refused));

        var registration = await ApiFlow(s.Public, "registration");
        Assert.DoesNotContain("password", Groups(registration));
        var email = HttpAssertions.UniqueEmail("nopw");
        var notRegistered = await (await s.Public.PostJson($"/self-service/registration?flow={registration["id"]}",
            new JsonObject { ["method"] = "password", ["password"] = GoodPassword, ["traits"] = new JsonObject { ["email"] = email } })).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4010003L, MessageIds(notRegistered));
        // Nothing was written: no identity has the address.
        var found = await (await s.AdminWithKey.GetAsync($"/admin/identities?credentials_identifier={Uri.EscapeDataString(email)}")).Json(HttpStatusCode.OK);
        Assert.Empty(found.AsArray());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Without_the_profile_method_settings_show_no_profile_group_and_refuse_method_profile(string db)
    {
        var s = await fixture.Get(db, "no-profile", o => o.Selfservice.Methods.Profile.Enabled = false);
        var (_, token, _) = await RegisterApi(s);

        var get = new HttpRequestMessage(HttpMethod.Get, "/self-service/settings/api");
        get.Headers.Add("X-Session-Token", token);
        var flow = await (await s.Public.SendAsync(get)).Json(HttpStatusCode.OK);
        Assert.DoesNotContain("profile", Groups(flow));
        Assert.Contains("password", Groups(flow));

        var post = new HttpRequestMessage(HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}")
        {
            Content = new StringContent("""{"method":"profile","traits":{"email":"changed@example.com"}}""", System.Text.Encoding.UTF8, "application/json"),
        };
        post.Headers.Add("X-Session-Token", token);
        var refused = await (await s.Public.SendAsync(post)).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4010004L, MessageIds(refused));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Recovery_and_verification_using_a_switched_off_method_answer_400_as_Kratos(string db)
    {
        // link is off by default (as in Kratos's config schema).
        var s = await fixture.Get(db, "use-link-off", o =>
        {
            o.Selfservice.Flows.Recovery.Enabled = true;
            o.Selfservice.Flows.Recovery.Use = "link";
            o.Selfservice.Flows.Verification.Enabled = true;
            o.Selfservice.Flows.Verification.Use = "link";
        });
        var recovery = await (await s.Public.GetAsync("/self-service/recovery/api")).Error(HttpStatusCode.BadRequest);
        Assert.Equal("The active recovery strategy link is not enabled. Please enable it in the configuration.", recovery["reason"]!.GetValue<string>());
        var verification = await (await s.Public.GetAsync("/self-service/verification/api")).Error(HttpStatusCode.BadRequest);
        Assert.Equal("The active verification strategy link is not enabled. Please enable it in the configuration.", verification["reason"]!.GetValue<string>());
    }
}
