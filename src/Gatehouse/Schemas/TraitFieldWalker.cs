using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.Schemas;

/// <summary>Lists the leaf traits of a schema document for form generation.</summary>
internal static class TraitFieldWalker
{
    private const int MaxDepth = 32;

    public static IReadOnlyList<TraitField> Walk(JsonNode root)
    {
        var fields = new List<TraitField>();
        if (root["properties"]?["traits"] is JsonObject traits)
        {
            WalkObject(root, Deref(root, traits), "traits", fields, 0);
        }

        return fields;
    }

    private static void WalkObject(JsonNode root, JsonObject schema, string prefix, List<TraitField> fields, int depth)
    {
        if (depth > MaxDepth || schema["properties"] is not JsonObject properties)
        {
            return;
        }

        var required = schema["required"] is JsonArray names
            ? names.Select(n => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null).OfType<string>().ToHashSet(StringComparer.Ordinal)
            : [];

        foreach (var (name, node) in properties)
        {
            if (node is not JsonObject raw)
            {
                continue;
            }

            var property = Deref(root, raw);
            var type = TypeOf(property);
            var path = $"{prefix}.{name}";
            if (type == "object")
            {
                WalkObject(root, property, path, fields, depth + 1);
                continue;
            }

            fields.Add(new TraitField(
                path,
                type,
                Text(property, "format"),
                Text(raw, "title") ?? Text(property, "title"),
                required.Contains(name),
                // draft-07 ignores keywords beside $ref, so the extension comes from the resolved schema, as in validation
                TraitExtension.From(property[TraitExtension.Keyword]))
            {
                MinLength = Int(property, "minLength"),
                MaxLength = Int(property, "maxLength"),
                Pattern = Text(property, "pattern"),
            });
        }
    }

    // Follows same-document references ("#/definitions/x"); anything else is left as written.
    private static JsonObject Deref(JsonNode root, JsonObject schema)
    {
        var current = schema;
        for (var hops = 0; hops < MaxDepth && Text(current, "$ref") is { } reference && reference.StartsWith('#'); hops++)
        {
            JsonNode? target = root;
            foreach (var segment in TraitsErrorMapper.Segments(Uri.UnescapeDataString(reference[1..])))
            {
                target = target is JsonObject o ? o[segment] : null;
            }

            if (target is not JsonObject resolved)
            {
                break;
            }

            current = resolved;
        }

        return current;
    }

    private static string TypeOf(JsonObject schema) => schema["type"] switch
    {
        JsonValue v when v.TryGetValue<string>(out var t) => t,
        JsonArray a => a.Select(t => t?.GetValueKind() == JsonValueKind.String ? t.GetValue<string>() : null)
            .FirstOrDefault(t => t is not null and not "null") ?? "string",
        _ => schema["properties"] is JsonObject ? "object" : "string",
    };

    private static string? Text(JsonObject schema, string key) =>
        schema[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static int? Int(JsonObject schema, string key) =>
        schema[key] is JsonValue v && v.TryGetValue<int>(out var i) ? i : null;
}
