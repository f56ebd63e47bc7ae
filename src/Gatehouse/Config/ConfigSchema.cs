using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;

namespace Gatehouse.Config;

/// <summary>
/// Gatehouse's configuration schema (the embedded <c>gatehouse.config.schema.json</c>): it validates the
/// merged tree, names the keys Gatehouse knows (for environment overrides and unknown-key warnings) and
/// describes in words what a key expects, so errors read as <c>key: expected ..., got ...</c>.
/// The schema sticks to a small keyword set (type, properties, additionalProperties, items, enum, bounds,
/// lengths, pattern, format, required, local <c>$ref</c>) so this class can walk it without a full evaluator.
/// </summary>
internal sealed partial class ConfigSchema
{
    private const string ResourceName = "Gatehouse.Config.gatehouse.config.schema.json";

    private static readonly Lazy<ConfigSchema> LazyInstance = new(Load);

    private readonly JsonSchema _validator;
    private readonly EvaluationOptions _evaluationOptions;

    private ConfigSchema(string text)
    {
        Root = JsonNode.Parse(text)!.AsObject();
        _validator = JsonSchema.FromText(text, new BuildOptions { SchemaRegistry = new SchemaRegistry() });
        var formats = new FormatRegistry();
        // The stock "uri" check accepts "/path" on Unix (it parses as file:///path); base URLs must be absolute.
        formats.Register(new PredicateFormat("uri", e => e.ValueKind != JsonValueKind.String || IsAbsoluteUrl(e.GetString()!)));
        formats.Register(new PredicateFormat("uri-reference", e => e.ValueKind != JsonValueKind.String || Uri.TryCreate(e.GetString(), UriKind.RelativeOrAbsolute, out _)));
        _evaluationOptions = new EvaluationOptions
        {
            OutputFormat = OutputFormat.List,
            RequireFormatValidation = true,
            FormatRegistry = formats,
        };
    }

    public static ConfigSchema Instance => LazyInstance.Value;

    /// <summary>The schema document itself.</summary>
    public JsonObject Root { get; }

    private static ConfigSchema Load()
    {
        using var stream = typeof(ConfigSchema).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"embedded resource {ResourceName} is missing");
        using var reader = new StreamReader(stream);
        return new ConfigSchema(reader.ReadToEnd());
    }

    /// <summary>
    /// An absolute URI as Kratos's config schema checks it (Go's <c>url.Parse</c> plus a scheme): a scheme, then RFC 3986
    /// characters. System.Uri alone is not the test: it refuses hosts longer than 255 characters, and so every inline
    /// <c>base64://</c> identity schema, template or key set of any real size (whose data sits where the host would).
    /// Uri still admits what it can parse, such as internationalised host names.
    /// </summary>
    internal static bool IsAbsoluteUrl(string text) =>
        UrlScheme().IsMatch(text) && (UriCharacters().IsMatch(text) || Uri.TryCreate(text, UriKind.Absolute, out _));

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9+.-]*:")]
    private static partial Regex UrlScheme();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$")]
    private static partial Regex UriCharacters();

    /// <summary>Follows a local <c>$ref</c> (<c>#/$defs/name</c>) to the schema it names.</summary>
    public JsonObject Resolve(JsonObject schema)
    {
        var current = schema;
        for (var hops = 0; hops < 16 && current["$ref"] is JsonValue reference; hops++)
        {
            var name = RefName(reference.GetValue<string>());
            current = Root["$defs"]?[name] as JsonObject ?? throw new InvalidOperationException($"config schema: unresolved $ref {reference}");
        }
        return current;
    }

    private static string RefName(string reference) => reference.StartsWith("#/$defs/", StringComparison.Ordinal)
        ? reference["#/$defs/".Length..]
        : throw new InvalidOperationException($"config schema: only local $defs references are supported, got {reference}");

    /// <summary>The name of the definition a schema refers to (<c>duration</c>, <c>url</c>, ...), if it is a reference.</summary>
    public static string? DefinitionName(JsonObject schema) =>
        schema["$ref"] is JsonValue reference ? RefName(reference.GetValue<string>()) : null;

    public static IReadOnlySet<string> Types(JsonObject resolved) => resolved["type"] switch
    {
        JsonValue single => new HashSet<string> { single.GetValue<string>() },
        JsonArray many => many.Select(t => t!.GetValue<string>()).ToHashSet(),
        _ => new HashSet<string>(),
    };

    /// <summary>How a key under <paramref name="schema"/> is treated.</summary>
    public ChildLookup Child(JsonObject schema, string key)
    {
        var resolved = Resolve(schema);
        var properties = resolved["properties"] as JsonObject;
        if (properties?[key] is JsonObject child) return new(ChildKind.Known, child);
        if (resolved["additionalProperties"] is JsonObject additional) return new(ChildKind.Known, additional);
        if (properties is null && resolved["additionalProperties"] is null) return new(ChildKind.FreeForm, null);
        return new(ChildKind.Unknown, null);
    }

    public JsonObject? Items(JsonObject schema) => Resolve(schema)["items"] as JsonObject;

    /// <summary>The (unresolved) schema for a path, or null when the path is free-form or unknown.</summary>
    public JsonObject? SchemaAt(ConfigPath path)
    {
        JsonObject? current = Root;
        foreach (var segment in path.Segments)
        {
            if (current is null) return null;
            current = segment is int ? Items(current) : Child(current, (string)segment).Schema;
        }
        return current;
    }

    /// <summary>
    /// Removes keys the schema does not know, adding a warning for each, and drops keys whose value is
    /// null (YAML's <c>key:</c> with nothing after it means "not set").
    /// </summary>
    public void PruneUnknownKeys(JsonNode? node, List<string> warnings) => Prune(node, Root, ConfigPath.Root, warnings);

    private void Prune(JsonNode? node, JsonObject schema, ConfigPath path, List<string> warnings)
    {
        switch (node)
        {
            case JsonObject map:
                foreach (var key in map.Select(p => p.Key).ToList())
                {
                    if (map[key] is null)
                    {
                        map.Remove(key);
                        continue;
                    }
                    var child = Child(schema, key);
                    if (child.Kind == ChildKind.Unknown)
                    {
                        warnings.Add($"\"{path.Append(key)}\" is not supported by Gatehouse yet and is ignored");
                        map.Remove(key);
                    }
                    else if (child.Schema is not null)
                    {
                        Prune(map[key], child.Schema, path.Append(key), warnings);
                    }
                }
                break;
            case JsonArray list when Items(schema) is { } items:
                for (var i = 0; i < list.Count; i++) Prune(list[i], items, path.Append(i), warnings);
                break;
        }
    }

    /// <summary>
    /// Matches an environment variable name (<c>SERVE_PUBLIC_BASE_URL</c>, <c>SECRETS_COOKIE_0</c>) against the
    /// schema's key paths, so keys that contain underscores resolve unambiguously.
    /// </summary>
    public bool TryResolveEnvironmentName(string name, out ConfigPath path, out JsonObject leaf)
    {
        var segments = new List<object>();
        if (Match(Root, name, segments, out leaf!) && segments.Count > 0)
        {
            path = ConfigPath.From(segments);
            return true;
        }
        path = ConfigPath.Root;
        return false;
    }

    private bool Match(JsonObject schema, string rest, List<object> segments, out JsonObject? leaf)
    {
        leaf = null;
        if (rest.Length == 0)
        {
            leaf = schema;
            return true;
        }
        var resolved = Resolve(schema);
        if (resolved["properties"] is JsonObject properties)
        {
            // Longer keys first, so SELFSERVICE_FLOWS_LOGIN_UI_URL prefers a key "ui_url" over "ui" + "url".
            foreach (var (key, child) in properties.OrderByDescending(p => p.Key.Length))
            {
                var upper = key.ToUpperInvariant();
                string? remainder = rest == upper ? "" : rest.StartsWith(upper + "_", StringComparison.Ordinal) ? rest[(upper.Length + 1)..] : null;
                if (remainder is null || child is not JsonObject childSchema) continue;
                segments.Add(key);
                if (Match(childSchema, remainder, segments, out leaf)) return true;
                segments.RemoveAt(segments.Count - 1);
            }
        }
        if (resolved["items"] is JsonObject items)
        {
            var end = rest.IndexOf('_', StringComparison.Ordinal);
            var digits = end < 0 ? rest : rest[..end];
            if (digits.Length is > 0 and < 6 && digits.All(char.IsAsciiDigit))
            {
                segments.Add(int.Parse(digits, CultureInfo.InvariantCulture));
                if (Match(items, end < 0 ? "" : rest[(end + 1)..], segments, out leaf)) return true;
                segments.RemoveAt(segments.Count - 1);
            }
        }
        return false;
    }

    /// <summary>Validates the tree; returns the most specific failure, or null when it is valid.</summary>
    public SchemaFailure? Validate(JsonNode config)
    {
        using var document = JsonDocument.Parse(config.ToJsonString());
        var results = _validator.Evaluate(document.RootElement, _evaluationOptions);
        if (results.IsValid) return null;
        var failures = (results.Details ?? [])
            .Prepend(results)
            .Where(d => d.Errors is { Count: > 0 })
            .Select(d => new SchemaFailure(ToPath(config, d.InstanceLocation.ToString()), d.Errors!.Keys.ToList()))
            .ToList();
        if (failures.Count == 0) return new SchemaFailure(ConfigPath.Root, []);
        return failures
            .OrderByDescending(f => f.Path.Segments.Count)
            .ThenBy(f => f.Path.ToString(), StringComparer.Ordinal)
            .First();
    }

    private static ConfigPath ToPath(JsonNode config, string pointer)
    {
        var path = ConfigPath.Root;
        JsonNode? current = config;
        if (pointer.Length == 0) return path;
        foreach (var raw in pointer.TrimStart('/').Split('/'))
        {
            var token = raw.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (current is JsonArray list && int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                path = path.Append(index);
                current = index < list.Count ? list[index] : null;
            }
            else
            {
                path = path.Append(token);
                current = (current as JsonObject)?[token];
            }
        }
        return path;
    }

    /// <summary>What a schema accepts, in words: "an integer between 0 and 65535", "one of \"bcrypt\", \"argon2\"".</summary>
    public string Describe(JsonObject schema)
    {
        switch (DefinitionName(schema))
        {
            case "duration": return "a duration such as \"1h\", \"15m\" or \"30s\"";
            case "byteSize": return "a size such as \"128MB\" or a number of bytes";
            case "smtpUri": return "an smtp:// or smtps:// URL";
            case "jwksUrl": return "a file:// or base64:// URL (the key set is read only from those)";
            case "hostPort": return "a host and port such as \"localhost:4318\" (no scheme or path)";
            case "httpUrl": return "an http:// or https:// URL such as \"http://localhost:9411/api/v2/spans\"";
        }
        var resolved = Resolve(schema);
        if (resolved["enum"] is JsonArray options) return "one of " + string.Join(", ", options.Select(o => o!.ToJsonString()));
        var types = Types(resolved);
        if (types.Count == 1)
        {
            switch (types.First())
            {
                case "integer": return "an integer" + Bounds(resolved);
                case "number": return "a number" + Bounds(resolved);
                case "boolean": return "true or false";
                case "string": return DescribeString(resolved);
                case "array":
                    var items = Items(resolved);
                    return items is null ? "a list" : "a list of " + Plural(Types(Resolve(items)));
                case "object":
                    return resolved["additionalProperties"] is JsonObject values
                        ? "a map of " + Plural(Types(Resolve(values)))
                        : "an object";
            }
        }
        return types.Count == 0 ? "a value" : string.Join(" or ", types);
    }

    private static string DescribeString(JsonObject resolved)
    {
        switch ((string?)resolved["format"])
        {
            case "uri": return "an absolute URL such as \"https://example.com/\"";
            case "uri-reference": return "a URL or a path";
            case "email": return "an e-mail address";
        }
        var min = (int?)resolved["minLength"];
        var max = (int?)resolved["maxLength"];
        if (min is not null && min == max) return $"a string of exactly {min} characters";
        if (min > 1) return $"a string of at least {min} characters";
        if (min == 1) return "a non-empty string";
        if (resolved["pattern"] is JsonValue pattern) return $"a string matching {pattern.GetValue<string>()}";
        return "a string";
    }

    private static string Bounds(JsonObject resolved)
    {
        var min = resolved["minimum"]?.ToJsonString();
        var max = resolved["maximum"]?.ToJsonString();
        return (min, max) switch
        {
            (not null, not null) => $" between {min} and {max}",
            (not null, null) => $" of at least {min}",
            (null, not null) => $" of at most {max}",
            _ => "",
        };
    }

    private static string Plural(IReadOnlySet<string> types) => types.Count == 1
        ? types.First() switch
        {
            "string" => "strings",
            "integer" => "integers",
            "object" => "objects",
            "boolean" => "booleans",
            var other => other + " values",
        }
        : "values";

    /// <summary>True when the value is a secret that must not be echoed back in error messages.</summary>
    public bool IsSensitive(ConfigPath path)
    {
        for (var current = path; current is not null; current = current.Parent)
        {
            if (SchemaAt(current) is { } schema && Resolve(schema)["writeOnly"] is JsonValue flag && flag.GetValue<bool>()) return true;
        }
        return false;
    }
}

internal enum ChildKind
{
    /// <summary>The schema names the key (or accepts any key with a given schema).</summary>
    Known,

    /// <summary>The schema lists its keys and this is not one of them.</summary>
    Unknown,

    /// <summary>An object the schema leaves open (e.g. a hook's <c>config</c>); anything goes.</summary>
    FreeForm,
}

internal readonly record struct ChildLookup(ChildKind Kind, JsonObject? Schema);

internal sealed record SchemaFailure(ConfigPath Path, IReadOnlyList<string> Keywords);
