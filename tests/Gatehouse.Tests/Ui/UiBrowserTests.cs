using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gatehouse.Persistence;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.Ui;

/// <summary>
/// The built-in pages driven by a real (headless) Chromium, as a person would use them: forms, links, keyboard, no
/// scripts. Every page visited is saved as a screenshot and checked with axe-core.
/// </summary>
public sealed partial class UiBrowserTests(UiBrowserFixture fixture) : IClassFixture<UiBrowserFixture>
{
    private const string NewPassword = "a-brand-new-passphrase-77";

    [Fact]
    public async Task Register_see_the_session_log_out_and_log_in_again()
    {
        Assert.SkipUnless(UiBrowserFixture.Available, UiBrowserFixture.SkipReason);
        await using var context = await fixture.NewContextAsync();
        var page = await context.NewPageAsync();
        var email = HttpAssertions.UniqueEmail("ui");

        await page.GotoAsync("/ui/registration");
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("registration"));
        await UiBrowserFixture.ReviewAsync(page, "01-registration");
        await page.GetByLabel("E-Mail").FillAsync(email);
        await page.GetByLabel("First name").FillAsync("Ada");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign up" }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("registration"));
        await UiBrowserFixture.ReviewAsync(page, "02-registration-password");
        await page.GetByLabel("Password").FillAsync(GoodPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign up" }).ClickAsync();

        await UiBrowserFixture.WaitForPageAsync(page, fixture.Server.PublicUrl + "/ui/welcome");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Welcome");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync(email);
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("password");
        await UiBrowserFixture.ReviewAsync(page, "03-welcome");

        await page.GetByRole(AriaRole.Link, new() { Name = "Log out" }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("login"));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Sign in");
        await UiBrowserFixture.ReviewAsync(page, "04-login");

        // Keyboard only: type into the fields and submit with Enter.
        await page.GetByLabel(IdLabel()).FocusAsync();
        await page.Keyboard.TypeAsync(email);
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.TypeAsync(GoodPassword);
        await page.Keyboard.PressAsync("Enter");
        await UiBrowserFixture.WaitForPageAsync(page, fixture.Server.PublicUrl + "/ui/welcome");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync(email);
    }

    [Fact]
    public async Task A_validation_error_is_shown_next_to_its_field_and_announced()
    {
        Assert.SkipUnless(UiBrowserFixture.Available, UiBrowserFixture.SkipReason);
        await using var context = await fixture.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync("/ui/registration");
        await page.GetByLabel("E-Mail").FillAsync(HttpAssertions.UniqueEmail("short"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign up" }).ClickAsync();
        await page.GetByLabel("Password").FillAsync("short");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign up" }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("registration"));

        var password = page.GetByLabel("Password");
        await Assertions.Expect(password).ToHaveAttributeAsync("aria-invalid", "true");
        await Assertions.Expect(password).ToBeFocusedAsync();
        var describedBy = await password.GetAttributeAsync("aria-describedby");
        Assert.False(string.IsNullOrEmpty(describedBy));
        var message = page.Locator($"#{describedBy} [role=alert]");
        await Assertions.Expect(message).ToContainTextAsync("at least 8 characters");
        // In place: the message sits in the password field's own group, not at the top of the page.
        await Assertions.Expect(page.Locator(".field", new() { Has = password }).Locator("[role=alert]")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator(".flow-messages")).ToHaveCountAsync(0);
        await UiBrowserFixture.ReviewAsync(page, "05-registration-validation-error");
    }

    [Fact]
    public async Task Settings_change_a_trait_and_the_password()
    {
        Assert.SkipUnless(UiBrowserFixture.Available, UiBrowserFixture.SkipReason);
        await using var context = await fixture.NewContextAsync();
        var page = await context.NewPageAsync();
        var email = await RegisterAsync(page);

        await page.GetByRole(AriaRole.Link, new() { Name = "Account settings" }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("settings"));
        await UiBrowserFixture.ReviewAsync(page, "06-settings");
        var profile = page.GetByRole(AriaRole.Region, new() { Name = "Profile" });
        await Assertions.Expect(profile.GetByLabel("E-Mail")).ToHaveValueAsync(email);
        await profile.GetByLabel("Last name").FillAsync("Lovelace");
        await profile.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("settings"));
        await Assertions.Expect(page.Locator(".flow-messages [role=status]")).ToHaveTextAsync("Your changes have been saved!");
        await Assertions.Expect(page.GetByRole(AriaRole.Region, new() { Name = "Profile" }).GetByLabel("Last name")).ToHaveValueAsync("Lovelace");
        await UiBrowserFixture.ReviewAsync(page, "07-settings-saved");

        var password = page.GetByRole(AriaRole.Region, new() { Name = "Change password" });
        await password.GetByLabel("Password").FillAsync(NewPassword);
        await password.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("settings"));
        await Assertions.Expect(page.Locator(".flow-messages [role=status]")).ToHaveTextAsync("Your changes have been saved!");

        await page.GotoAsync("/ui/welcome");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("Lovelace");
        await page.GetByRole(AriaRole.Link, new() { Name = "Log out" }).ClickAsync();
        await LoginAsync(page, email, NewPassword);
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync(email);
    }

    [Fact]
    public async Task Verify_the_email_address_with_the_mailed_code()
    {
        Assert.SkipUnless(UiBrowserFixture.Available, UiBrowserFixture.SkipReason);
        await using var context = await fixture.NewContextAsync();
        var page = await context.NewPageAsync();
        var email = await RegisterAsync(page);
        await Assertions.Expect(page.Locator(".addresses")).ToContainTextAsync("not verified");

        await page.GetByRole(AriaRole.Link, new() { Name = "Verify your email address" }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("verification"));
        await UiBrowserFixture.ReviewAsync(page, "08-verification");
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("verification"));
        await Assertions.Expect(page.Locator(".flow-messages")).ToContainTextAsync("verification code has been sent");
        await UiBrowserFixture.ReviewAsync(page, "09-verification-code");

        await page.GetByLabel("Verification code").FillAsync(await CodeAsync(email, "verification_code"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("verification"));
        await Assertions.Expect(page.Locator(".flow-messages [role=status]")).ToHaveTextAsync("You successfully verified your email address.");
        await UiBrowserFixture.ReviewAsync(page, "10-verification-done");

        await page.GetByRole(AriaRole.Link, new() { Name = "Back to your account" }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, fixture.Server.PublicUrl + "/ui/welcome");
        await Assertions.Expect(page.Locator(".addresses")).ToContainTextAsync("verified");
        await Assertions.Expect(page.Locator(".addresses")).Not.ToContainTextAsync("not verified");
    }

    [Fact]
    public async Task Recover_the_account_with_the_mailed_code_and_set_a_new_password()
    {
        Assert.SkipUnless(UiBrowserFixture.Available, UiBrowserFixture.SkipReason);
        string email;
        await using (var first = await fixture.NewContextAsync())
        {
            email = await RegisterAsync(await first.NewPageAsync());
        }
        await using var context = await fixture.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync("/ui/login");
        await page.GetByRole(AriaRole.Link, new() { Name = "Forgot your password?" }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("recovery"));
        await UiBrowserFixture.ReviewAsync(page, "11-recovery");
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("recovery"));
        await UiBrowserFixture.ReviewAsync(page, "12-recovery-code");

        await page.GetByLabel("Recovery code").FillAsync(await CodeAsync(email, "recovery_code"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("settings"));
        await Assertions.Expect(page.Locator(".flow-messages [role=status]")).ToContainTextAsync("You successfully recovered your account.");
        await UiBrowserFixture.ReviewAsync(page, "13-settings-after-recovery");
        var password = page.GetByRole(AriaRole.Region, new() { Name = "Change password" });
        await password.GetByLabel("Password").FillAsync(NewPassword);
        await password.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Assertions.Expect(page.Locator(".flow-messages [role=status]")).ToHaveTextAsync("Your changes have been saved!");

        await page.GotoAsync("/ui/welcome");
        await page.GetByRole(AriaRole.Link, new() { Name = "Log out" }).ClickAsync();
        await LoginAsync(page, email, NewPassword);
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync(email);
    }

    [Fact]
    public async Task A_csrf_failure_is_shown_as_an_error_page()
    {
        Assert.SkipUnless(UiBrowserFixture.Available, UiBrowserFixture.SkipReason);
        await using var context = await fixture.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync("/ui/login");
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("login"));
        // The browser loses its cookies (or another site posts the form): the submit carries no CSRF cookie.
        await context.ClearCookiesAsync();
        await page.GetByLabel(IdLabel()).FillAsync("someone@example.com");
        await page.GetByLabel("Password").FillAsync(GoodPassword);
        var response = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Sign in with password" }).ClickAsync(),
            r => r.Url.Contains("/self-service/login?flow=", StringComparison.Ordinal));
        // As in Kratos, the error is stored and the browser sent to the error UI, which reads it back by id.
        Assert.Equal(303, response.Status);
        await UiBrowserFixture.WaitForPageAsync(page, new System.Text.RegularExpressions.Regex("/ui/error\\?id=[0-9a-f-]{36}$"));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Your request could not be verified");
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("cross-site request forgery");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("security_csrf_violation");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("403 Forbidden");
        await UiBrowserFixture.ReviewAsync(page, "14-error-csrf");

        await page.GetByRole(AriaRole.Link, new() { Name = "Go to sign in" }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("login"));
    }

    [Fact]
    public async Task The_error_page_and_a_german_narrow_screen_pass_the_accessibility_check()
    {
        Assert.SkipUnless(UiBrowserFixture.Available, UiBrowserFixture.SkipReason);
        await using var context = await fixture.NewContextAsync(locale: "de-DE", width: 390);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/ui/error?id=" + Guid.NewGuid());
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Etwas ist schiefgelaufen");
        await UiBrowserFixture.ReviewAsync(page, "15-error-generic-de-mobile");
        await page.GotoAsync("/ui/login");
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("login"));
        await Assertions.Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "de");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Mit Passwort anmelden" })).ToBeVisibleAsync();
        await UiBrowserFixture.ReviewAsync(page, "16-login-de-mobile");
    }

    private async Task<string> RegisterAsync(IPage page)
    {
        var email = HttpAssertions.UniqueEmail("ui");
        await page.GotoAsync("/ui/registration");
        await page.GetByLabel("E-Mail").FillAsync(email);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign up" }).ClickAsync();
        await page.GetByLabel("Password").FillAsync(GoodPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign up" }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, fixture.Server.PublicUrl + "/ui/welcome");
        return email;
    }

    private async Task LoginAsync(IPage page, string email, string password)
    {
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("login"));
        await page.GetByLabel(IdLabel()).FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in with password" }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, fixture.Server.PublicUrl + "/ui/welcome");
    }

    /// <summary>The code of the newest mail to an address, from the outbox's template data.</summary>
    private async Task<string> CodeAsync(string email, string field)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        var mail = await db.CourierMessages.AsNoTracking().Where(m => m.Recipient == email).OrderByDescending(m => m.CreatedAt).FirstAsync();
        return JsonNode.Parse(mail.TemplateData ?? "{}")![field]!.GetValue<string>();
    }

    // The label reads "ID" plus the required mark.
    [GeneratedRegex("^ID")]
    private static partial Regex IdLabel();

    private Regex FlowPage(string kind) => new("^" + Regex.Escape($"{fixture.Server.PublicUrl}/ui/{kind}?flow=") + "[0-9a-f-]{36}$");
}
