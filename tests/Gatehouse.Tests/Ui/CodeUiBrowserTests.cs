using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gatehouse.Config;
using Gatehouse.Persistence;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;

namespace Gatehouse.Tests.Ui;

/// <summary>The UI tests' server with passwordless sign-up and sign-in by e-mail code, the e-mail the code identifier.</summary>
public sealed class CodeUiBrowserFixture() : UiBrowserFixture(o =>
{
    UiServerFixture.Configure(o);
    o.Identity.Schemas = [.. o.Identity.Schemas, new IdentitySchemaEntry { Id = "code", Url = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(Schema)) }];
    o.Identity.DefaultSchemaId = "code";
    o.Selfservice.Methods.Code.PasswordlessEnabled = true;
    o.Selfservice.Flows.Registration.After.Code = new FlowAfterMethodOptions { Hooks = [new HookConfig { Hook = "session" }] };
})
{
    private const string Schema = """
    {
      "$schema": "http://json-schema.org/draft-07/schema#",
      "type": "object",
      "properties": {
        "traits": {
          "type": "object",
          "properties": {
            "email": {
              "type": "string", "format": "email", "title": "E-Mail",
              "ory.sh/kratos": {
                "credentials": { "password": { "identifier": true }, "code": { "identifier": true, "via": "email" } },
                "verification": { "via": "email" }, "recovery": { "via": "email" }
              }
            }
          },
          "required": ["email"],
          "additionalProperties": false
        }
      }
    }
    """;
}

/// <summary>
/// Passwordless sign-up and sign-in by e-mail code in a real (headless) Chromium, without scripts, every page checked with
/// axe-core, in English and on a narrow German screen: the code-entry pages, a wrong code, and "Resend code" (the earlier
/// code stops working, the new one signs in).
/// </summary>
public sealed class CodeUiBrowserTests(CodeUiBrowserFixture fixture) : IClassFixture<CodeUiBrowserFixture>
{
    public sealed record Texts(string Locale, int Width, string SignUp, string SendSignUpCode, string RegistrationCode, string Continue,
        string SendSignInCode, string LoginCode, string Resend, string LogOut, string CodeSent);

    private static readonly Dictionary<string, Texts> Languages = new()
    {
        ["en"] = new("en-US", 1024, "Sign up", "Send sign up code", "Registration code", "Continue", "Send sign in code", "Login code", "Resend code", "Log out",
            "A code was sent to the address you provided"),
        ["de"] = new("de-DE", 390, "Registrieren", "Registrierungscode senden", "Registrierungscode", "Weiter", "Anmeldecode senden", "Anmeldecode", "Code erneut senden", "Abmelden",
            "Ein Code wurde an die angegebene Adresse gesendet"),
    };

    [Theory]
    [InlineData("en")]
    [InlineData("de")]
    public async Task Sign_up_and_sign_in_with_a_mailed_code_and_resend_it(string language)
    {
        Assert.SkipUnless(UiBrowserFixture.Available, UiBrowserFixture.SkipReason);
        var t = Languages[language];
        await using var context = await fixture.NewContextAsync(locale: t.Locale, width: t.Width);
        var page = await context.NewPageAsync();
        var email = HttpAssertions.UniqueEmail("ui-code");

        // Sign up: the traits, then "Send sign up code", then the mailed code.
        await page.GotoAsync("/ui/registration");
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("registration"));
        await page.GetByLabel("E-Mail").FillAsync(email);
        await page.GetByRole(AriaRole.Button, new() { Name = t.SignUp }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("registration"));
        await UiBrowserFixture.ReviewAsync(page, $"code-{language}-01-registration-methods");
        await page.GetByRole(AriaRole.Button, new() { Name = t.SendSignUpCode }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("registration"));
        await Assertions.Expect(page.Locator("script")).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByLabel(t.RegistrationCode, new() { Exact = false })).ToBeVisibleAsync();
        await UiBrowserFixture.ReviewAsync(page, $"code-{language}-02-registration-code");
        await page.GetByLabel(t.RegistrationCode, new() { Exact = false }).FillAsync(await CodeAsync(email, "registration_code"));
        await page.GetByRole(AriaRole.Button, new() { Name = t.Continue }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, fixture.Server.PublicUrl + "/ui/welcome");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync(email);

        // Sign in: the identifier, "Send sign in code", the code-entry page with Resend.
        await page.GetByRole(AriaRole.Link, new() { Name = t.LogOut }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("login"));
        await page.Locator("input[name=identifier]").FillAsync(email);
        await UiBrowserFixture.ClickAndWaitForNextPageAsync(page, page.GetByRole(AriaRole.Button, new() { Name = t.SendSignInCode }));
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("login"));
        await Assertions.Expect(page.Locator(".flow-messages")).ToContainTextAsync(t.CodeSent);
        var codeField = page.GetByLabel(t.LoginCode, new() { Exact = false });
        await Assertions.Expect(codeField).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("script")).ToHaveCountAsync(0);
        await UiBrowserFixture.ReviewAsync(page, $"code-{language}-03-login-code");
        var first = await CodeAsync(email, "login_code");

        // A wrong code is an alert on the same page.
        await codeField.FillAsync(first == "000000" ? "111111" : "000000");
        await UiBrowserFixture.ClickAndWaitForNextPageAsync(page, page.GetByRole(AriaRole.Button, new() { Name = t.Continue }));
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("login"));
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToBeVisibleAsync();
        await UiBrowserFixture.ReviewAsync(page, $"code-{language}-04-login-code-wrong");

        // Resend works with the code field empty (the button skips the form's checks); a new code is mailed.
        await UiBrowserFixture.ClickAndWaitForNextPageAsync(page, page.GetByRole(AriaRole.Button, new() { Name = t.Resend }));
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("login"));
        await Assertions.Expect(page.Locator(".flow-messages")).ToContainTextAsync(t.CodeSent);
        var second = await CodeAsync(email, "login_code", after: first);
        Assert.Equal(2, await MailCountAsync(email, "login_code_valid"));

        // The first code stopped working; the new one signs in.
        if (first != second)
        {
            await page.GetByLabel(t.LoginCode, new() { Exact = false }).FillAsync(first);
            await UiBrowserFixture.ClickAndWaitForNextPageAsync(page, page.GetByRole(AriaRole.Button, new() { Name = t.Continue }));
            await UiBrowserFixture.WaitForPageAsync(page, FlowPage("login"));
            await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToBeVisibleAsync();
        }
        await page.GetByLabel(t.LoginCode, new() { Exact = false }).FillAsync(second);
        await page.GetByRole(AriaRole.Button, new() { Name = t.Continue }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, fixture.Server.PublicUrl + "/ui/welcome");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync(email);
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("code");
    }

    /// <summary>The code in the newest mail to an address (from the outbox's template data), waiting for one newer than <paramref name="after"/>'s mail.</summary>
    private async Task<string> CodeAsync(string email, string field, string? after = null)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        var mails = await db.CourierMessages.AsNoTracking().Where(m => m.Recipient == email).OrderByDescending(m => m.CreatedAt).ToListAsync();
        var codes = mails.Select(m => JsonNode.Parse(m.TemplateData ?? "{}")![field]?.GetValue<string>()).OfType<string>().ToList();
        Assert.NotEmpty(codes);
        if (after is not null) Assert.True(codes.Count >= 2, "no second code was mailed");
        return codes[0];
    }

    private async Task<int> MailCountAsync(string email, string template)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        return await db.CourierMessages.AsNoTracking().CountAsync(m => m.Recipient == email && m.TemplateType == template);
    }

    private Regex FlowPage(string kind) => new("^" + Regex.Escape($"{fixture.Server.PublicUrl}/ui/{kind}?flow=") + "[0-9a-f-]{36}$");
}
