using Gatehouse.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.OAuth2.Flows;

/// <summary>
/// Reads the members of a login/consent admin body with Go's decoding rules (a wrong type is an error naming the
/// member, as <c>encoding/json</c> reports it; an absent or null member is the zero value), for Hydra's
/// "Unable to decode body because: …" <c>invalid_request</c>.
/// </summary>
internal static class JsonBody
{
    public static JsonObject Object(JsonNode? body, string goType)
    {
        if (body is null) return [];
        if (body is JsonObject o) return o;
        throw Decode($"json: cannot unmarshal {GoJsonKind.Of(body)} into Go value of type {goType}");
    }

    public static string String(JsonObject o, string name, string goType) => o[name] switch
    {
        null => "",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        var other => throw Mismatch(other, goType, name, "string"),
    };

    public static bool Bool(JsonObject o, string name, string goType) => o[name] switch
    {
        null => false,
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
        var other => throw Mismatch(other, goType, name, "bool"),
    };

    public static long Int(JsonObject o, string name, string goType) => o[name] switch
    {
        null => 0,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var n) => n,
        var other => throw Mismatch(other, goType, name, "int64"),
    };

    public static string[] Strings(JsonObject o, string name, string goType)
    {
        var node = o[name];
        if (node is null) return [];
        if (node is not JsonArray a) throw Mismatch(node, goType, name, "[]string");
        return [.. a.Select(x => x is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : throw Mismatch(x, goType, name, "string"))];
    }

    /// <summary>A member that must be a JSON object of claims (or absent/null).</summary>
    public static JsonObject? Claims(JsonObject o, string name, string goType) => o[name] switch
    {
        null => null,
        JsonObject c => (JsonObject)c.DeepClone(),
        var other => throw Mismatch(other, goType, name, "map[string]interface {}"),
    };

    public static OAuth2Error Decode(string reason) => OAuth2Error.InvalidRequest("Unable to decode body because: " + reason);

    private static OAuth2Error Mismatch(JsonNode? value, string goType, string name, string type) =>
        Decode($"json: cannot unmarshal {GoJsonKind.Of(value)} into Go struct field {goType}.{name} of type {type}");
}
