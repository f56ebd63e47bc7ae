using System.Text.RegularExpressions;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Playwright;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.Ui;

/// <summary>The UI tests' server with the authenticator app and recovery codes switched on.</summary>
public sealed class MfaUiBrowserFixture() : UiBrowserFixture(o =>
{
    UiServerFixture.Configure(o);
    o.Selfservice.Methods.Totp.Enabled = true;
    o.Selfservice.Methods.LookupSecret.Enabled = true;
});

/// <summary>
/// The second-factor pages in a real (headless) Chromium, without scripts, each checked with axe-core: settings with the
/// authenticator app's QR code and the recovery codes (generated, listed, confirmed), then a sign-in that steps up with a
/// recovery code — in English and on a narrow German screen.
/// </summary>
public sealed partial class MfaUiBrowserTests(MfaUiBrowserFixture fixture) : IClassFixture<MfaUiBrowserFixture>
{
    [Theory]
    [InlineData("en-US", 1024, "Sign up", "Generate new backup recovery codes", "Confirm backup recovery codes", "Log out", "Sign in with password", "Backup recovery code", "Use backup recovery code")]
    [InlineData("de-DE", 390, "Registrieren", "Neue Wiederherstellungscodes erzeugen", "Wiederherstellungscodes bestätigen", "Abmelden", "Mit Passwort anmelden", "Wiederherstellungscode", "Wiederherstellungscode verwenden")]
    public async Task Recovery_codes_are_made_in_settings_and_step_up_a_new_sign_in(
        string locale, int width, string signUp, string generate, string confirm, string logOut, string signIn, string codeLabel, string useCode)
    {
        Assert.SkipUnless(UiBrowserFixture.Available, UiBrowserFixture.SkipReason);
        await using var context = await fixture.NewContextAsync(locale: locale, width: width);
        var page = await context.NewPageAsync();
        var tag = locale[..2];
        var email = HttpAssertions.UniqueEmail("ui-mfa");

        // Profile-first registration: the traits, then the password.
        await page.GotoAsync("/ui/registration");
        await page.WaitForURLAsync(FlowPage("registration"));
        await page.GetByLabel("E-Mail").FillAsync(email);
        await page.GetByRole(AriaRole.Button, new() { Name = signUp }).ClickAsync();
        await page.WaitForURLAsync(FlowPage("registration"));
        await page.Locator("input[name=password]").FillAsync(GoodPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = signUp }).ClickAsync();
        await page.WaitForURLAsync(fixture.Server.PublicUrl + "/ui/welcome");

        await page.GotoAsync("/ui/settings");
        await page.WaitForURLAsync(FlowPage("settings"));
        await Assertions.Expect(page.Locator("img[src^='data:image/png;base64,']")).ToBeVisibleAsync();
        await UiBrowserFixture.ReviewAsync(page, $"mfa-{tag}-01-settings");

        await page.GetByRole(AriaRole.Button, new() { Name = generate }).ClickAsync();
        await page.WaitForURLAsync(FlowPage("settings"));
        var codes = await page.Locator("ul.node-text-secrets code").AllInnerTextsAsync();
        Assert.Equal(12, codes.Distinct().Count());
        Assert.All(codes, c => Assert.Matches("^[a-z0-9]{8}$", c));
        await UiBrowserFixture.ReviewAsync(page, $"mfa-{tag}-02-recovery-codes");
        await page.GetByRole(AriaRole.Button, new() { Name = confirm }).ClickAsync();
        await page.WaitForLoadStateAsync();

        await page.GotoAsync("/ui/welcome");
        await page.GetByRole(AriaRole.Link, new() { Name = logOut }).ClickAsync();
        await page.WaitForURLAsync(FlowPage("login"));
        await page.Locator("input[name=identifier]").FillAsync(email);
        await page.Locator("input[name=password]").FillAsync(GoodPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = signIn }).ClickAsync();

        // The first factor leads on to the second-factor page.
        await page.WaitForURLAsync(FlowPage("login"));
        await Assertions.Expect(page.GetByLabel(codeLabel, new() { Exact = false })).ToBeVisibleAsync();
        await UiBrowserFixture.ReviewAsync(page, $"mfa-{tag}-03-second-factor");
        await page.GetByLabel(codeLabel, new() { Exact = false }).FillAsync("notacode");
        await page.GetByRole(AriaRole.Button, new() { Name = useCode }).ClickAsync();
        await page.WaitForURLAsync(FlowPage("login"));
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToBeVisibleAsync();
        await UiBrowserFixture.ReviewAsync(page, $"mfa-{tag}-04-second-factor-error");
        await page.GetByLabel(codeLabel, new() { Exact = false }).FillAsync(codes[0]);
        await page.GetByRole(AriaRole.Button, new() { Name = useCode }).ClickAsync();
        await page.WaitForURLAsync(fixture.Server.PublicUrl + "/ui/welcome");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("aal2");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("lookup_secret");
    }

    private Regex FlowPage(string kind) => new("^" + Regex.Escape($"{fixture.Server.PublicUrl}/ui/{kind}?flow=") + "[0-9a-f-]{36}$");
}
