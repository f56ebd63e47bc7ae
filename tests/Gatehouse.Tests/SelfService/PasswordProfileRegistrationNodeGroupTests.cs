using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

/// <summary>
/// <c>feature_flags.password_profile_registration_node_group</c>. In Kratos v26.2 the password strategy's
/// <c>PopulateRegistrationMethod</c> (selfservice/strategy/password/registration.go) would put the traits in the
/// <c>password</c> group when <c>SelfServiceFlowRegistrationPasswordMethodProfileGroup</c> says so, but that reads
/// <c>selfservice.methods.password.config.password_profile_registration_node_group</c> (driver/config/config.go), a key the
/// schema forbids; the feature flag itself changes nothing, and the traits stay in <c>default</c>.
/// </summary>
public sealed class PasswordProfileRegistrationNodeGroupTests(FlowServerFixture servers) : IClassFixture<FlowServerFixture>
{
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_flag_set_to_password_leaves_the_trait_inputs_in_the_default_group_as_Kratos_v26_2_does(string db)
    {
        var s = await servers.Get(db, "password-group", o => o.FeatureFlags.PasswordProfileRegistrationNodeGroup = "password");
        var flow = await ApiFlow(s.Public, "registration");
        Assert.Equal("default", Node(flow, "traits.email")!["group"]!.GetValue<string>());
        Assert.Equal("password", Node(flow, "password")!["group"]!.GetValue<string>());
        Assert.DoesNotContain(flow["ui"]!["nodes"]!.AsArray(),
            n => n!["group"]!.GetValue<string>() == "password" && n["attributes"]!["name"]!.GetValue<string>().StartsWith("traits.", StringComparison.Ordinal));

        // And registering through it works as without the flag.
        var body = await (await s.Public.PostJson($"/self-service/registration?flow={flow["id"]}",
            new JsonObject { ["method"] = "password", ["password"] = GoodPassword, ["traits"] = new JsonObject { ["email"] = HttpAssertions.UniqueEmail("grp") } })).Json(HttpStatusCode.OK);
        Assert.NotNull(body["session_token"]);
    }
}
