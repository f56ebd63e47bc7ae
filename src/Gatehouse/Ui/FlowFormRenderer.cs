using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.Ui;

/// <summary>
/// Renders a flow's <c>ui</c> (action, method, nodes, messages) as plain HTML forms, generically — any identity schema,
/// any method — as a custom UI built on the API would:
/// <list type="bullet">
/// <item>flow messages first (errors as <c>role="alert"</c>, others as <c>role="status"</c>);</item>
/// <item>when the <c>default</c> group has visible fields (login's identifier, registration's traits) everything is one form,
/// because those fields belong to every method; otherwise each method group is its own form (settings: profile, password),
/// each carrying the default group's hidden inputs (the CSRF token), so one method's required fields never block another's;</item>
/// <item>each input by <c>attributes.type</c> with its <c>meta.label</c> as <c>&lt;label for&gt;</c>, its messages below it, tied by
/// <c>aria-describedby</c> (the first field with an error gets <c>autofocus</c>); submit inputs as <c>&lt;button name value&gt;</c> (those not named <c>method</c>, such as "Resend code"
/// and "Back", skip the browser's required-field check); <c>a</c>, <c>text</c>, <c>img</c> nodes as links, text, images.</item>
/// </list>
/// </summary>
/// <param name="text">The page's language.</param>
/// <param name="trustedScript">
/// Which script URLs the page may load (Gatehouse's own webauthn.js); a script node with any other URL is not rendered,
/// only its messages. Null: none.
/// </param>
public sealed class FlowFormRenderer(UiText text, Func<string, bool>? trustedScript = null)
{
    private const string DefaultGroup = "default";
    private const string IdentifierFirstGroup = "identifier_first";

    private static readonly HashSet<string> InputTypes =
        ["text", "email", "password", "hidden", "checkbox", "number", "tel", "url", "date", "datetime-local", "search"];

    /// <summary>The browser functions of webauthn.js a node may name as its click or load trigger (nothing else is called).</summary>
    public static readonly IReadOnlySet<string> WebAuthnTriggers = new HashSet<string>(
        ["oryWebAuthnLogin", "oryWebAuthnRegistration", "oryPasskeyLogin", "oryPasskeyLoginAutocompleteInit", "oryPasskeyRegistration", "oryPasskeySettingsRegistration"]);

    private readonly HashSet<string> _ids = [];
    private readonly HashSet<string> _requiredGroups = [];
    private bool _focused;

    /// <summary>
    /// Whether the rendered form needs scripts (a method's <c>script</c> node, e.g. passkeys' webauthn.js, and buttons or
    /// fields that trigger its functions): the page then loads them and allows same-origin scripts.
    /// </summary>
    public bool UsesScripts { get; private set; }

    /// <param name="ui">The flow's <c>ui</c> object.</param>
    /// <param name="groupTitle">A heading for a method group's form when the page shows several (null: none).</param>
    public string Render(JsonObject ui, Func<string, string?>? groupTitle = null)
    {
        var html = new HtmlWriter();
        Messages(html, ui["messages"] as JsonArray, "flow-messages");

        var action = String(ui["action"]) ?? "";
        var method = (String(ui["method"]) ?? "POST").ToUpperInvariant() == "GET" ? "get" : "post";
        var all = (ui["nodes"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        // Scripts belong to the page, not to a method's form (the webauthn script is its own group).
        var scripts = all.Where(n => String(n["type"]) == "script").ToList();
        var nodes = all.Except(scripts).ToList();
        // The identifier-first login's second screen: the identifier, now hidden, goes with every method's form (it is
        // shown as text above them, so the user sees whom they sign in as).
        var carried = nodes.Where(n => Group(n) == IdentifierFirstGroup && IsHiddenInput(n)).ToList();
        nodes = nodes.Except(carried).ToList();
        foreach (var node in carried)
            html.Element("p", String(node["attributes"]?["value"]) ?? "", Attr.Of("class", "identifier-first"));
        var defaults = nodes.Where(n => Group(n) == DefaultGroup).ToList();
        var hiddenDefaults = defaults.Where(IsHiddenInput).Concat(carried).ToList();
        var groups = nodes.Select(Group).Where(g => g != DefaultGroup).Distinct().ToList();

        if (groups.Count == 0 || defaults.Any(n => !IsHiddenInput(n)))
        {
            // One form for several methods (login: identifier, password, "Send sign in code"): a method's button must not
            // be blocked by another method's required field, so it skips the browser's check when one is there.
            foreach (var node in nodes.Where(n => Group(n) != DefaultGroup && !IsHiddenInput(n) && String(n["type"]) == "input"
                && Bool((n["attributes"] as JsonObject)?["required"]) && String(n["attributes"]?["type"]) is not ("submit" or "button")))
                _requiredGroups.Add(Group(node));
            html.Open("form", Attr.Of("action", action), Attr.Of("method", method), Attr.Of("class", "flow-form"));
            foreach (var node in hiddenDefaults) Node(html, node, "f");
            foreach (var node in defaults.Where(n => !IsHiddenInput(n))) Node(html, node, "f");
            foreach (var group in groups)
            {
                foreach (var node in nodes.Where(n => Group(n) == group)) Node(html, node, "f");
            }
            html.Close("form");
            Scripts(html, scripts);
            return html.ToString();
        }

        foreach (var group in groups)
        {
            var prefix = Slug(group);
            var title = groupTitle?.Invoke(group);
            html.Open("section", Attr.Of("class", "method-group"), Attr.Of("aria-labelledby", title is null ? null : prefix + "-title"));
            if (title is not null) html.Element("h2", title, Attr.Of("id", prefix + "-title"));
            html.Open("form", Attr.Of("action", action), Attr.Of("method", method), Attr.Of("class", "flow-form"));
            foreach (var node in hiddenDefaults) Node(html, node, prefix);
            foreach (var node in nodes.Where(n => Group(n) == group)) Node(html, node, prefix);
            html.Close("form");
            html.Close("section");
        }
        Scripts(html, scripts);
        return html.ToString();
    }

    /// <summary>A method's scripts, by URL with their integrity (the page's CSP allows only its own origin's).</summary>
    private void Scripts(HtmlWriter html, List<JsonObject> scripts)
    {
        foreach (var node in scripts)
        {
            var attributes = node["attributes"] as JsonObject ?? [];
            if (String(attributes["src"]) is not { } src || trustedScript?.Invoke(src) != true)
            {
                Messages(html, node["messages"] as JsonArray, null);
                continue;
            }
            UsesScripts = true;
            html.Element("script", null, Attr.Of("src", src), Attr.Of("integrity", String(attributes["integrity"])),
                Attr.Of("crossorigin", String(attributes["crossorigin"])), Attr.Of("referrerpolicy", String(attributes["referrerpolicy"])),
                Attr.Flag("async", Bool(attributes["async"])), Attr.Of("id", String(attributes["id"])));
            Messages(html, node["messages"] as JsonArray, null);
        }
    }

    private void Node(HtmlWriter html, JsonObject node, string prefix)
    {
        var attributes = node["attributes"] as JsonObject ?? [];
        var messages = node["messages"] as JsonArray;
        switch (String(node["type"]))
        {
            case "input":
                Input(html, node, attributes, messages, prefix);
                break;
            case "a":
                html.Open("p", Attr.Of("class", "node-link"))
                    .Element("a", Label(node) ?? text.Message(attributes["title"]), Attr.Of("href", SafeUrl(String(attributes["href"]), allowDataImage: false)), Attr.Of("id", UniqueId(prefix, String(attributes["id"]))))
                    .Close("p");
                Messages(html, messages, null);
                break;
            case "text":
                html.Open("div", Attr.Of("class", "node-text"), Attr.Of("id", UniqueId(prefix, String(attributes["id"]))));
                if (Label(node) is { } textLabel) html.Element("p", textLabel, Attr.Of("class", "node-text-label"));
                if (attributes["text"]?["context"]?["secrets"] is JsonArray secrets) Secrets(html, secrets);
                else html.Element("p", text.Message(attributes["text"]), Attr.Of("class", "node-text-value"));
                html.Close("div");
                Messages(html, messages, null);
                break;
            case "img":
                html.Void("img", Attr.Of("src", SafeUrl(String(attributes["src"]), allowDataImage: true)), Attr.Of("alt", Label(node) ?? ""),
                    Attr.Of("width", Number(attributes["width"])), Attr.Of("height", Number(attributes["height"])), Attr.Of("id", UniqueId(prefix, String(attributes["id"]))));
                Messages(html, messages, null);
                break;
            default:
                // Node types this page cannot show (e.g. a script a method needs) still surface their messages.
                Messages(html, messages, null);
                break;
        }
    }

    private void Input(HtmlWriter html, JsonObject node, JsonObject attributes, JsonArray? messages, string prefix)
    {
        var name = String(attributes["name"]) ?? "";
        var type = String(attributes["type"]) ?? "text";
        var value = attributes["value"];
        var disabled = Bool(attributes["disabled"]);
        var label = Label(node);

        if (type == "button" && String(attributes["onclickTrigger"]) is { } trigger && WebAuthnTriggers.Contains(trigger))
        {
            // A WebAuthn ceremony button: no inline handler (the page's CSP forbids them); the page's script binds it and
            // shows it only where the browser has WebAuthn.
            UsesScripts = true;
            html.Element("button", label ?? name, Attr.Of("type", "button"), Attr.Of("name", name), Attr.Of("value", String(value)),
                Attr.Flag("disabled", disabled), Attr.Flag("hidden", true), Attr.Of("data-webauthn-trigger", trigger),
                Attr.Of("class", "button button-webauthn"));
            Messages(html, messages, null);
            return;
        }
        if (type is "submit" or "button")
        {
            // Only a method's own submit checks the form's required fields; "Resend code" (email) and "Back" (screen)
            // must work with those fields still empty, and so must a method's button in a form where another method
            // has a required field (the server checks what this method needs).
            var group = Group(node);
            html.Element("button", label ?? String(value) ?? name, Attr.Of("type", "submit"), Attr.Of("name", name),
                Attr.Of("value", String(value)), Attr.Flag("disabled", disabled),
                Attr.Flag("formnovalidate", name != "method" || _requiredGroups.Any(g => g != group)),
                Attr.Of("class", name == "method" ? "button" : "button button-secondary"));
            Messages(html, messages, null);
            return;
        }
        if (type == "hidden")
        {
            var onload = String(attributes["onloadTrigger"]) is { } load && WebAuthnTriggers.Contains(load) ? load : null;
            UsesScripts |= onload is not null;
            html.Void("input", Attr.Of("type", "hidden"), Attr.Of("name", name), Attr.Of("value", String(value)), Attr.Of("data-webauthn-onload", onload));
            // A hidden field's messages (e.g. a taken identifier in a later step) are still the user's business.
            Messages(html, messages, null);
            return;
        }

        if (!InputTypes.Contains(type)) type = "text";
        var id = UniqueId(prefix, name)!;
        var describedBy = messages is { Count: > 0 } ? id + "-messages" : null;
        var invalid = messages?.Any(m => String(m?["type"]) == "error") == true;
        var required = Bool(attributes["required"]);
        var labelText = label ?? name;
        // After a failed submit the page opens on the first field to fix (keyboard and screen-reader users land there).
        var autofocus = invalid && !_focused;
        _focused |= autofocus;

        html.Open("div", Attr.Of("class", invalid ? "field field-invalid" : "field"));
        if (type == "checkbox")
        {
            html.Open("div", Attr.Of("class", "checkbox"));
            html.Void("input", Attr.Of("id", id), Attr.Of("type", "checkbox"), Attr.Of("name", name), Attr.Of("value", "true"),
                Attr.Flag("checked", value is JsonValue v && (v.TryGetValue<bool>(out var b) ? b : String(v) == "true")),
                Attr.Flag("required", required), Attr.Flag("disabled", disabled), Attr.Flag("autofocus", autofocus),
                Attr.Of("aria-invalid", invalid ? "true" : null), Attr.Of("aria-describedby", describedBy));
            LabelElement(html, id, labelText, required);
            html.Close("div");
        }
        else
        {
            LabelElement(html, id, labelText, required);
            html.Void("input", Attr.Of("id", id), Attr.Of("type", type), Attr.Of("name", name),
                // Secrets are never echoed back into the page.
                Attr.Of("value", type == "password" ? null : String(value)),
                Attr.Flag("required", required), Attr.Flag("disabled", disabled), Attr.Flag("autofocus", autofocus),
                Attr.Of("autocomplete", String(attributes["autocomplete"])), Attr.Of("pattern", String(attributes["pattern"])),
                Attr.Of("maxlength", Number(attributes["maxlength"])),
                Attr.Of("inputmode", String(attributes["autocomplete"]) == "one-time-code" ? "numeric" : null),
                Attr.Of("aria-invalid", invalid ? "true" : null), Attr.Of("aria-describedby", describedBy));
        }
        if (describedBy is not null) Messages(html, messages, describedBy);
        html.Close("div");
    }

    private void LabelElement(HtmlWriter html, string id, string label, bool required)
    {
        html.Open("label", Attr.Of("for", id)).Text(label);
        if (required) html.Element("span", "*", Attr.Of("class", "required-mark"), Attr.Of("title", text["required"]), Attr.Of("aria-hidden", "true"));
        html.Close("label");
    }

    /// <summary>
    /// A list of secrets (recovery codes, Kratos's 1050015 text with <c>context.secrets</c>): one item per code, in a code
    /// font; a used one as "used" with its time (1050014's <c>context.used_at</c>).
    /// </summary>
    private void Secrets(HtmlWriter html, JsonArray secrets)
    {
        html.Open("ul", Attr.Of("class", "node-text-secrets"));
        foreach (var secret in secrets.OfType<JsonObject>())
        {
            if (secret["id"] is JsonValue id && id.TryGetValue<long>(out var number) && number == 1050014 && String(secret["context"]?["used_at"]) is { } usedAt)
            {
                html.Open("li", Attr.Of("class", "secret-used")).Text(text["lookup.used"] + " ")
                    .Element("time", usedAt.Replace('T', ' ').TrimEnd('Z') + " UTC", Attr.Of("datetime", usedAt)).Close("li");
            }
            else
            {
                html.Open("li").Element("code", text.Message(secret)).Close("li");
            }
        }
        html.Close("ul");
    }

    /// <summary>Messages in place: errors are alerts (announced), info and success are status messages.</summary>
    private void Messages(HtmlWriter html, JsonArray? messages, string? id)
    {
        if (messages is not { Count: > 0 }) return;
        html.Open("div", Attr.Of("class", id == "flow-messages" ? "messages flow-messages" : "messages"), Attr.Of("id", id));
        foreach (var m in messages.OfType<JsonObject>())
        {
            var type = String(m["type"]) ?? "info";
            if (type is not ("error" or "success" or "info")) type = "info";
            html.Element("p", text.Message(m), Attr.Of("class", "message message-" + type), Attr.Of("role", type == "error" ? "alert" : "status"),
                Attr.Of("data-message-id", Number(m["id"])));
        }
        html.Close("div");
    }

    /// <summary>
    /// Link and image URLs only as http(s), relative, or (images) <c>data:image/</c>: encoding stops markup, not a
    /// <c>javascript:</c> URL, so anything else is dropped.
    /// </summary>
    private static string? SafeUrl(string? url, bool allowDataImage)
    {
        if (string.IsNullOrEmpty(url)) return null;
        if (allowDataImage && url.StartsWith("data:image/", StringComparison.OrdinalIgnoreCase)) return url;
        if (url[0] is '/' or '?' or '#') return url;
        if (Uri.TryCreate(url, UriKind.Absolute, out var uri)) return uri.Scheme is "http" or "https" ? url : null;
        // A relative path has no scheme; anything else with a colon is not trusted.
        return url.Contains(':', StringComparison.Ordinal) ? null : url;
    }

    private string? Label(JsonObject node) => node["meta"]?["label"] is JsonObject label ? text.Message(label) : null;

    private static string Group(JsonObject node) => String(node["group"]) ?? DefaultGroup;

    private static bool IsHiddenInput(JsonObject node) =>
        String(node["type"]) == "input" && String(node["attributes"]?["type"]) == "hidden";

    /// <summary>An element id from the form's prefix and the node's name, unique within the page.</summary>
    private string? UniqueId(string prefix, string? name)
    {
        if (string.IsNullOrEmpty(name)) return null;
        var id = prefix + "-" + Slug(name);
        var unique = id;
        for (var i = 2; !_ids.Add(unique); i++) unique = id + "-" + i;
        return unique;
    }

    private static string Slug(string value) =>
        new([.. value.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-')]);

    private static string? String(JsonNode? node) => node switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() is JsonValueKind.Null => null,
        _ => node.ToJsonString(),
    };

    private static string? Number(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.Number ? v.ToJsonString() : null;

    private static bool Bool(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.True;
}
