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
            if (isDenied?.Invoke(path) == true) throw new JsonPatchException($"patch includes denied path: {path}");
            var tokens = Parse(name, path);
            if (tokens.Count > HttpJson.MaxDepth) throw new JsonPatchException($"The path \"{path[..Math.Min(path.Length, 64)]}…\" is deeper than {HttpJson.MaxDepth} levels.");
            if (tokens.Count == 0)
            {
                throw new JsonPatchException("Patching the whole document is not allowed.");
            }
            if (name != "remove" && !op.ContainsKey("value")) throw new JsonPatchException($"Operation {i} ({name}) has no \"value\".");
            var last = tokens[^1];
            if (name == "replace" && !IsElementAccess(last)) name = "add";
            var parent = name == "add" ? EnsureParents(result, tokens, path) : Resolve(result, tokens.Take(tokens.Count - 1), name, path);
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

    /// <summary>
    /// The checks Ory's services run on a whole patch before applying any of it, with their texts: evanphx/json-patch v5
    /// <c>DecodePatch</c> (the patch must decode as <c>[]Operation</c>, then <c>validatePatch</c>: an <c>add</c> or
    /// <c>replace</c> needs a <c>value</c>, a <c>move</c> or <c>copy</c> a string <c>from</c>, every operation a known
    /// <c>op</c> and a string <c>path</c>; the failing operation is quoted as Go re-encodes it), then ory/x
    /// <c>jsonx.ApplyJSONPatch</c>'s loop (only <c>add</c>, <c>remove</c>, <c>replace</c>; no path of
    /// <paramref name="deniedPaths"/>, compared lower-cased). Throws <see cref="JsonPatchException"/> for the first failure.
    /// A <c>null</c> patch is empty, as in Go. (The operation is quoted from the parsed body: an escape the caller wrote
    /// where none was needed, such as <c>\u0041</c>, is shown as the character; Go shows the bytes it received.)
    /// </summary>
    public static void CheckAsOry(JsonNode? patch, params string[] deniedPaths)
    {
        if (patch is null) return;
        if (patch is not JsonArray ops) throw new JsonPatchException($"json: cannot unmarshal {GoJsonKind.Of(patch)} into Go value of type jsonpatch.Patch");
        // encoding/json records the first element of the wrong type and reports it once the array is read.
        if (ops.FirstOrDefault(op => op is not null and not JsonObject) is { } bad)
            throw new JsonPatchException($"json: cannot unmarshal {GoJsonKind.Of(bad)} into Go value of type jsonpatch.Operation");
        foreach (var node in ops)
        {
            var op = (JsonObject?)node;
            var kind = GoMember(op, "op", out var opName) == null && opName is not null ? opName : "unknown";
            var error = kind switch
            {
                "add" or "replace" when op is null || !op.ContainsKey("value") => "failed to decode 'value': operation, missing value field: missing value",
                "move" or "copy" when GoMember(op, "from", out _) is { } fromError => "failed to decode 'from': " + fromError,
                "add" or "replace" or "move" or "copy" or "remove" or "test" => null,
                _ => "unsupported operation",
            };
            if (error is null && GoMember(op, "path", out _) is { } pathError) error = "failed to decode 'path': " + pathError;
            if (error is not null) throw new JsonPatchException($"invalid operation {GoMarshal(op)}: {error}");
        }
        foreach (var node in ops)
        {
            var op = (JsonObject)node!;
            GoMember(op, "op", out var kind);
            if (!SupportedOps.Contains(kind!)) throw new JsonPatchException($"unsupported operation: {kind}");
            GoMember(op, "path", out var path);
            if (deniedPaths.Any(pattern => MatchesGlob(pattern.ToLowerInvariant(), path!.ToLowerInvariant()))) throw new JsonPatchException($"patch includes denied path: {path}");
        }
    }

    /// <summary>
    /// gobwas/glob with <c>/</c> as the separator, as ory/x compiles the denied paths: <c>**</c> matches anything,
    /// <c>*</c> anything but a <c>/</c>, <c>?</c> one character but <c>/</c>; the rest literally. So Kratos's
    /// <c>/credentials</c> denies only that path and <c>/credentials/oidc/**</c> everything below the OIDC credential.
    /// </summary>
    private static bool MatchesGlob(string pattern, string path)
    {
        var regex = new System.Text.StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                regex.Append(".*");
                i++;
            }
            else if (pattern[i] == '*') regex.Append("[^/]*");
            else if (pattern[i] == '?') regex.Append("[^/]");
            else regex.Append(System.Text.RegularExpressions.Regex.Escape(pattern[i].ToString()));
        }
        return System.Text.RegularExpressions.Regex.IsMatch(path, regex.Append('$').ToString(), System.Text.RegularExpressions.RegexOptions.Singleline | System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    }

    /// <summary>
    /// evanphx's <c>Operation.Path</c>/<c>From</c>: a member decoded as a Go string; null when it is one, else the error
    /// (missing or <c>null</c>: "operation missing path field" / "operation, missing from field", as the library words them).
    /// </summary>
    private static string? GoMember(JsonObject? op, string name, out string? value)
    {
        value = null;
        var node = op?[name];
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            value = v.GetValue<string>();
            return null;
        }
        if (node is not null) return $"json: cannot unmarshal {GoJsonKind.Of(node)} into Go value of type string";
        return name == "path" ? "operation missing path field: missing value" : $"operation, missing {name} field: missing value";
    }

    /// <summary>
    /// An operation as Go's <c>json.Marshal</c> writes a <c>map[string]*json.RawMessage</c>: members sorted by name, each
    /// value compacted as it came (nested members in their order), <c>&lt;</c>, <c>&gt;</c> and <c>&amp;</c> escaped.
    /// </summary>
    private static string GoMarshal(JsonObject? op)
    {
        if (op is null) return "null";
        var sb = new System.Text.StringBuilder("{");
        foreach (var (name, value) in op.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (sb.Length > 1) sb.Append(',');
            GoQuote(sb, name);
            sb.Append(':');
            GoCompact(sb, value);
        }
        return sb.Append('}').ToString();
    }

    private static void GoCompact(System.Text.StringBuilder sb, JsonNode? node)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                break;
            case JsonObject o:
                sb.Append('{');
                var first = true;
                foreach (var (name, value) in o)
                {
                    if (!first) sb.Append(',');
                    first = false;
                    GoQuote(sb, name);
                    sb.Append(':');
                    GoCompact(sb, value);
                }
                sb.Append('}');
                break;
            case JsonArray a:
                sb.Append('[');
                for (var i = 0; i < a.Count; i++)
                {
                    if (i > 0) sb.Append(',');
                    GoCompact(sb, a[i]);
                }
                sb.Append(']');
                break;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                GoQuote(sb, v.GetValue<string>());
                break;
            default:
                // Numbers keep the text they were written with; true and false are themselves.
                sb.Append(node.ToJsonString());
                break;
        }
    }

    private static void GoQuote(System.Text.StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '<' or '>' or '&' or '\u2028' or '\u2029' or < ' ':
                    sb.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
                    break;
                default: sb.Append(c); break;
            }
        }
        sb.Append('"');
    }

    private static int Depth(JsonNode? node) => node switch
    {
        JsonObject o => 1 + (o.Count == 0 ? 0 : o.Max(p => Depth(p.Value))),
        JsonArray a => 1 + (a.Count == 0 ? 0 : a.Max(Depth)),
        _ => 0,
    };

    private static List<string> Parse(string op, string path)
    {
        if (path.Length == 0) return [];
        if (path[0] != '/') throw MissingPath(op, path);
        return [.. path[1..].Split('/').Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal))];
    }

    private static JsonNode Resolve(JsonNode root, IEnumerable<string> tokens, string op, string path)
    {
        var current = root;
        foreach (var t in tokens)
        {
            current = current switch
            {
                JsonObject o when o.TryGetPropertyValue(t, out var child) && child is not null => child,
                JsonArray a when TryIndex(t, out var idx) && idx >= 0 && idx < a.Count && a[idx] is { } el => el,
                _ => throw MissingPath(op, path),
            };
        }
        return current;
    }

    // The texts of evanphx/json-patch v5 (which ory/x's ApplyJSONPatch runs), so a refused patch reads as Kratos's and Hydra's.

    /// <summary>The operation's target has no parent in the document (evanphx's <c>findObject</c> found none).</summary>
    private static JsonPatchException MissingPath(string op, string path) => new(op == "replace"
        ? $"replace operation does not apply: doc is missing path: {path}: missing value"
        : $"{op} operation does not apply: doc is missing path: \"{path}\": missing value");

    private static JsonPatchException InvalidIndex(string op, string path, string token) => new(TryIndex(token, out var idx) || long.TryParse(token, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out _)
        ? $"error in {op} for path: '{path}': Unable to access invalid index: {(idx >= 0 ? idx.ToString(System.Globalization.CultureInfo.InvariantCulture) : token)}: invalid index referenced"
        : op == "add"
            ? $"error in add for path: '{path}': value was not a proper array index: '{token}': strconv.Atoi: parsing {GoQuoted(token)}: invalid syntax"
            : $"error in {op} for path: '{path}': strconv.Atoi: parsing {GoQuoted(token)}: invalid syntax");

    private static string GoQuoted(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

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
                _ => throw MissingPath("add", path),
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
                        throw MissingPath("add", path);
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
            case JsonArray:
                throw InvalidIndex("add", path, token);
            default:
                throw MissingPath("add", path);
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
            case JsonObject:
                throw new JsonPatchException($"error in remove for path: '{path}': unable to remove nonexistent key: {token}: missing value");
            case JsonArray:
                throw InvalidIndex("remove", path, token);
            default:
                throw MissingPath("remove", path);
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
            case JsonObject or JsonArray:
                throw new JsonPatchException($"replace operation does not apply: doc is missing key: {path}: missing value");
            default:
                throw MissingPath("replace", path);
        }
    }
}

public sealed class JsonPatchException(string message) : Exception(message);
