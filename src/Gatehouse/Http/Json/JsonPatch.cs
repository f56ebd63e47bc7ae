using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.Http.Json;

/// <summary>
/// RFC 6902 JSON Patch over <see cref="JsonNode"/>, limited to the operations Kratos accepts on identities
/// (<c>add</c>, <c>remove</c>, <c>replace</c>). Written here rather than taken from
/// Microsoft.AspNetCore.JsonPatch.SystemTextJson because that package patches typed objects, and the identity
/// document is patched as raw JSON (traits and metadata are free-form), with a deny-list of paths.
/// The patch is all-or-nothing: it works on a copy and throws <see cref="JsonPatchException"/> on the first bad operation.
/// Like Kratos (ory/x <c>jsonx.ApplyJSONPatch</c>), it is more tolerant than RFC 6902: <c>replace</c> of an object member
/// acts as <c>add</c> (so it works when the member is missing), and <c>add</c> creates missing or null parents
/// (evanphx/json-patch's <c>EnsurePathExistsOnAdd</c>), e.g. <c>/metadata_public/plan</c> on an identity without metadata.
/// </summary>
public static class JsonPatch
{
    public static readonly IReadOnlySet<string> SupportedOps = new HashSet<string> { "add", "remove", "replace" };

    public static JsonNode Apply(JsonNode document, JsonNode? patch, Func<string, bool>? isDenied = null)
    {
        if (patch is not JsonArray ops) throw new JsonPatchException("The JSON Patch must be an array of operations.");
        var result = document.DeepClone();
        for (var i = 0; i < ops.Count; i++)
        {
            if (ops[i] is not JsonObject op) throw new JsonPatchException($"Operation {i} must be an object.");
            var name = op["op"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
            var path = op["path"] is JsonValue p && p.TryGetValue<string>(out var ps) ? ps : null;
            if (name is null) throw new JsonPatchException($"Operation {i} has no \"op\".");
            if (!SupportedOps.Contains(name)) throw new JsonPatchException($"Unsupported JSON Patch operation \"{name}\": only add, remove and replace are allowed.");
            if (path is null) throw new JsonPatchException($"Operation {i} ({name}) has no \"path\".");
            if (isDenied?.Invoke(path) == true) throw new JsonPatchException($"The path \"{path}\" may not be patched.");
            var tokens = Parse(path);
            if (tokens.Count > HttpJson.MaxDepth) throw new JsonPatchException($"The path \"{path[..Math.Min(path.Length, 64)]}…\" is deeper than {HttpJson.MaxDepth} levels.");
            if (tokens.Count == 0)
            {
                throw new JsonPatchException("Patching the whole document is not allowed.");
            }
            if (name != "remove" && !op.ContainsKey("value")) throw new JsonPatchException($"Operation {i} ({name}) has no \"value\".");
            var last = tokens[^1];
            if (name == "replace" && !IsElementAccess(last)) name = "add";
            var parent = name == "add" ? EnsureParents(result, tokens, path) : Resolve(result, tokens.Take(tokens.Count - 1), path);
            switch (name)
            {
                case "add": Add(parent, last, op["value"]?.DeepClone(), path); break;
                case "remove": Remove(parent, last, path); break;
                default: Replace(parent, last, op["value"]?.DeepClone(), path); break;
            }
        }
        // A patch may only build what a request body could carry: deeper documents cannot be written or read back.
        if (Depth(result) > HttpJson.MaxDepth) throw new JsonPatchException($"The patched document nests more than {HttpJson.MaxDepth} levels deep.");
        return result;
    }

    private static int Depth(JsonNode? node) => node switch
    {
        JsonObject o => 1 + (o.Count == 0 ? 0 : o.Max(p => Depth(p.Value))),
        JsonArray a => 1 + (a.Count == 0 ? 0 : a.Max(Depth)),
        _ => 0,
    };

    private static List<string> Parse(string path)
    {
        if (path.Length == 0) return [];
        if (path[0] != '/') throw new JsonPatchException($"The path \"{path}\" is not a JSON Pointer.");
        return [.. path[1..].Split('/').Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal))];
    }

    private static JsonNode Resolve(JsonNode root, IEnumerable<string> tokens, string path)
    {
        var current = root;
        foreach (var t in tokens)
        {
            current = current switch
            {
                JsonObject o when o.TryGetPropertyValue(t, out var child) && child is not null => child,
                JsonArray a when TryIndex(t, out var idx) && idx >= 0 && idx < a.Count && a[idx] is { } el => el,
                _ => throw new JsonPatchException($"The path \"{path}\" does not exist."),
            };
        }
        return current;
    }

    private static bool IsElementAccess(string token) => token == "-" || TryIndex(token, out _);

    /// <summary>An RFC 6901 array index: <c>0</c> or digits without a leading zero (no sign, no spaces), within int range.</summary>
    private static bool TryIndex(string token, out int index)
    {
        index = -1;
        if (token.Length == 0 || token.Length > 10 || !token.All(char.IsAsciiDigit) || (token.Length > 1 && token[0] == '0')) return false;
        return int.TryParse(token, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out index);
    }

    /// <summary>Walks to the parent of the target, creating missing or null containers (an array when the next token is an index).</summary>
    private static JsonNode EnsureParents(JsonNode root, List<string> tokens, string path)
    {
        var current = root;
        for (var i = 0; i < tokens.Count - 1; i++)
        {
            var token = tokens[i];
            var child = current switch
            {
                JsonObject o => o.TryGetPropertyValue(token, out var c) ? c : null,
                JsonArray a => TryIndex(token, out var idx) && idx >= 0 && idx < a.Count ? a[idx] : null,
                _ => throw new JsonPatchException($"The path \"{path}\" does not exist."),
            };
            if (child is null)
            {
                child = IsElementAccess(tokens[i + 1]) ? new JsonArray() : new JsonObject();
                switch (current)
                {
                    case JsonObject o:
                        o[token] = child;
                        break;
                    case JsonArray a when token == "-":
                        a.Add(child);
                        break;
                    case JsonArray a when TryIndex(token, out var idx) && idx == a.Count:
                        // Only the next position: padding up to a far index (2,000,000,000) would hang and fill memory.
                        a.Add(child);
                        break;
                    default:
                        throw new JsonPatchException($"The path \"{path}\" does not exist.");
                }
            }
            current = child;
        }
        return current;
    }

    private static void Add(JsonNode parent, string token, JsonNode? value, string path)
    {
        switch (parent)
        {
            case JsonObject o:
                o[token] = value;
                break;
            case JsonArray a when token == "-":
                a.Add(value);
                break;
            case JsonArray a when TryIndex(token, out var idx) && idx >= 0 && idx <= a.Count:
                a.Insert(idx, value);
                break;
            default:
                throw new JsonPatchException($"The path \"{path}\" does not exist.");
        }
    }

    private static void Remove(JsonNode parent, string token, string path)
    {
        switch (parent)
        {
            case JsonObject o when o.ContainsKey(token):
                o.Remove(token);
                break;
            case JsonArray a when TryIndex(token, out var idx) && idx >= 0 && idx < a.Count:
                a.RemoveAt(idx);
                break;
            default:
                throw new JsonPatchException($"The path \"{path}\" does not exist.");
        }
    }

    private static void Replace(JsonNode parent, string token, JsonNode? value, string path)
    {
        switch (parent)
        {
            case JsonObject o when o.ContainsKey(token):
                o[token] = value;
                break;
            case JsonArray a when TryIndex(token, out var idx) && idx >= 0 && idx < a.Count:
                a[idx] = value;
                break;
            default:
                throw new JsonPatchException($"The path \"{path}\" does not exist.");
        }
    }
}

public sealed class JsonPatchException(string message) : Exception(message);
