using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gatehouse.Config;
using Gatehouse.Persistence;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Tests.Ui;

/// <summary>The UI tests' server with <c>feature_flags.choose_recovery_address</c> and the recovery v2 API tests' schema (two recovery e-mail addresses, a recovery phone).</summary>
public sealed class RecoveryChooseAddressUiFixture : IAsyncDisposable
{
    private readonly Lazy<Task<TestServer>> _server = new(() => TestServer.StartAsync(Db.Sqlite, o =>
    {
        UiServerFixture.Configure(o);
        o.Identity.Schemas = [new IdentitySchemaEntry { Id = "default", Url = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(SelfService.RecoveryChooseAddressTests.Schema)) }];
        o.FeatureFlags.ChooseRecoveryAddress = true;
    }));

    public Task<TestServer> Server() => _server.Value;

    public async ValueTask DisposeAsync()
    {
        if (_server.IsValueCreated && _server.Value.IsCompletedSuccessfully) await _server.Value.Result.DisposeAsync();
    }
}

/// <summary>
/// Recovery v2 (Kratos v26.2's <c>choose_recovery_address</c>, <c>selfservice/strategy/code/strategy_recovery.go</c>
/// <c>recoveryV2Handle*</c>) driven through the built-in pages as a browser without JavaScript would: every request is
/// a form the previous page rendered, posted with its hidden inputs, the typed fields and the one button pressed.
/// </summary>
public sealed partial class RecoveryChooseAddressPagesTests(RecoveryChooseAddressUiFixture fixture) : IClassFixture<RecoveryChooseAddressUiFixture>
{
    /// <summary>A rendered form: where it posts, its fields (hidden and typed, in order) and its submit buttons.</summary>
    private sealed record Form(string Action, string Method, List<(string Type, string Name, string Value, bool Required)> Inputs, List<(string Name, string Value, string Label, bool NoValidate)> Buttons)
    {
        /// <summary>
        /// What a browser posts when <paramref name="button"/> is pressed: every named input (typed ones from
        /// <paramref name="typed"/>), then the pressed button's name and value. A required field left empty blocks the
        /// submit unless the button has <c>formnovalidate</c>.
        /// </summary>
        public List<KeyValuePair<string, string>> Submit((string Name, string Value, string Label, bool NoValidate) button, Dictionary<string, string>? typed = null)
        {
            var body = new List<KeyValuePair<string, string>>();
            foreach (var input in Inputs)
            {
                var value = input.Type == "hidden" ? input.Value : typed?.GetValueOrDefault(input.Name) ?? input.Value;
                Assert.False(input.Required && value.Length == 0 && !button.NoValidate, $"required field {input.Name} blocks \"{button.Label}\"");
                body.Add(new(input.Name, value));
            }
            body.Add(new(button.Name, button.Value));
            return body;
        }

        public (string Name, string Value, string Label, bool NoValidate) Button(string name) => Buttons.Single(b => b.Name == name);
    }

    [GeneratedRegex("<form (?<attrs>[^>]*)>(?<body>.*?)</form>", RegexOptions.Singleline)]
    private static partial Regex FormElement();

    [GeneratedRegex("<input (?<attrs>[^>]*)>")]
    private static partial Regex InputElement();

    [GeneratedRegex("<button (?<attrs>[^>]*)>(?<label>[^<]*)</button>")]
    private static partial Regex ButtonElement();

    [GeneratedRegex("""(?<name>[a-z-]+)(="(?<value>[^"]*)")?""")]
    private static partial Regex Attribute();

    private static Dictionary<string, string> Attributes(string attrs) =>
        Attribute().Matches(attrs).ToDictionary(m => m.Groups["name"].Value, m => WebUtility.HtmlDecode(m.Groups["value"].Value));

    private static List<Form> Forms(string html) => [.. FormElement().Matches(html).Select(f =>
    {
        var attrs = Attributes(f.Groups["attrs"].Value);
        var inputs = InputElement().Matches(f.Groups["body"].Value).Select(i => Attributes(i.Groups["attrs"].Value))
            .Select(a => (a["type"], a["name"], a.GetValueOrDefault("value") ?? "", a.ContainsKey("required"))).ToList();
        var buttons = ButtonElement().Matches(f.Groups["body"].Value).Select(b => (Attrs: Attributes(b.Groups["attrs"].Value), Label: WebUtility.HtmlDecode(b.Groups["label"].Value)))
            .Where(b => b.Attrs.GetValueOrDefault("type") == "submit")
            .Select(b => (b.Attrs["name"], b.Attrs.GetValueOrDefault("value") ?? "", b.Label, b.Attrs.ContainsKey("formnovalidate"))).ToList();
        return new Form(attrs["action"], attrs["method"], inputs, buttons);
    })];

    /// <summary>Follows redirects (as a browser does) to the page at the end: its URL and HTML.</summary>
    private static async Task<(Uri Url, string Html)> Follow(Browser browser, HttpResponseMessage response)
    {
        for (var i = 0; i < 5 && response.StatusCode is HttpStatusCode.SeeOther or HttpStatusCode.Found; i++)
        {
            var next = new Uri(browser.Client.BaseAddress!, response.Headers.Location!);
            response.Dispose();
            response = await browser.Client.GetAsync(next);
        }
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
            return (response.RequestMessage!.RequestUri!, await response.Content.ReadAsStringAsync());
        }
    }

    private static async Task<(Uri Url, string Html)> Press(Browser browser, Form form, (string Name, string Value, string Label, bool NoValidate) button, Dictionary<string, string>? typed = null)
    {
        Assert.Equal("post", form.Method);
        return await Follow(browser, await browser.PostForm(form.Action, form.Submit(button, typed)));
    }

    private static async Task<List<string>> CodesSentTo(TestServer s, string to)
    {
        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        var messages = await db.CourierMessages.AsNoTracking().Where(m => m.Recipient == to).OrderBy(m => m.CreatedAt).ThenBy(m => m.Id).ToListAsync();
        Assert.All(messages, m => Assert.Equal("recovery_code_valid", m.TemplateType));
        return [.. messages.Select(m => JsonNode.Parse(m.TemplateData!)!["recovery_code"]!.GetValue<string>())];
    }

    /// <summary>The choice: one submit button per address, masked in its label, carrying the address's hash; no address in full.</summary>
    private static Form AssertChoice(string html, string email, string backup)
    {
        var form = Assert.Single(Forms(html));
        Assert.Contains("data-message-id=\"1060006\"", html);
        var choices = form.Buttons.Where(b => b.Name == "recovery_select_address").ToList();
        Assert.Equal(["ma****@example.com", "sp****@example.com"], choices.Select(b => b.Label));
        Assert.Equal(2, choices.Select(b => b.Value).Distinct().Count());
        Assert.All(choices, b => Assert.Matches("^[A-Za-z0-9+/]{43}=$", b.Value));
        Assert.Equal(2, form.Buttons.Count);
        Assert.Contains(("hidden", "recovery_address", email, false), form.Inputs);
        Assert.Contains(("hidden", "method", "code", false), form.Inputs);
        Assert.DoesNotContain(backup, html);
        return form;
    }

    /// <summary>In English, and in German (the page's own texts for Kratos's 1060004–1060007 and 1070016).</summary>
    [Theory]
    [InlineData("en", "Recovery address", "How do you want to recover your account?", "Recover access to your account by providing your recovery address in full.", "Back", "Resend code", "A recovery code has been sent to sp****@example.com.")]
    [InlineData("de", "Wiederherstellungsadresse", "Wie möchten Sie Ihr Konto wiederherstellen?", "Stellen Sie den Zugang zu Ihrem Konto wieder her, indem Sie Ihre Wiederherstellungsadresse vollständig angeben.", "Zurück", "Code erneut senden", "Ein Wiederherstellungscode wurde an sp****@example.com gesendet.")]
    public async Task Two_recovery_addresses_choose_the_second_confirm_it_go_back_once_and_recover_with_the_code(
        string language, string addressLabel, string chooseMessage, string confirmMessage, string backLabel, string resendLabel, string codeSent)
    {
        var s = await fixture.Server();
        var email = $"main-{Guid.NewGuid():N}@example.com";
        var backup = $"spare-{Guid.NewGuid():N}@example.com";
        var created = await s.AdminWithKey.PostJson("/admin/identities", new JsonObject
        {
            ["schema_id"] = "default",
            ["traits"] = new JsonObject { ["email"] = email, ["backup_email"] = backup },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var browser = new Browser(s.PublicUrl);
        browser.Client.DefaultRequestHeaders.AcceptLanguage.ParseAdd(language);

        // The first screen: any recovery address.
        var (url, html) = await Follow(browser, await browser.Client.GetAsync("/ui/recovery"));
        Assert.Equal("/ui/recovery", url.AbsolutePath);
        var form = Assert.Single(Forms(html));
        Assert.Equal(s.PublicUrl + "/self-service/recovery?flow=" + url.Query[(url.Query.IndexOf("flow=", StringComparison.Ordinal) + 5)..], form.Action);
        Assert.Contains(("text", "recovery_address", "", true), form.Inputs);
        Assert.Contains("<label for=\"code-recovery_address\">" + addressLabel, html);
        (url, html) = await Press(browser, form, form.Button("method"), new() { ["recovery_address"] = email });

        // The choice: the second (sorted) address is the backup.
        form = AssertChoice(html, email, backup);
        Assert.Contains(chooseMessage, WebUtility.HtmlDecode(html));
        (url, html) = await Press(browser, form, form.Buttons.Single(b => b.Label == "sp****@example.com"));

        // The confirmation asks for it in full, and has a Back button that skips the required field.
        form = Assert.Single(Forms(html));
        Assert.Contains("data-message-id=\"1060005\"", html);
        Assert.Contains(confirmMessage, WebUtility.HtmlDecode(html));
        Assert.Contains(("email", "recovery_confirm_address", "", true), form.Inputs);
        Assert.Contains(("hidden", "recovery_address", email, false), form.Inputs);
        var back = form.Button("screen");
        Assert.Equal(("previous", backLabel, true), (back.Value, back.Label, back.NoValidate));
        Assert.False(form.Button("method").NoValidate);
        (url, html) = await Press(browser, form, back);

        // Back on the choice; choose the backup again and type it in full.
        form = AssertChoice(html, email, backup);
        (url, html) = await Press(browser, form, form.Buttons.Single(b => b.Label == "sp****@example.com"));
        form = Assert.Single(Forms(html));
        Assert.Empty(await CodesSentTo(s, backup));
        (url, html) = await Press(browser, form, form.Button("method"), new() { ["recovery_confirm_address"] = backup });

        // The code screen names the address masked, and "Resend code" sends a new one (without a code typed).
        form = Assert.Single(Forms(html));
        Assert.Contains(codeSent, WebUtility.HtmlDecode(html));
        Assert.Contains(("text", "code", "", true), form.Inputs);
        var resend = form.Buttons.Single(b => b.Label == resendLabel);
        Assert.Equal(("recovery_confirm_address", backup, true), (resend.Name, resend.Value, resend.NoValidate));
        Assert.True(form.Button("screen").NoValidate);
        var first = Assert.Single(await CodesSentTo(s, backup));
        Assert.Empty(await CodesSentTo(s, email));
        (url, html) = await Press(browser, form, resend);
        form = Assert.Single(Forms(html));
        var codes = await CodesSentTo(s, backup);
        Assert.Equal(2, codes.Count);
        Assert.Equal(first, codes[0]);

        // The new code signs in and lands on the settings page.
        (url, html) = await Press(browser, form, form.Button("method"), new() { ["code"] = codes[1] });
        Assert.Equal("/ui/settings", url.AbsolutePath);
        Assert.Contains("name=\"password\"", html);
        Assert.Contains(email, html);
        var whoami = await browser.Client.GetAsync("/sessions/whoami");
        Assert.Equal(HttpStatusCode.OK, whoami.StatusCode);
    }
}
