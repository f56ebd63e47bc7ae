using System.Text.Json.Nodes;
using Gatehouse.SelfService.Ui;

namespace Gatehouse.Tests.SelfService;

/// <summary>A flow's UI container read from its stored JSON: the same document back, and nodes the container owns.</summary>
public sealed class UiContainerTests
{
    private const string Stored = """
        {"action":"https://example.com/self-service/login?flow=1","method":"POST","nodes":[
          {"type":"input","group":"default","attributes":{"name":"identifier","type":"text","value":"a@example.com"},"messages":[],"meta":{}},
          {"type":"input","group":"code","attributes":{"name":"method","type":"submit","value":"code"},"messages":[],"meta":{"label":{"id":1010015,"text":"Send sign in code","type":"info"}}}],
         "messages":[{"id":1010014,"text":"A code has been sent.","type":"info"}]}
        """;

    [Fact]
    public void A_stored_container_reads_back_to_the_same_document_and_its_nodes_can_move_elsewhere()
    {
        var ui = UiContainer.FromJson(Stored);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Stored), ui.ToJson()));
        Assert.Equal(2, ui.Nodes.Count);
        Assert.Single(ui.Messages);
        // The nodes belong to no parsed array any more: they can be put into another document, and changing them changes the container.
        Assert.All(ui.Nodes, n => Assert.Null(n.Parent));
        _ = new JsonArray(ui.Messages[0]);
        ui.Nodes[0]["attributes"]!["type"] = "hidden";
        Assert.Equal("hidden", ui.ToJson()["nodes"]![0]!["attributes"]!["type"]!.GetValue<string>());
    }
}
