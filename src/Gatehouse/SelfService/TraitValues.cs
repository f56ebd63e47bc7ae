using System.Globalization;
using System.Text.Json.Nodes;
using Gatehouse.Schemas;

namespace Gatehouse.SelfService;

/// <summary>Turns submitted trait values into the types the identity schema declares.</summary>
public static class TraitValues
{
    /// <summary>Form posts carry every value as a string; numbers and booleans are converted per the schema's trait types.</summary>
    public static JsonNode? Coerce(IdentitySchema schema, JsonNode? traits)
    {
        if (traits is not JsonObject) return traits?.DeepClone();
        var copy = traits.DeepClone().AsObject();
        foreach (var field in schema.TraitFields)
        {
            var parts = field.Name.Split('.').Skip(1).ToArray();
            JsonObject? parent = copy;
            for (var i = 0; i < parts.Length - 1 && parent is not null; i++) parent = parent[parts[i]] as JsonObject;
            if (parent is null || parent[parts[^1]] is not JsonValue v || v.GetValueKind() != System.Text.Json.JsonValueKind.String) continue;
            var s = v.GetValue<string>();
            JsonNode? converted = field.Type switch
            {
                "number" when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => JsonValue.Create(d),
                "integer" when long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => JsonValue.Create(l),
                "boolean" when s is "true" or "on" or "1" => JsonValue.Create(true),
                "boolean" when s is "false" or "off" or "0" or "" => JsonValue.Create(false),
                _ => null,
            };
            if (converted is not null) parent[parts[^1]] = converted;
            else if (s.Length == 0 && field.Type is not "string") parent.Remove(parts[^1]);
        }
        // Empty optional strings from forms mean "not given".
        RemoveEmptyStrings(copy, schema);
        return copy;
    }

    private static void RemoveEmptyStrings(JsonObject traits, IdentitySchema schema)
    {
        foreach (var field in schema.TraitFields.Where(f => f.Type == "string" && !f.Required))
        {
            var parts = field.Name.Split('.').Skip(1).ToArray();
            JsonObject? parent = traits;
            for (var i = 0; i < parts.Length - 1 && parent is not null; i++) parent = parent[parts[i]] as JsonObject;
            if (parent?[parts[^1]] is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String && v.GetValue<string>().Length == 0) parent.Remove(parts[^1]);
        }
    }

    /// <summary>
    /// The trait values a form shows after a submit: the flow's earlier values with each submitted leaf put over them, as
    /// Kratos sets only the submitted values on the form's nodes (objects are merged, so a field not sent keeps its value).
    /// </summary>
    public static JsonNode Shown(JsonNode? earlier, JsonNode? submitted)
    {
        var shown = earlier?.DeepClone() ?? new JsonObject();
        if (shown is JsonObject target && submitted is JsonObject sent) Overlay(target, sent);
        return shown;
    }

    private static void Overlay(JsonObject target, JsonObject submitted)
    {
        foreach (var (key, value) in submitted)
        {
            if (value is JsonObject inner && target[key] is JsonObject existing) Overlay(existing, inner);
            else target[key] = value?.DeepClone();
        }
    }
}
