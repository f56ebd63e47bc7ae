using System.Text.Json.Nodes;
using Gatehouse.Schemas;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Ui;

/// <summary>Builders for Kratos's <c>uiNode</c> shapes.</summary>
public static class UiNodes
{
    public const string DefaultGroup = "default";
    public const string PasswordGroup = "password";
    public const string ProfileGroup = "profile";

    public static JsonObject Input(string name, string type, string group, JsonNode? value = null, bool required = false,
        string? autocomplete = null, JsonObject? label = null, string? pattern = null, int? maxLength = null)
    {
        var attributes = new JsonObject { ["name"] = name, ["type"] = type };
        if (value is not null) attributes["value"] = value.DeepClone();
        if (required) attributes["required"] = true;
        if (autocomplete is not null) attributes["autocomplete"] = autocomplete;
        if (pattern is not null) attributes["pattern"] = pattern;
        attributes["disabled"] = false;
        if (maxLength is not null) attributes["maxlength"] = maxLength.Value;
        attributes["node_type"] = "input";
        var meta = new JsonObject();
        if (label is not null) meta["label"] = label;
        return new JsonObject
        {
            ["type"] = "input",
            ["group"] = group,
            ["attributes"] = attributes,
            ["messages"] = new JsonArray(),
            ["meta"] = meta,
        };
    }

    /// <summary>An anchor node (<c>node_type: a</c>), e.g. the "Continue" link after a completed flow.</summary>
    public static JsonObject Anchor(string id, string href, string group, JsonObject title) => new()
    {
        ["type"] = "a",
        ["group"] = group,
        ["attributes"] = new JsonObject { ["href"] = href, ["title"] = title, ["id"] = id, ["node_type"] = "a" },
        ["messages"] = new JsonArray(),
        ["meta"] = new JsonObject { ["label"] = title.DeepClone() },
    };

    public static JsonObject Csrf(string token) => Input("csrf_token", "hidden", DefaultGroup, token, required: true);

    public static JsonObject Submit(string name, string value, string group, JsonObject label) => Input(name, "submit", group, value, label: label);

    /// <summary>
    /// One input per trait of the schema, named <c>traits.&lt;path&gt;</c>, typed from the schema (format email → email,
    /// tel → tel, number → number, boolean → checkbox, …), labelled by its title, filled with <paramref name="values"/>;
    /// <paramref name="hidden"/> renders them as hidden inputs (profile-first registration's credential step).
    /// </summary>
    public static IEnumerable<JsonObject> Traits(IdentitySchema schema, JsonNode? values, bool hidden = false)
    {
        foreach (var field in schema.TraitFields)
        {
            if (field.Type is "object" or "array") continue;
            var value = Lookup(values, field.Name);
            var type = hidden ? "hidden" : InputType(field);
            var autocomplete = hidden ? null : field.Format switch
            {
                "email" => "email",
                "tel" => "tel",
                "uri" => "url",
                _ => field.Extension.PasswordIdentifier || field.Extension.WebAuthnIdentifier ? "username" : null,
            };
            if (field.Format == "email" && !hidden) autocomplete = "email";
            var label = !hidden && !string.IsNullOrEmpty(field.Title) ? Messages.LabelGenerated(field.Title!, field.Name) : null;
            yield return Input(field.Name, type, DefaultGroup, value, required: !hidden && field.Required, autocomplete: autocomplete, label: label, pattern: hidden ? null : field.Pattern);
        }
    }

    public static string InputType(TraitField field) => field.Type switch
    {
        "number" or "integer" => "number",
        "boolean" => "checkbox",
        _ => field.Format switch
        {
            "email" => "email",
            "tel" => "tel",
            "date-time" => "datetime-local",
            "date" => "date",
            "uri" => "url",
            _ => "text",
        },
    };

    /// <summary>Reads <c>traits.a.b</c> out of a traits object (<c>{"a":{"b":…}}</c>).</summary>
    public static JsonNode? Lookup(JsonNode? traits, string name)
    {
        var current = traits;
        foreach (var part in name.Split('.').Skip(1))
        {
            if (current is not JsonObject o || !o.TryGetPropertyValue(part, out current)) return null;
        }
        return current;
    }
}
