using System.Text.Json.Nodes;
using Gatehouse.Ui;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Tests.Ui;

/// <summary>The generic node renderer on hand-made <c>ui</c> objects: node types, groups, messages, escaping.</summary>
public sealed class FlowFormRendererTests
{
    private static JsonObject Input(string name, string type, string group, JsonNode? value = null, bool required = false, string? label = null, JsonArray? messages = null, long labelId = 1070002)
    {
        var attributes = new JsonObject { ["name"] = name, ["type"] = type, ["node_type"] = "input", ["disabled"] = false };
        if (value is not null) attributes["value"] = value;
        if (required) attributes["required"] = true;
        var meta = new JsonObject();
        if (label is not null) meta["label"] = new JsonObject { ["id"] = labelId, ["text"] = label, ["type"] = "info" };
        return new JsonObject { ["type"] = "input", ["group"] = group, ["attributes"] = attributes, ["messages"] = messages ?? [], ["meta"] = meta };
    }

    private static JsonObject Ui(params JsonObject[] nodes) =>
        new() { ["action"] = "https://auth.example.com/self-service/settings?flow=1", ["method"] = "POST", ["nodes"] = new JsonArray([.. nodes]) };

    private static JsonObject Message(long id, string text, string type) => new() { ["id"] = id, ["text"] = text, ["type"] = type };

    private static int Count(string html, string part) => (html.Length - html.Replace(part, "", StringComparison.Ordinal).Length) / part.Length;

    [Fact]
    public void Method_groups_without_visible_default_fields_are_separate_forms_each_with_the_csrf_token()
    {
        var html = new FlowFormRenderer(UiText.En).Render(Ui(
            Input("csrf_token", "hidden", "default", "tok", required: true),
            Input("traits.email", "email", "profile", "a@example.com", required: true, label: "E-Mail"),
            Input("method", "submit", "profile", "profile", label: "Save"),
            Input("password", "password", "password", required: true, label: "Password"),
            Input("method", "submit", "password", "password", label: "Save")), g => g.ToUpperInvariant());

        Assert.Equal(2, Count(html, "<form "));
        Assert.Equal(2, Count(html, "<input type=\"hidden\" name=\"csrf_token\" value=\"tok\">"));
        Assert.Contains("<h2 id=\"profile-title\">PROFILE</h2>", html);
        Assert.Contains("<label for=\"profile-traits-email\">E-Mail", html);
        Assert.Contains("<label for=\"password-password\">Password", html);
        Assert.Contains("value=\"a@example.com\"", html);
    }

    [Fact]
    public void Visible_default_fields_keep_all_methods_in_one_form()
    {
        var html = new FlowFormRenderer(UiText.En).Render(Ui(
            Input("identifier", "text", "default", "", required: true, label: "ID"),
            Input("csrf_token", "hidden", "default", "tok"),
            Input("password", "password", "password", required: true, label: "Password"),
            Input("method", "submit", "password", "password", label: "Sign in")));

        Assert.Equal(1, Count(html, "<form "));
        Assert.True(html.IndexOf("name=\"csrf_token\"", StringComparison.Ordinal) < html.IndexOf("name=\"identifier\"", StringComparison.Ordinal));
        Assert.Contains("<button type=\"submit\" name=\"method\" value=\"password\" class=\"button\">Sign in</button>", html);
    }

    [Fact]
    public void Other_node_types_render_as_links_text_and_images_and_unknown_ones_keep_their_messages()
    {
        var anchor = new JsonObject
        {
            ["type"] = "a", ["group"] = "code",
            ["attributes"] = new JsonObject { ["href"] = "https://app.example.com/next", ["id"] = "continue", ["title"] = Message(1070009, "Continue", "info"), ["node_type"] = "a" },
            ["messages"] = new JsonArray(), ["meta"] = new JsonObject(),
        };
        var text = new JsonObject
        {
            ["type"] = "text", ["group"] = "lookup_secret",
            ["attributes"] = new JsonObject { ["id"] = "secrets", ["text"] = Message(1050015, "abcd-efgh", "info"), ["node_type"] = "text" },
            ["messages"] = new JsonArray(), ["meta"] = new JsonObject { ["label"] = Message(1050010, "These are your back up recovery codes.", "info") },
        };
        var image = new JsonObject
        {
            ["type"] = "img", ["group"] = "totp",
            ["attributes"] = new JsonObject { ["src"] = "data:image/png;base64,AAAA", ["id"] = "totp_qr", ["width"] = 256, ["height"] = 256, ["node_type"] = "img" },
            ["messages"] = new JsonArray(), ["meta"] = new JsonObject { ["label"] = Message(1050005, "Authenticator app QR code", "info") },
        };
        var script = new JsonObject
        {
            ["type"] = "script", ["group"] = "webauthn",
            ["attributes"] = new JsonObject { ["src"] = "https://cdn.example.com/x.js", ["id"] = "webauthn_script", ["node_type"] = "script" },
            ["messages"] = new JsonArray(Message(4000001, "WebAuthn needs JavaScript.", "error")), ["meta"] = new JsonObject(),
        };
        var html = new FlowFormRenderer(UiText.En).Render(Ui(Input("csrf_token", "hidden", "default", "tok"), anchor, text, image, script));

        Assert.Contains("<a href=\"https://app.example.com/next\" id=\"code-continue\">Continue</a>", html);
        Assert.Contains("<p class=\"node-text-value\">abcd-efgh</p>", html);
        Assert.Contains("<img src=\"data:image/png;base64,AAAA\" alt=\"Authenticator app QR code\" width=\"256\" height=\"256\"", html);
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("cdn.example.com", html);
        Assert.Contains("role=\"alert\" data-message-id=\"4000001\">WebAuthn needs JavaScript.</p>", html);
    }

    [Theory]
    [InlineData("javascript:alert(1)", null)]
    [InlineData("JavaScript:alert(1)", null)]
    [InlineData("data:text/html,<script>alert(1)</script>", null)]
    [InlineData("https://app.example.com/next", "https://app.example.com/next")]
    [InlineData("/ui/welcome", "/ui/welcome")]
    [InlineData("next?x=1", "next?x=1")]
    public void Links_keep_only_web_urls(string href, string? expected)
    {
        var anchor = new JsonObject
        {
            ["type"] = "a", ["group"] = "default",
            ["attributes"] = new JsonObject { ["href"] = href, ["id"] = "go", ["title"] = Message(1070009, "Continue", "info"), ["node_type"] = "a" },
            ["messages"] = new JsonArray(), ["meta"] = new JsonObject(),
        };
        var html = new FlowFormRenderer(UiText.En).Render(Ui(anchor));
        if (expected is null)
        {
            Assert.Contains("<a id=\"f-go\">Continue</a>", html);
        }
        else
        {
            Assert.Contains($"<a href=\"{System.Text.Encodings.Web.HtmlEncoder.Default.Encode(expected)}\" id=\"f-go\">Continue</a>", html);
        }
    }

    [Fact]
    public void Inputs_map_their_attributes_and_buttons_other_than_method_skip_validation()
    {
        var html = new FlowFormRenderer(UiText.En).Render(Ui(
            Input("csrf_token", "hidden", "default", "tok"),
            Input("traits.newsletter", "checkbox", "profile", true, label: "Newsletter"),
            Input("traits.age", "number", "profile", 42, label: "Age"),
            Input("traits.color", "color", "profile", "red", label: "Colour"),
            Input("password", "password", "profile", "secret-must-not-show", label: "Password"),
            Input("method", "submit", "profile", "profile", label: "Save"),
            Input("email", "submit", "profile", "a@example.com", label: "Resend code")));

        Assert.Contains("<input id=\"profile-traits-newsletter\" type=\"checkbox\" name=\"traits.newsletter\" value=\"true\" checked>", html);
        Assert.Contains("type=\"number\" name=\"traits.age\" value=\"42\"", html);
        Assert.Contains("type=\"text\" name=\"traits.color\" value=\"red\"", html);
        Assert.DoesNotContain("secret-must-not-show", html);
        Assert.Contains("<button type=\"submit\" name=\"email\" value=\"a@example.com\" formnovalidate class=\"button button-secondary\">Resend code</button>", html);
        Assert.Contains("<button type=\"submit\" name=\"method\" value=\"profile\" class=\"button\">Save</button>", html);
    }

    [Fact]
    public void In_one_form_a_method_button_skips_validation_when_another_method_has_a_required_field()
    {
        // Passwordless login next to the password: "Send sign in code" must not need the password filled in.
        var html = new FlowFormRenderer(UiText.En).Render(Ui(
            Input("csrf_token", "hidden", "default", "tok", required: true),
            Input("identifier", "text", "default", "", required: true, label: "ID"),
            Input("password", "password", "password", required: true, label: "Password"),
            Input("method", "submit", "password", "password", label: "Sign in with password"),
            Input("method", "submit", "code", "code", label: "Send sign in code")));

        Assert.Equal(1, Count(html, "<form "));
        Assert.Contains("<button type=\"submit\" name=\"method\" value=\"password\" class=\"button\">Sign in with password</button>", html);
        Assert.Contains("<button type=\"submit\" name=\"method\" value=\"code\" formnovalidate class=\"button\">Send sign in code</button>", html);

        // Only the code method's fields: its Continue checks them.
        var sent = new FlowFormRenderer(UiText.En).Render(Ui(
            Input("identifier", "text", "default", "a@example.com", required: true, label: "ID"),
            Input("code", "text", "code", required: true, label: "Login code"),
            Input("method", "submit", "code", "code", label: "Continue"),
            Input("resend", "submit", "code", "code", label: "Resend code")));
        Assert.Contains("<button type=\"submit\" name=\"method\" value=\"code\" class=\"button\">Continue</button>", sent);
        Assert.Contains("<button type=\"submit\" name=\"resend\" value=\"code\" formnovalidate class=\"button button-secondary\">Resend code</button>", sent);
    }

    [Fact]
    public void Messages_sit_under_their_field_and_everything_is_encoded()
    {
        var ui = Ui(
            Input("csrf_token", "hidden", "default", "tok"),
            Input("traits.name", "text", "profile", "<b>Bob</b>", required: true, label: "Name <i>",
                messages: [Message(4000002, "Property <name> is missing.", "error"), Message(1, "Hint", "info")]),
            Input("traits.hidden", "hidden", "profile", "x", messages: [Message(4000007, "An account with the same identifier exists already.", "error")]));
        ui["messages"] = new JsonArray(Message(1050001, "Saved & done", "success"));
        var html = new FlowFormRenderer(UiText.En).Render(ui);

        Assert.StartsWith("<div class=\"messages flow-messages\" id=\"flow-messages\"><p class=\"message message-success\" role=\"status\" data-message-id=\"1050001\">Saved &amp; done</p></div>", html);
        Assert.Contains("<div class=\"field field-invalid\"><label for=\"profile-traits-name\">Name &lt;i&gt;", html);
        Assert.Contains("value=\"&lt;b&gt;Bob&lt;/b&gt;\" required autofocus aria-invalid=\"true\" aria-describedby=\"profile-traits-name-messages\">", html);
        Assert.Equal(1, Count(html, "autofocus"));
        Assert.Contains("<div class=\"messages\" id=\"profile-traits-name-messages\"><p class=\"message message-error\" role=\"alert\" data-message-id=\"4000002\">Property &lt;name&gt; is missing.</p><p class=\"message message-info\" role=\"status\" data-message-id=\"1\">Hint</p></div>", html);
        Assert.Contains("data-message-id=\"4000007\">An account with the same identifier exists already.</p>", html);
    }

    [Fact]
    public void Labels_and_messages_use_the_translation_of_their_id()
    {
        var html = new FlowFormRenderer(UiText.De).Render(Ui(
            Input("identifier", "text", "default", "", label: "E-Mail address"),
            Input("password", "password", "password", label: "Password", labelId: 1070001,
                messages: [Message(4000006, "The provided credentials are invalid.", "error")])));
        // A schema title (1070002) is the schema's own text; Kratos's fixed texts are translated.
        Assert.Contains(">E-Mail address</label>", html);
        Assert.Contains(">Passwort</label>", html);
        Assert.Contains(">Die Anmeldedaten sind ungültig.", html);
        Assert.Equal("Password", UiText.En.Message(new JsonObject { ["id"] = 1070001, ["text"] = "Password" }));
        Assert.Equal("no translation", UiText.De.Message(new JsonObject { ["id"] = 9999999, ["text"] = "no translation" }));
    }

    [Theory]
    [InlineData("de-AT,de;q=0.9", "de")]
    [InlineData("fr-CH, de;q=0.9, en;q=0.8", "de")]
    [InlineData("de;q=0.5, en", "en")]
    [InlineData("fr, it", "en")]
    [InlineData("de;q=0, en;q=0.1", "en")]
    [InlineData("", "en")]
    public void The_language_is_the_best_accepted_one_with_texts(string acceptLanguage, string expected)
    {
        var http = new DefaultHttpContext();
        if (acceptLanguage.Length > 0) http.Request.Headers.AcceptLanguage = acceptLanguage;
        Assert.Equal(expected, UiText.For(http.Request).Language);
    }
}
