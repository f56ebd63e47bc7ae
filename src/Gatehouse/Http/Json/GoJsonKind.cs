using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.Http.Json;

/// <summary>
/// How Go's <c>encoding/json</c> names a JSON value in its <c>UnmarshalTypeError</c> ("json: cannot unmarshal
/// <b>string</b> into Go value of type int"): <c>object</c>, <c>array</c>, <c>string</c>, <c>number</c>, <c>bool</c>,
/// <c>null</c>. The one place Gatehouse's Go-worded decode errors get it from.
/// </summary>
public static class GoJsonKind
{
    public static string Of(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "object",
        JsonArray => "array",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "string",
            JsonValueKind.Number => "number",
            JsonValueKind.True or JsonValueKind.False => "bool",
            _ => "null",
        },
        _ => "value",
    };
}
