using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.Jsonnet.Runtime;

/// <summary>Exposes host functions (<see cref="JsonnetNativeFunction"/>) to std.native.</summary>
internal static class NativeBridge
{
    public static BuiltinFunction Wrap(string name, JsonnetNativeFunction native) =>
        new(name, [.. native.Parameters], native.Parameters.Count, (ev, args) =>
        {
            var nodes = new JsonNode?[args.Length];
            for (var i = 0; i < args.Length; i++)
            {
                nodes[i] = ToNode(ev, args[i]!.Force());
            }
            JsonNode? result;
            try
            {
                result = native.Invoke(nodes);
            }
            catch (Exception e) when (e is not JsonnetException)
            {
                throw ev.Error($"native function {name} failed: {e.Message}", null);
            }
            return FromNode(result);
        });

    public static JsonNode? ToNode(Evaluator ev, Value v)
    {
        var json = Manifester.ToJson(ev, v, null, JsonStyle.Custom, "", "", ":");
        return JsonNode.Parse(json);
    }

    public static Value FromNode(JsonNode? node)
    {
        if (node is null)
        {
            return NullValue.Instance;
        }
        using var doc = JsonDocument.Parse(node.ToJsonString());
        return StdLib.FromJson(doc.RootElement);
    }
}
