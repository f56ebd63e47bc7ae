using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.Config;

/// <summary>
/// Kratos-style environment overrides: a key path upper-cased with <c>.</c> → <c>_</c> and no prefix
/// (<c>SERVE_PUBLIC_PORT</c>, <c>SELFSERVICE_DEFAULT_BROWSER_RETURN_URL</c>, <c>SECRETS_COOKIE_0</c>).
/// Names are resolved against the schema's key paths and values coerced to the key's type; a value that
/// cannot be coerced is kept as a string so validation reports it against the key.
/// </summary>
internal static class EnvironmentOverrides
{
    public static void Apply(JsonObject config, IReadOnlyDictionary<string, string?> environment, ConfigSchema schema, Dictionary<ConfigPath, string> origins)
    {
        var overrides = new List<(ConfigPath Path, JsonObject Leaf, string Name, string Value)>();
        foreach (var (name, value) in environment)
        {
            // An empty variable counts as unset, so `FOO= gatehouse serve` cannot blank a key by accident.
            if (string.IsNullOrEmpty(value) || name.Length == 0 || !name.Equals(name.ToUpperInvariant(), StringComparison.Ordinal)) continue;
            if (schema.TryResolveEnvironmentName(name, out var path, out var leaf)) overrides.Add((path, leaf, name, value));
        }
        // Whole values before their parts (SECRETS_COOKIE before SECRETS_COOKIE_0), indices in numeric order.
        overrides.Sort((a, b) => Compare(a.Path, b.Path));
        foreach (var (path, leaf, name, value) in overrides)
        {
            Set(config, path, Coerce(value, leaf, schema, name, path));
            origins[path] = $"environment variable {name}";
        }
    }

    private static int Compare(ConfigPath a, ConfigPath b)
    {
        for (var i = 0; i < Math.Min(a.Segments.Count, b.Segments.Count); i++)
        {
            var order = (a.Segments[i], b.Segments[i]) switch
            {
                (int x, int y) => x.CompareTo(y),
                (string x, string y) => string.CompareOrdinal(x, y),
                (int, _) => -1,
                _ => 1,
            };
            if (order != 0) return order;
        }
        return a.Segments.Count.CompareTo(b.Segments.Count);
    }

    private static JsonNode? Coerce(string value, JsonObject leaf, ConfigSchema schema, string name, ConfigPath path)
    {
        var resolved = schema.Resolve(leaf);
        var types = ConfigSchema.Types(resolved);
        var trimmed = value.Trim();
        if (types.Contains("array"))
        {
            if (trimmed.StartsWith('[')) return ParseJson(trimmed, name, path);
            var items = schema.Items(resolved);
            if (items is not null && ConfigSchema.Types(schema.Resolve(items)).Contains("object")) return JsonValue.Create(value);
            var parts = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            return new JsonArray([.. parts.Select(p => items is null ? JsonValue.Create(p) : Coerce(p, items, schema, name, path))]);
        }
        if (types.Contains("object") || types.Count == 0)
        {
            return trimmed.StartsWith('{') || (types.Count == 0 && trimmed.StartsWith('[')) ? ParseJson(trimmed, name, path) : JsonValue.Create(value);
        }
        if (types.Contains("integer") && long.TryParse(trimmed, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer)) return JsonValue.Create(integer);
        if (types.Contains("number") && double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)) return JsonValue.Create(number);
        if (types.Contains("boolean") && ParseGoBool(trimmed) is { } flag) return JsonValue.Create(flag);
        return JsonValue.Create(value);
    }

    // Go's strconv.ParseBool, which Kratos's env parsing uses.
    private static bool? ParseGoBool(string value) => value switch
    {
        "1" or "t" or "T" or "true" or "TRUE" or "True" => true,
        "0" or "f" or "F" or "false" or "FALSE" or "False" => false,
        _ => null,
    };

    private static JsonNode? ParseJson(string value, string name, ConfigPath path)
    {
        try
        {
            return JsonNode.Parse(value);
        }
        catch (JsonException ex)
        {
            throw new ConfigException($"{path}: environment variable {name} is not valid JSON: {ex.Message}", ex);
        }
    }

    private static void Set(JsonObject root, ConfigPath path, JsonNode? value)
    {
        JsonNode current = root;
        var segments = path.Segments;
        for (var i = 0; i < segments.Count - 1; i++)
        {
            var wantList = segments[i + 1] is int;
            var child = Get(current, segments[i]);
            if (wantList ? child is not JsonArray : child is not JsonObject)
            {
                child = wantList ? new JsonArray() : new JsonObject();
                Put(current, segments[i], child);
            }
            current = child!;
        }
        Put(current, segments[^1], value);
    }

    private static JsonNode? Get(JsonNode parent, object segment) => parent switch
    {
        JsonObject map => map[(string)segment],
        JsonArray list => (int)segment < list.Count ? list[(int)segment] : null,
        _ => null,
    };

    private static void Put(JsonNode parent, object segment, JsonNode? value)
    {
        if (parent is JsonObject map)
        {
            map[(string)segment] = value;
            return;
        }
        var list = (JsonArray)parent;
        var index = (int)segment;
        // Missing earlier entries stay null; validation then names them (e.g. secrets.cookie[0]).
        while (list.Count <= index) list.Add(null);
        list[index] = value;
    }
}
