using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Gatehouse.Schemas;

/// <summary>
/// Turns JsonSchema.Net's list output into Kratos-style errors: <c>#/traits/...</c> pointers and the
/// wording of the Go validator Kratos uses (<c>missing properties: "email"</c>,
/// <c>length must be &gt;= 3, but got 2</c>), because clients and the UI texts expect that wording.
/// </summary>
internal static class TraitsErrorMapper
{
    private static readonly JsonSerializerOptions Quoting = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static IReadOnlyList<TraitsError> Map(EvaluationResults results, JsonElement instance, JsonNode schemaRoot, Uri schemaBase)
    {
        var errors = new List<TraitsError>();
        var notAllowed = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var detail in Flatten(results))
        {
            if (detail.Errors is null)
            {
                continue;
            }

            var instancePointer = detail.InstanceLocation.ToString();
            var evaluationPath = detail.EvaluationPath.ToString();
            foreach (var (keyword, libraryMessage) in detail.Errors)
            {
                if (keyword.Length == 0)
                {
                    // A false subschema failed; under additionalProperties that means an unexpected property.
                    var segments = Segments(instancePointer);
                    if (evaluationPath.EndsWith("/additionalProperties", StringComparison.Ordinal) && segments.Count > 0)
                    {
                        var parent = Pointer(segments.Take(segments.Count - 1));
                        if (!notAllowed.TryGetValue(parent, out var names))
                        {
                            notAllowed[parent] = names = [];
                            errors.Add(new TraitsError(parent, "", "additionalProperties"));
                        }

                        names.Add(segments[^1]);
                    }
                    else
                    {
                        errors.Add(new TraitsError("#" + instancePointer, "not allowed", "false"));
                    }

                    continue;
                }

                var value = Resolve(instance, instancePointer);
                var keywordValue = KeywordValue(schemaRoot, schemaBase, detail.SchemaLocation, keyword)
                    ?? KeywordValueAlong(schemaRoot, evaluationPath, keyword);
                errors.AddRange(Describe(keyword, libraryMessage, "#" + instancePointer, value, keywordValue));
            }
        }

        // additionalProperties lists every unexpected name in one message, as the Go validator does.
        return errors.Select(e => e.Keyword == "additionalProperties" && notAllowed.TryGetValue(e.InstancePointer, out var names)
                ? e with
                {
                    Message = $"additionalProperties {string.Join(", ", names.Select(Quote))} not allowed",
                    Context = new Dictionary<string, object> { ["properties"] = names.ToArray() },
                }
                : e)
            .ToList();
    }

    public static string Quote(string value) => JsonSerializer.Serialize(value, Quoting);

    public static string TypeName(JsonElement? value) => value?.ValueKind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };

    private static IEnumerable<EvaluationResults> Flatten(EvaluationResults results)
    {
        yield return results;
        foreach (var detail in results.Details ?? [])
        {
            foreach (var nested in Flatten(detail))
            {
                yield return nested;
            }
        }
    }

    private static IEnumerable<TraitsError> Describe(string keyword, string libraryMessage, string pointer, JsonElement? value, JsonElement? keywordValue)
    {
        var length = value is { ValueKind: JsonValueKind.String } s ? s.GetString()!.EnumerateRunes().Count() : 0;
        var count = value switch
        {
            { ValueKind: JsonValueKind.Array } a => a.GetArrayLength(),
            { ValueKind: JsonValueKind.Object } o => o.EnumerateObject().Count(),
            _ => 0,
        };
        var limit = keywordValue?.ValueKind == JsonValueKind.Number ? keywordValue.Value.GetRawText() : "?";
        var actual = value?.GetRawText() ?? "null";

        switch (keyword)
        {
            case "required":
                var missing = Missing(value, keywordValue);
                if (missing.Count == 0)
                {
                    yield return new TraitsError(pointer, libraryMessage, keyword);
                }

                foreach (var name in missing)
                {
                    yield return new TraitsError($"{pointer}/{EscapeSegment(name)}", $"missing properties: {Quote(name)}", keyword,
                        new Dictionary<string, object> { ["property"] = name });
                }

                yield break;
            case "type":
                var expected = keywordValue?.ValueKind == JsonValueKind.Array
                    ? string.Join(" or ", keywordValue.Value.EnumerateArray().Select(t => t.GetString()))
                    : keywordValue?.GetString() ?? "?";
                yield return Error(keyword, pointer, $"expected {expected}, but got {TypeName(value)}",
                    ("expected_type", expected), ("actual_type", TypeName(value)));
                yield break;
            case "format":
                var format = keywordValue?.GetString() ?? "?";
                yield return Error(keyword, pointer, $"{Quote(value?.ToString() ?? "")} is not valid {Quote(format)}", ("format", format), ("value", value?.ToString() ?? ""));
                yield break;
            case "minLength":
                yield return Error(keyword, pointer, $"length must be >= {limit}, but got {length}", ("min_length", Int(keywordValue)), ("actual_length", length));
                yield break;
            case "maxLength":
                yield return Error(keyword, pointer, $"length must be <= {limit}, but got {length}", ("max_length", Int(keywordValue)), ("actual_length", length));
                yield break;
            case "pattern":
                var pattern = keywordValue?.GetString() ?? "";
                yield return Error(keyword, pointer, $"does not match pattern {Quote(pattern)}", ("pattern", pattern));
                yield break;
            case "minimum":
                yield return Error(keyword, pointer, $"must be >= {limit} but found {actual}", ("minimum", limit), ("actual", actual));
                yield break;
            case "exclusiveMinimum":
                yield return Error(keyword, pointer, $"must be > {limit} but found {actual}", ("minimum", limit), ("actual", actual));
                yield break;
            case "maximum":
                yield return Error(keyword, pointer, $"must be <= {limit} but found {actual}", ("maximum", limit), ("actual", actual));
                yield break;
            case "exclusiveMaximum":
                yield return Error(keyword, pointer, $"must be < {limit} but found {actual}", ("maximum", limit), ("actual", actual));
                yield break;
            case "multipleOf":
                yield return Error(keyword, pointer, $"{actual} not multipleOf {limit}", ("base", limit), ("actual", actual));
                yield break;
            case "minItems":
                yield return Error(keyword, pointer, $"minimum {limit} items allowed, but found {count} items", ("min_items", Int(keywordValue)), ("actual_items", count));
                yield break;
            case "maxItems":
                yield return Error(keyword, pointer, $"maximum {limit} items allowed, but found {count} items", ("max_items", Int(keywordValue)), ("actual_items", count));
                yield break;
            case "minProperties":
                yield return Error(keyword, pointer, $"minimum {limit} properties allowed, but found {count} properties");
                yield break;
            case "maxProperties":
                yield return Error(keyword, pointer, $"maximum {limit} properties allowed, but found {count} properties");
                yield break;
            case "uniqueItems":
                var (first, second) = Duplicate(value);
                yield return Error(keyword, pointer, $"items at index {first} and {second} are equal", ("index_a", first), ("index_b", second));
                yield break;
            case "enum":
                var allowed = keywordValue?.ValueKind == JsonValueKind.Array
                    ? string.Join(", ", keywordValue.Value.EnumerateArray().Select(e => e.GetRawText()))
                    : "?";
                yield return Error(keyword, pointer, $"value must be one of {allowed}");
                yield break;
            case "const":
                // Kratos's validator words an object or array constant "const failed" (4000030) and any other "value must
                // be %#v", which Kratos turns into 4000029 with that value as `expected`.
                if (keywordValue?.ValueKind is JsonValueKind.Object or JsonValueKind.Array)
                {
                    yield return Error(keyword, pointer, "const failed");
                    yield break;
                }

                var constant = keywordValue?.GetRawText() ?? "?";
                yield return Error(keyword, pointer, $"must be equal to constant {constant}", ("expected", constant));
                yield break;
            default:
                yield return new TraitsError(pointer, libraryMessage, keyword);
                yield break;
        }
    }

    private static TraitsError Error(string keyword, string pointer, string message, params (string Key, object Value)[] context) =>
        new(pointer, message, keyword, context.ToDictionary(c => c.Key, c => c.Value));

    private static object Int(JsonElement? value) =>
        value is { ValueKind: JsonValueKind.Number } n && n.TryGetInt64(out var i) ? i : 0;

    private static List<string> Missing(JsonElement? value, JsonElement? required)
    {
        if (value is not { ValueKind: JsonValueKind.Object } obj || required is not { ValueKind: JsonValueKind.Array } names)
        {
            return [];
        }

        return names.EnumerateArray()
            .Where(n => n.ValueKind == JsonValueKind.String && !obj.TryGetProperty(n.GetString()!, out _))
            .Select(n => n.GetString()!)
            .ToList();
    }

    private static (int, int) Duplicate(JsonElement? value)
    {
        if (value is { ValueKind: JsonValueKind.Array } array)
        {
            var items = array.EnumerateArray().ToList();
            for (var i = 0; i < items.Count; i++)
            {
                for (var j = i + 1; j < items.Count; j++)
                {
                    if (JsonElement.DeepEquals(items[i], items[j]))
                    {
                        return (i, j);
                    }
                }
            }
        }

        return (0, 0);
    }

    /// <summary>The keyword's value in the schema node that produced the error, if it is in the root document.</summary>
    private static JsonElement? KeywordValue(JsonNode schemaRoot, Uri schemaBase, Uri schemaLocation, string keyword)
    {
        var location = schemaLocation.OriginalString;
        var hash = location.IndexOf('#', StringComparison.Ordinal);
        var document = hash < 0 ? location : location[..hash];
        if (!string.Equals(document.TrimEnd('/'), schemaBase.OriginalString.Split('#')[0].TrimEnd('/'), StringComparison.Ordinal))
        {
            return null;
        }

        var fragment = hash < 0 ? "" : Uri.UnescapeDataString(location[(hash + 1)..]);
        return KeywordValueAt(schemaRoot, fragment, keyword);
    }

    // Without a $ref on the way, the evaluation path is the schema pointer (the library's schema
    // location is not always exact for items).
    private static JsonElement? KeywordValueAlong(JsonNode schemaRoot, string evaluationPath, string keyword) =>
        Segments(evaluationPath).Contains("$ref") ? null : KeywordValueAt(schemaRoot, evaluationPath, keyword);

    private static JsonElement? KeywordValueAt(JsonNode schemaRoot, string pointer, string keyword)
    {
        JsonNode? node = schemaRoot;
        foreach (var segment in Segments(pointer))
        {
            node = node switch
            {
                JsonObject o => o[segment],
                JsonArray a when int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count => a[i],
                _ => null,
            };
        }

        if (node is not JsonObject subschema || subschema[keyword] is not { } value)
        {
            return null;
        }

        using var parsed = JsonDocument.Parse(value.ToJsonString());
        return parsed.RootElement.Clone();
    }

    public static JsonElement? Resolve(JsonElement root, string pointer)
    {
        var current = root;
        foreach (var segment in Segments(pointer))
        {
            if (current.ValueKind == JsonValueKind.Object && current.TryGetProperty(segment, out var child))
            {
                current = child;
            }
            else if (current.ValueKind == JsonValueKind.Array
                && int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                && index < current.GetArrayLength())
            {
                current = current[index];
            }
            else
            {
                return null;
            }
        }

        return current;
    }

    public static List<string> Segments(string pointer) =>
        pointer.Split('/', StringSplitOptions.None)
            .Skip(1)
            .Select(s => s.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal))
            .ToList();

    public static string Pointer(IEnumerable<string> segments) => "#" + string.Concat(segments.Select(s => "/" + EscapeSegment(s)));

    private static string EscapeSegment(string segment) =>
        segment.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);
}
