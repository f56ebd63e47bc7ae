using System.Text.Json.Nodes;
using Gatehouse.Schemas;
using Gatehouse.SelfService.Ui;

namespace Gatehouse.SelfService.Flows;

/// <summary>
/// The order of a flow's <c>ui.nodes</c>, as Kratos sorts them (its flows' <c>sortNodes</c>): login, registration and settings
/// forms are sorted when the flow is made (and, for registration, at each step it shows again) and when a submit fails;
/// a method's next step (a code sent, the identifier-first credentials screen, revealed recovery codes) keeps the order the
/// method gave it. Recovery and verification forms are never sorted.
/// <para>
/// The sort: nodes go by group, in the flow's group order (groups it does not name come first); then, within a group
/// (and between default and password nodes), by the position of the first key the node's name starts with (the flow's
/// keys, the identity schema's properties in document order for registration and settings; no key: after all keys;
/// <c>method</c>: last), then by the node's value as text. Both passes are Go's sorts, step for step (<see cref="GoSort"/>):
/// the first is not stable, so in a form of more than 12 nodes a group's nodes that the second pass calls equal come in
/// the order Go's pdqsort leaves them, as in Kratos.
/// </para>
/// </summary>
public static class UiNodeOrder
{
    private static readonly string[] LoginGroups = ["oidc", "default", "webauthn", "passkey", "code", "password", "totp", "lookup_secret"];
    private static readonly string[] LoginKeys = ["csrf_token", "identifier", "password"];

    private static readonly string[] RegistrationGroups = ["oidc", "saml", "default", "webauthn", "passkey", "code", "password", "captcha", "profile"];
    private static readonly string[] RegistrationKeysAfterSchema = ["webauthn_remove", "webauthn_register_displayname", "webauthn_register"];

    private static readonly string[] SettingsGroups = ["default", "profile", "password", "oidc", "lookup_secret", "webauthn", "passkey", "totp"];

    // Kratos's settings sort names these buttons and fields of the methods' settings forms (settings/sort.go); the order
    // only counts within a method's own group.
    private static readonly string[] SettingsKeysAfterSchema =
    [
        "lookup_secret_reveal", "lookup_secret_regenerate", "lookup_secret_codes", "lookup_secret_confirm",
        "webauthn_remove", "webauthn_register_displayname", "webauthn_register",
        "passkey_remove", "passkey_register",
        "totp_qr", "totp_secret_key", "totp_unlink", "totp_code",
    ];

    /// <summary>
    /// Sorts the nodes of a <paramref name="kind"/> flow's form; registration and settings need the identity schema (its
    /// traits' order). Recovery and verification forms are left as they are.
    /// </summary>
    public static void Arrange(string kind, UiContainer ui, IdentitySchema? schema)
    {
        switch (kind)
        {
            case FlowKinds.Login:
                Sort(ui.Nodes, LoginGroups, LoginKeys);
                break;
            case FlowKinds.Registration:
                Sort(ui.Nodes, RegistrationGroups, [.. PasswordFirst(SchemaKeys(schema)), .. RegistrationKeysAfterSchema]);
                break;
            case FlowKinds.Settings:
                Sort(ui.Nodes, SettingsGroups, [.. SchemaKeys(schema), .. SettingsKeysAfterSchema]);
                break;
        }
    }

    /// <summary>
    /// Whether the form answers a failed submit (an error on it or on one of its nodes): Kratos sorts those (its flow error
    /// handlers), not a method's next step, which carries information at most.
    /// </summary>
    public static bool Failed(UiContainer ui) =>
        ui.Messages.Any(IsError) || ui.Nodes.Any(n => n["messages"] is JsonArray messages && messages.Any(m => m is JsonObject o && IsError(o)));

    private static bool IsError(JsonObject message) => message["type"] is JsonValue type && type.TryGetValue<string>(out var t) && t == "error";

    /// <summary>The registration keys: the CSRF token, the schema's first key, the password, then the rest of the schema.</summary>
    private static IEnumerable<string> PasswordFirst(IReadOnlyList<string> schemaKeys) =>
        schemaKeys.Count == 0 ? ["csrf_token", "password"] : ["csrf_token", schemaKeys[0], "password", .. schemaKeys.Skip(1)];

    // The keys of each schema, walked once: a schema object is not changed once loaded (Kratos caches them per schema URL).
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<IdentitySchema, string[]> KeysOfSchema = [];

    /// <summary>
    /// The schema's leaf properties in document order, as dotted paths from the root (<c>traits.email</c>); a key holding a
    /// dot is escaped (<c>a\.b</c>). Read from the schema as written: <c>$ref</c>s are not followed, and only
    /// <c>"type": "object"</c> is descended into.
    /// </summary>
    private static IReadOnlyList<string> SchemaKeys(IdentitySchema? schema) =>
        schema is null ? [] : KeysOfSchema.GetValue(schema, s =>
        {
            var keys = new List<string>();
            Collect(s.RawSchema, [], keys);
            return [.. keys];
        });

    private static void Collect(JsonNode? node, List<string> path, List<string> keys)
    {
        var isObject = node is JsonObject o && o["type"] is JsonValue type && type.TryGetValue<string>(out var t) && t == "object";
        if (!isObject)
        {
            keys.Add(string.Join('.', path));
            return;
        }
        if (node!["properties"] is not JsonObject properties) return;
        foreach (var (name, value) in properties)
        {
            path.Add(name.Replace(".", "\\.", StringComparison.Ordinal));
            Collect(value, path, keys);
            path.RemoveAt(path.Count - 1);
        }
    }

    /// <summary>
    /// Kratos's <c>Nodes.SortBySchema</c> (ui/node/node.go): <c>sort.Slice</c> by group, then <c>sort.SliceStable</c> by key
    /// position and value within a group (default and password compared with each other), both with Go's algorithms
    /// (<see cref="GoSort"/>): the group pass is not stable, so for more than 12 nodes the order of a group's nodes
    /// before the second pass is Go's, and the nodes the second pass calls equal keep it.
    /// </summary>
    private static void Sort(List<JsonObject> nodes, string[] groups, string[] keys)
    {
        // Each node's group and its rank in the flow's group order, read once rather than in every comparison.
        var groupOf = new Dictionary<JsonObject, string>(ReferenceEqualityComparer.Instance);
        var groupRank = new Dictionary<JsonObject, int>(ReferenceEqualityComparer.Instance);
        foreach (var node in nodes)
        {
            var group = Group(node);
            groupOf[node] = group;
            groupRank[node] = Array.IndexOf(groups, group);
        }
        GoSort.Slice(nodes, (a, b) => groupRank[a] < groupRank[b]);

        // getKeyPosition: method always last; else the first key the node's id starts with; else after all keys.
        var last = nodes.Count + keys.Length + 1;
        var position = new Dictionary<JsonObject, int>(ReferenceEqualityComparer.Instance);
        var value = new Dictionary<JsonObject, string>(ReferenceEqualityComparer.Instance);
        foreach (var node in nodes)
        {
            var id = Id(node);
            var p = id == "method" ? last : Array.FindIndex(keys, k => id.StartsWith(k, StringComparison.Ordinal));
            position[node] = p < 0 ? keys.Length : p;
            value[node] = ValueText(node);
        }
        GoSort.SliceStable(nodes, (a, b) =>
        {
            if (!Together(groupOf[a], groupOf[b])) return false;
            var (pa, pb) = (position[a], position[b]);
            if (pa != pb) return pa < pb;
            return CompareUtf8(value[a], value[b]) < 0;
        });
    }

    /// <summary>Go's string order (UTF-8 bytes, that is code points) rather than .NET's ordinal UTF-16 order.</summary>
    private static int CompareUtf8(string a, string b)
    {
        var length = Math.Min(a.Length, b.Length);
        for (var i = 0; i < length; i++)
        {
            int x = a[i], y = b[i];
            if (x == y) continue;
            // Surrogates (U+D800–DFFF, code points above U+FFFF) come after U+E000–FFFF in code point order.
            if (x >= 0xD800 && y >= 0xD800)
            {
                x = x >= 0xE000 ? x - 0x800 : x + 0x2000;
                y = y >= 0xE000 ? y - 0x800 : y + 0x2000;
            }
            return x - y;
        }
        return a.Length - b.Length;
    }

    /// <summary>Kratos compares the keys of nodes of one group, and of a default with a password node; any other two are equal.</summary>
    private static bool Together(string a, string b) =>
        a == b || (a == UiNodes.DefaultGroup && b == UiNodes.PasswordGroup) || (a == UiNodes.PasswordGroup && b == UiNodes.DefaultGroup);

    private static string Group(JsonObject node) => node["group"] is JsonValue g && g.TryGetValue<string>(out var s) ? s : "";

    /// <summary>An input's name; any other node's id.</summary>
    private static string Id(JsonObject node)
    {
        var attributes = node["attributes"] as JsonObject;
        var id = NodeType(node) == "input" ? attributes?["name"] : attributes?["id"];
        return id is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";
    }

    private static string? NodeType(JsonObject node) =>
        (node["attributes"]?["node_type"] ?? node["type"]) is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>
    /// The node's value as Kratos's tie-break prints it (Go's <c>%v</c>): an input's value, an image's or script's source,
    /// an anchor's link, a text's message; nothing is <c>&lt;nil&gt;</c>.
    /// </summary>
    private static string ValueText(JsonObject node)
    {
        var attributes = node["attributes"] as JsonObject;
        var value = NodeType(node) switch
        {
            "input" => attributes?["value"],
            "img" or "script" => attributes?["src"],
            "a" => attributes?["href"],
            "text" => attributes?["text"],
            _ => null,
        };
        return value switch
        {
            null => "<nil>",
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonValue v when v.TryGetValue<bool>(out var b) => b ? "true" : "false",
            // A text node holds a message, printed by Go as the struct it is: &{id text type …}.
            JsonObject message when NodeType(node) == "text" => $"&{{{message["id"]} {message["text"]} {message["type"]}",
            _ => value.ToJsonString(),
        };
    }
}
