using System.Text.Json.Nodes;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Ui;
using Gatehouse.Tests.Schemas;

namespace Gatehouse.Tests.SelfService;

/// <summary>Kratos's node sort for forms of more than 12 nodes, where Go's unstable group pass decides the order of ties.</summary>
public sealed class UiNodeOrderTests
{
    /// <summary>A schema whose <c>name_suffix</c> starts with the key <c>traits.name</c>: Kratos gives both nodes that key's position.</summary>
    private const string Schema = """
    {
      "type": "object",
      "properties": {
        "traits": {
          "type": "object",
          "properties": {
            "email": { "type": "string", "format": "email" },
            "name": { "type": "string" },
            "name_suffix": { "type": "string" }
          }
        }
      }
    }
    """;

    private static string Describe(JsonObject node) =>
        $"{node["attributes"]!["name"]}:{node["attributes"]!["value"]?.ToString() ?? "<nil>"}";

    /// <summary>
    /// A 13-node registration form (CSRF token, three traits, password, code, six social providers). Go's pdqsort_func
    /// (pivot: median of indexes 3, 6, 9 = traits.name_suffix) leaves the group pass as apple slack gitlab microsoft google
    /// github | name_suffix csrf_token name email | code | method password; the stable pass then orders the providers by
    /// value and the default group by key, where <c>traits.name_suffix</c> and <c>traits.name</c> share the position of
    /// <c>traits.name</c> and the value <c>&lt;nil&gt;</c>: they stay as the group pass left them, suffix first. A stable
    /// group pass would keep name first.
    /// </summary>
    [Fact]
    public void A_registration_form_of_13_nodes_keeps_ties_in_the_order_Go_pdqsort_leaves_them()
    {
        var ui = new UiContainer();
        ui.Nodes.Add(UiNodes.Csrf("token"));
        ui.Nodes.Add(UiNodes.Input("traits.email", "email", UiNodes.DefaultGroup));
        ui.Nodes.Add(UiNodes.Input("traits.name", "text", UiNodes.DefaultGroup));
        ui.Nodes.Add(UiNodes.Input("traits.name_suffix", "text", UiNodes.DefaultGroup));
        ui.Nodes.Add(UiNodes.Input("password", "password", UiNodes.PasswordGroup));
        ui.Nodes.Add(UiNodes.Input("method", "submit", UiNodes.PasswordGroup, "password"));
        ui.Nodes.Add(UiNodes.Input("method", "submit", "code", "code"));
        foreach (var provider in new[] { "apple", "github", "google", "microsoft", "gitlab", "slack" })
            ui.Nodes.Add(UiNodes.Input("provider", "submit", "oidc", provider));

        UiNodeOrder.Arrange(FlowKinds.Registration, ui, TestSchemas.Create(Schema));

        Assert.Equal(
            ["provider:apple", "provider:github", "provider:gitlab", "provider:google", "provider:microsoft", "provider:slack",
             "csrf_token:token", "traits.email:<nil>", "traits.name_suffix:<nil>", "traits.name:<nil>", "method:code", "password:<nil>", "method:password"],
            ui.Nodes.Select(Describe));
    }

    [Fact]
    public void Up_to_12_nodes_ties_keep_the_order_they_came_in()
    {
        var ui = new UiContainer();
        ui.Nodes.Add(UiNodes.Csrf("token"));
        ui.Nodes.Add(UiNodes.Input("traits.email", "email", UiNodes.DefaultGroup));
        ui.Nodes.Add(UiNodes.Input("traits.name", "text", UiNodes.DefaultGroup));
        ui.Nodes.Add(UiNodes.Input("traits.name_suffix", "text", UiNodes.DefaultGroup));
        ui.Nodes.Add(UiNodes.Input("password", "password", UiNodes.PasswordGroup));
        ui.Nodes.Add(UiNodes.Input("method", "submit", UiNodes.PasswordGroup, "password"));
        ui.Nodes.Add(UiNodes.Input("method", "submit", "code", "code"));
        foreach (var provider in new[] { "github", "google" })
            ui.Nodes.Add(UiNodes.Input("provider", "submit", "oidc", provider));

        UiNodeOrder.Arrange(FlowKinds.Registration, ui, TestSchemas.Create(Schema));

        Assert.Equal(
            ["provider:github", "provider:google", "csrf_token:token", "traits.email:<nil>", "traits.name:<nil>", "traits.name_suffix:<nil>",
             "method:code", "password:<nil>", "method:password"],
            ui.Nodes.Select(Describe));
    }
}
