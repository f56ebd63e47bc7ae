using System.Text.Json.Nodes;

namespace Gatehouse.SelfService.Ui;

/// <summary>
/// A flow's <c>ui</c>: the form action and method, its nodes (inputs, in Kratos's groups and order) and its messages.
/// Kept as JSON nodes because that is how it is stored and served.
/// </summary>
public sealed class UiContainer
{
    public string Action { get; set; } = "";
    public string Method { get; set; } = "POST";
    public List<JsonObject> Nodes { get; } = [];
    public List<JsonObject> Messages { get; } = [];

    public JsonObject ToJson()
    {
        var o = new JsonObject
        {
            ["action"] = Action,
            ["method"] = Method,
            ["nodes"] = new JsonArray([.. Nodes.Select(n => (JsonNode)n.DeepClone())]),
        };
        if (Messages.Count > 0) o["messages"] = new JsonArray([.. Messages.Select(m => (JsonNode)m.DeepClone())]);
        return o;
    }

    public static UiContainer FromJson(string json)
    {
        var o = JsonNode.Parse(json)!.AsObject();
        var ui = new UiContainer { Action = o["action"]?.GetValue<string>() ?? "", Method = o["method"]?.GetValue<string>() ?? "POST" };
        // The parsed nodes themselves, taken out of their arrays (Clear detaches them), not copies of them: every submit reads
        // the flow's UI here, and copying each node doubled the work of the parse.
        Take(o["nodes"] as JsonArray, ui.Nodes);
        Take(o["messages"] as JsonArray, ui.Messages);
        return ui;
    }

    private static void Take(JsonArray? from, List<JsonObject> to)
    {
        if (from is null) return;
        var items = new JsonObject[from.Count];
        for (var i = 0; i < items.Length; i++) items[i] = from[i]!.AsObject();
        from.Clear();
        to.AddRange(items);
    }

    public JsonObject? Find(string name) => Nodes.FirstOrDefault(n => n["attributes"]?["name"]?.GetValue<string>() == name);

    /// <summary>
    /// Kratos's <c>Container.SetCSRF</c> (an upsert of the CSRF node): the <c>csrf_token</c> node carries
    /// <paramref name="token"/>, updated where it stands or appended when the form has none.
    /// </summary>
    public void SetCsrf(string token)
    {
        if (Find("csrf_token")?["attributes"] is JsonObject attributes) attributes["value"] = token;
        else Nodes.Add(UiNodes.Csrf(token));
    }

    /// <summary>
    /// Kratos's <c>Container.AddMessage</c>: a message for a field goes on the node with that name, and a form without one
    /// gets a new text input of the default group carrying it (as Kratos adds it for an error on a field the form does not
    /// show, e.g. the password of a one-submit registration on profile_first's first form); without a field name, on the
    /// form.
    /// </summary>
    public void AddMessage(string? nodeName, JsonObject message)
    {
        if (nodeName is null)
        {
            Messages.Add(message);
            return;
        }
        var node = Find(nodeName);
        if (node is null)
        {
            node = UiNodes.Input(nodeName, "text", UiNodes.DefaultGroup);
            Nodes.Add(node);
        }
        node["messages"]!.AsArray().Add(message);
    }

    public void ClearMessages()
    {
        Messages.Clear();
        foreach (var n in Nodes) n["messages"] = new JsonArray();
    }

    /// <summary>Sets the value of a node (e.g. re-filling traits after a failed submit); secrets are never echoed back.</summary>
    public void SetValue(string name, JsonNode? value)
    {
        var node = Find(name);
        if (node?["attributes"] is not JsonObject attributes) return;
        if (attributes["type"]?.GetValue<string>() is "password") return;
        if (value is null) attributes.Remove("value");
        else attributes["value"] = value.DeepClone();
    }
}
