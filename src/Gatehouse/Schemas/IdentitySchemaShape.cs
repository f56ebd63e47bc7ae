using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.Schemas;

/// <summary>
/// The structure Kratos demands of an identity schema on top of being a JSON Schema (its
/// <c>identity_meta</c> and <c>identity_extension</c> meta schemas): traits under
/// <c>properties.traits</c> as an object with properties, and well-formed <c>ory.sh/kratos</c> keywords.
/// Checked in code so each problem is reported with the path to fix.
/// </summary>
internal static class IdentitySchemaShape
{
    private static readonly string[] Channels = ["email", "sms"];

    // identity_meta: a trait with verification may only use these formats
    private static readonly string[] VerificationFormats = ["email", "tel", "date", "time", "date-time", "no-validate"];

    public static IReadOnlyList<string> Check(JsonNode? root)
    {
        var problems = new List<string>();
        if (root is not JsonObject schema)
        {
            problems.Add("must be a JSON object");
            return problems;
        }

        if (schema["properties"] is not JsonObject properties || properties["traits"] is not JsonObject traits)
        {
            problems.Add("must declare the traits as an object schema at #/properties/traits");
            return problems;
        }

        if (traits["type"] is { } type && !IsString(type, "object"))
        {
            problems.Add($"#/properties/traits/type must be \"object\", not {type.ToJsonString()}");
        }

        if (traits["properties"] is not JsonObject traitProperties || traitProperties.Count == 0)
        {
            problems.Add("#/properties/traits/properties must be an object with at least one trait");
        }
        else
        {
            foreach (var (name, trait) in traitProperties)
            {
                var path = $"#/properties/traits/properties/{Escape(name)}";
                if (trait is not JsonObject traitSchema)
                {
                    problems.Add($"{path} must be an object schema");
                    continue;
                }

                CheckVerificationFormat(traitSchema, path, problems);
            }
        }

        CheckExtensions(schema, "#", problems);
        return problems;
    }

    /// <summary>
    /// JsonSchema.Net resolves <c>$ref</c> only when an instance reaches it, so every reference is checked
    /// here. Only references into the same document are supported: nothing is fetched at validation time.
    /// </summary>
    public static IReadOnlyList<string> CheckReferences(JsonNode root)
    {
        var problems = new List<string>();
        var ownId = root["$id"] is JsonValue idValue && idValue.TryGetValue<string>(out var id) ? id.Split('#')[0] : null;
        CheckReferences(root, root, ownId, "#", problems);
        return problems;
    }

    private static void CheckReferences(JsonNode root, JsonNode? node, string? ownId, string path, List<string> problems)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj)
                {
                    var childPath = $"{path}/{Escape(key)}";
                    if (key == "$ref" && value is JsonValue v && v.TryGetValue<string>(out var reference))
                    {
                        CheckReference(root, reference, ownId, childPath, problems);
                    }
                    else
                    {
                        CheckReferences(root, value, ownId, childPath, problems);
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    CheckReferences(root, array[i], ownId, $"{path}/{i}", problems);
                }

                break;
        }
    }

    private static void CheckReference(JsonNode root, string reference, string? ownId, string path, List<string> problems)
    {
        var hash = reference.IndexOf('#', StringComparison.Ordinal);
        var document = hash < 0 ? reference : reference[..hash];
        var fragment = hash < 0 ? "" : reference[(hash + 1)..];
        if (document.Length > 0 && document != ownId)
        {
            problems.Add($"{path}: \"{reference}\" points to another document; only references within the schema (\"#/definitions/...\") are supported");
            return;
        }

        if (fragment.Length > 0 && !fragment.StartsWith('/'))
        {
            return; // a plain-name anchor; the library resolves those
        }

        JsonNode? target = root;
        foreach (var segment in Uri.UnescapeDataString(fragment).Split('/').Skip(1))
        {
            var name = segment.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            target = target switch
            {
                JsonObject o => o[name],
                JsonArray a when int.TryParse(name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var i) && i < a.Count => a[i],
                _ => null,
            };
        }

        if (target is not (JsonObject or JsonValue))
        {
            problems.Add($"{path}: \"{reference}\" does not point to a schema in this document");
        }
    }

    private static void CheckVerificationFormat(JsonObject trait, string path, List<string> problems)
    {
        if (trait[TraitExtension.Keyword] is not JsonObject ext || ext["verification"] is not JsonObject verification)
        {
            return;
        }

        var format = trait["format"];
        if (format is not null && !VerificationFormats.Any(f => IsString(format, f)))
        {
            problems.Add($"{path}/format must be one of {Quote(VerificationFormats)} because the trait is used for verification");
        }

        // Kratos fails every validation of such a trait; refusing the schema at start-up is kinder.
        if (format is null && IsString(verification["via"], "sms"))
        {
            problems.Add($"{path} uses verification via sms and must set \"format\": \"tel\" (or \"no-validate\")");
        }
    }

    // identity_extension applies to every subschema, so the keyword is checked wherever it appears.
    private static void CheckExtensions(JsonNode? node, string path, List<string> problems)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj)
                {
                    var childPath = $"{path}/{Escape(key)}";
                    if (key == TraitExtension.Keyword)
                    {
                        CheckExtension(value, childPath, problems);
                    }
                    else
                    {
                        CheckExtensions(value, childPath, problems);
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    CheckExtensions(array[i], $"{path}/{i}", problems);
                }

                break;
        }
    }

    private static void CheckExtension(JsonNode? value, string path, List<string> problems)
    {
        if (!Members(value, path, ["credentials", "verification", "recovery", "organizations"], problems, out var ext))
        {
            return;
        }

        if (ext.ContainsKey("credentials")
            && Members(ext["credentials"], $"{path}/credentials", ["password", "webauthn", "passkey", "totp", "code"], problems, out var credentials))
        {
            CheckFlags(credentials["password"], $"{path}/credentials/password", ["identifier"], problems);
            CheckFlags(credentials["webauthn"], $"{path}/credentials/webauthn", ["identifier"], problems);
            CheckFlags(credentials["passkey"], $"{path}/credentials/passkey", ["display_name"], problems);
            CheckFlags(credentials["totp"], $"{path}/credentials/totp", ["account_name"], problems);
            if (credentials.ContainsKey("code")
                && Members(credentials["code"], $"{path}/credentials/code", ["identifier", "via"], problems, out var code))
            {
                CheckBoolean(code, "identifier", $"{path}/credentials/code", problems);
                CheckEnum(code, "via", Channels, $"{path}/credentials/code", problems);
            }
        }

        foreach (var section in new[] { "verification", "recovery" })
        {
            if (ext.ContainsKey(section) && Members(ext[section], $"{path}/{section}", ["via"], problems, out var obj))
            {
                CheckEnum(obj, "via", Channels, $"{path}/{section}", problems);
            }
        }

        if (ext.ContainsKey("organizations")
            && Members(ext["organizations"], $"{path}/organizations", ["matcher"], problems, out var organizations))
        {
            CheckEnum(organizations, "matcher", ["email_domain"], $"{path}/organizations", problems);
        }
    }

    private static void CheckFlags(JsonNode? value, string path, string[] flags, List<string> problems)
    {
        if (value is null)
        {
            return;
        }

        if (Members(value, path, flags, problems, out var obj))
        {
            foreach (var flag in flags)
            {
                CheckBoolean(obj, flag, path, problems);
            }
        }
    }

    private static bool Members(JsonNode? value, string path, string[] allowed, List<string> problems, out JsonObject obj)
    {
        if (value is not JsonObject o)
        {
            problems.Add($"{path} must be an object");
            obj = [];
            return false;
        }

        obj = o;
        foreach (var (key, _) in o)
        {
            if (!allowed.Contains(key))
            {
                problems.Add($"{path} has unknown key \"{key}\" (allowed: {Quote(allowed)})");
            }
        }

        return true;
    }

    private static void CheckBoolean(JsonObject obj, string key, string path, List<string> problems)
    {
        if (obj.ContainsKey(key) && obj[key]?.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
        {
            problems.Add($"{path}/{key} must be true or false");
        }
    }

    private static void CheckEnum(JsonObject obj, string key, string[] allowed, string path, List<string> problems)
    {
        if (obj.ContainsKey(key) && !allowed.Any(a => IsString(obj[key], a)))
        {
            problems.Add($"{path}/{key} must be one of {Quote(allowed)}");
        }
    }

    private static bool IsString(JsonNode? node, string expected) =>
        node is JsonValue v && v.TryGetValue<string>(out var s) && s == expected;

    private static string Quote(IEnumerable<string> values) => string.Join(", ", values.Select(v => $"\"{v}\""));

    private static string Escape(string key) => key.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);
}
