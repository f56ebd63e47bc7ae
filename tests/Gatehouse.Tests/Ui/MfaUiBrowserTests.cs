using System.Text.RegularExpressions;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Playwright;
using OtpNet;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.Ui;

/// <summary>
/// The UI tests' server with the authenticator app and recovery codes switched on, a clock the test can move (TOTP
/// windows), and cookies as outside <c>--dev</c> (Secure, which Chromium keeps for http://127.0.0.1).
/// </summary>
public sealed class MfaUiBrowserFixture : UiBrowserFixture
{
    public MfaUiBrowserFixture() : this(new FakeTimeProvider(DateTimeOffset.UtcNow))
    {
    }

    private MfaUiBrowserFixture(FakeTimeProvider clock) : base(o =>
    {
        UiServerFixture.Configure(o);
        o.Cookies.Secure = null;
        o.Selfservice.Methods.Totp.Enabled = true;
        o.Selfservice.Methods.LookupSecret.Enabled = true;
    }, services => services.AddSingleton<TimeProvider>(clock)) => Clock = clock;

    public FakeTimeProvider Clock { get; }
}

/// <summary>
/// The second-factor pages in a real (headless) Chromium, without scripts, each checked with axe-core, in English and on
/// a narrow German screen: settings with the authenticator app (QR image, secret, confirm with a code, unlink) and the
/// recovery codes (generate, shown on the page the form post leads to, confirm, reveal with the used one marked,
/// disable); then sign-ins that step up on the second-factor page with a recovery code and with the app.
/// </summary>
public sealed partial class MfaUiBrowserTests(MfaUiBrowserFixture fixture) : IClassFixture<MfaUiBrowserFixture>
{
    public sealed record Texts(
        string Locale, int Width, string SignUp, string SignIn, string LogOut, string Saved,
        string TotpGroup, string QrLabel, string VerifyCode, string Save, string Unlink,
        string LookupGroup, string Generate, string Confirm, string Reveal, string Disable, string Used,
        string SecondFactorTitle, string LookupLabel, string UseLookup, string TotpLabel, string UseTotp);

    private static readonly Dictionary<string, Texts> Languages = new()
    {
        ["en"] = new("en-US", 1024, "Sign up", "Sign in with password", "Log out", "Your changes have been saved!",
            "Authenticator app", "Authenticator app QR code", "Verify code", "Save", "Unlink TOTP Authenticator App",
            "Backup recovery codes", "Generate new backup recovery codes", "Confirm backup recovery codes", "Reveal backup recovery codes", "Disable this method", "used",
            "Second factor", "Backup recovery code", "Use backup recovery code", "Authentication code", "Use Authenticator"),
        ["de"] = new("de-DE", 390, "Registrieren", "Mit Passwort anmelden", "Abmelden", "Ihre Änderungen wurden gespeichert.",
            "Authenticator-App", "QR-Code für die Authenticator-App", "Code bestätigen", "Speichern", "Authenticator-App entfernen",
            "Wiederherstellungscodes", "Neue Wiederherstellungscodes erzeugen", "Wiederherstellungscodes bestätigen", "Wiederherstellungscodes anzeigen", "Diese Methode deaktivieren", "verwendet",
            "Zweiter Faktor", "Wiederherstellungscode", "Wiederherstellungscode verwenden", "Authentifizierungscode", "Authenticator-App verwenden"),
    };

    [Theory]
    [InlineData("en")]
    [InlineData("de")]
    public async Task Authenticator_app_and_recovery_codes_are_set_up_in_settings_and_step_up_new_sign_ins(string language)
    {
        Assert.SkipUnless(UiBrowserFixture.Available, UiBrowserFixture.SkipReason);
        var t = Languages[language];
        await using var context = await fixture.NewContextAsync(locale: t.Locale, width: t.Width);
        var page = await context.NewPageAsync();
        var email = HttpAssertions.UniqueEmail("ui-mfa");

        // Profile-first registration: the traits, then the password.
        await page.GotoAsync("/ui/registration");
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("registration"));
        await page.GetByLabel("E-Mail").FillAsync(email);
        await page.GetByRole(AriaRole.Button, new() { Name = t.SignUp }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("registration"));
        await page.Locator("input[name=password]").FillAsync(GoodPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = t.SignUp }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, fixture.Server.PublicUrl + "/ui/welcome");
        // The session cookie is Secure (no --dev) and still kept on http://127.0.0.1.
        Assert.Contains(await context.CookiesAsync(), c => c.Name == "ory_kratos_session" && c.Secure);

        // The authenticator app: QR image and secret, confirmed with a code computed from the secret.
        await page.GotoAsync("/ui/settings");
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("settings"));
        await Assertions.Expect(page.Locator("script")).ToHaveCountAsync(0);
        var totp = page.GetByRole(AriaRole.Region, new() { Name = t.TotpGroup });
        await Assertions.Expect(totp.GetByRole(AriaRole.Img, new() { Name = t.QrLabel })).ToBeVisibleAsync();
        Assert.StartsWith("data:image/png;base64,", await totp.GetByRole(AriaRole.Img).GetAttributeAsync("src"), StringComparison.Ordinal);
        var secret = (await totp.Locator("[id$=totp_secret_key] .node-text-value").InnerTextAsync()).Trim();
        Assert.Matches("^[A-Z2-7]{16,}$", secret);
        await UiBrowserFixture.ReviewAsync(page, $"mfa-{language}-01-settings");
        await totp.GetByLabel(t.VerifyCode).FillAsync("000000");
        await totp.GetByRole(AriaRole.Button, new() { Name = t.Save }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("settings"));
        await Assertions.Expect(totp.GetByLabel(t.VerifyCode)).ToHaveAttributeAsync("aria-invalid", "true");
        await UiBrowserFixture.ReviewAsync(page, $"mfa-{language}-02-totp-wrong-code");
        await totp.GetByLabel(t.VerifyCode).FillAsync(TotpCode(secret));
        await totp.GetByRole(AriaRole.Button, new() { Name = t.Save }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("settings"));
        await Assertions.Expect(page.Locator(".flow-messages [role=status]")).ToHaveTextAsync(t.Saved);
        await Assertions.Expect(totp.GetByRole(AriaRole.Button, new() { Name = t.Unlink })).ToBeVisibleAsync();
        await Assertions.Expect(totp.GetByRole(AriaRole.Img)).ToHaveCountAsync(0);

        // Recovery codes: the button alone (no method field) generates them; they are listed on the page it leads to.
        var lookup = page.GetByRole(AriaRole.Region, new() { Name = t.LookupGroup });
        await lookup.GetByRole(AriaRole.Button, new() { Name = t.Generate }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("settings"));
        var codes = await lookup.Locator("ul.node-text-secrets code").AllInnerTextsAsync();
        Assert.Equal(12, codes.Distinct().Count());
        Assert.All(codes, c => Assert.Matches("^[a-z0-9]{8}$", c));
        await UiBrowserFixture.ReviewAsync(page, $"mfa-{language}-03-recovery-codes");
        // A reload shows them again (same browser, same flow) until they are confirmed.
        await page.ReloadAsync();
        Assert.Equal(codes, await lookup.Locator("ul.node-text-secrets code").AllInnerTextsAsync());
        await lookup.GetByRole(AriaRole.Button, new() { Name = t.Confirm }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("settings"));
        await Assertions.Expect(page.Locator(".flow-messages [role=status]")).ToHaveTextAsync(t.Saved);
        await Assertions.Expect(lookup.GetByRole(AriaRole.Button, new() { Name = t.Reveal })).ToBeVisibleAsync();
        await Assertions.Expect(lookup.Locator("ul.node-text-secrets")).ToHaveCountAsync(0);
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "gatehouse_lookup_secret_codes");

        // A new sign-in: the password, then the second-factor page, where a wrong code is refused and a recovery code works.
        await LogOutAndSignInWithPasswordAsync(page, t, email);
        await Assertions.Expect(page).ToHaveTitleAsync(new Regex("^" + Regex.Escape(t.SecondFactorTitle)));
        await Assertions.Expect(page.Locator("input[name=password]")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("script")).ToHaveCountAsync(0);
        await UiBrowserFixture.ReviewAsync(page, $"mfa-{language}-04-second-factor");
        await page.GetByLabel(t.LookupLabel, new() { Exact = false }).FillAsync("notacode");
        await UiBrowserFixture.ClickAndWaitForNextPageAsync(page, page.GetByRole(AriaRole.Button, new() { Name = t.UseLookup }));
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("login"));
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToBeVisibleAsync();
        await UiBrowserFixture.ReviewAsync(page, $"mfa-{language}-05-second-factor-error");
        await page.GetByLabel(t.LookupLabel, new() { Exact = false }).FillAsync(codes[0]);
        await page.GetByRole(AriaRole.Button, new() { Name = t.UseLookup }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, fixture.Server.PublicUrl + "/ui/welcome");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("aal2");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("lookup_secret");

        // Reveal: the used code is marked used, the others hidden; then the codes are disabled.
        await page.GotoAsync("/ui/settings");
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("settings"));
        lookup = page.GetByRole(AriaRole.Region, new() { Name = t.LookupGroup });
        await lookup.GetByRole(AriaRole.Button, new() { Name = t.Reveal }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("settings"));
        await Assertions.Expect(lookup.Locator("li.secret-used")).ToHaveCountAsync(1);
        await Assertions.Expect(lookup.Locator("li.secret-used")).ToContainTextAsync(t.Used);
        await Assertions.Expect(lookup.Locator("ul.node-text-secrets li")).ToHaveCountAsync(12);
        Assert.DoesNotContain(codes[1], await page.ContentAsync(), StringComparison.Ordinal);
        await UiBrowserFixture.ReviewAsync(page, $"mfa-{language}-06-recovery-codes-revealed");
        await lookup.GetByRole(AriaRole.Button, new() { Name = t.Disable }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("settings"));
        await Assertions.Expect(page.Locator(".flow-messages [role=status]")).ToHaveTextAsync(t.Saved);
        await Assertions.Expect(lookup.GetByRole(AriaRole.Button, new() { Name = t.Generate })).ToBeVisibleAsync();

        // Another sign-in steps up with the app, with the code of a later window (the enrolment code is spent).
        fixture.Clock.Advance(TimeSpan.FromSeconds(30));
        await LogOutAndSignInWithPasswordAsync(page, t, email);
        await Assertions.Expect(page.GetByLabel(t.LookupLabel, new() { Exact = false })).ToHaveCountAsync(0);
        await page.GetByLabel(t.TotpLabel, new() { Exact = false }).FillAsync(TotpCode(secret));
        await page.GetByRole(AriaRole.Button, new() { Name = t.UseTotp }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, fixture.Server.PublicUrl + "/ui/welcome");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("aal2");

        // Unlink: the button alone (no method field) removes the app; the enrolment form is back.
        await page.GotoAsync("/ui/settings");
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("settings"));
        totp = page.GetByRole(AriaRole.Region, new() { Name = t.TotpGroup });
        await totp.GetByRole(AriaRole.Button, new() { Name = t.Unlink }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("settings"));
        await Assertions.Expect(page.Locator(".flow-messages [role=status]")).ToHaveTextAsync(t.Saved);
        await Assertions.Expect(totp.GetByRole(AriaRole.Img, new() { Name = t.QrLabel })).ToBeVisibleAsync();
        await UiBrowserFixture.ReviewAsync(page, $"mfa-{language}-07-settings-after-unlink");
        fixture.Clock.Advance(TimeSpan.FromSeconds(30));
    }

    private async Task LogOutAndSignInWithPasswordAsync(IPage page, Texts t, string email)
    {
        await page.GotoAsync("/ui/welcome");
        await page.GetByRole(AriaRole.Link, new() { Name = t.LogOut }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("login"));
        await page.Locator("input[name=identifier]").FillAsync(email);
        await page.Locator("input[name=password]").FillAsync(GoodPassword);
        await UiBrowserFixture.ClickAndWaitForNextPageAsync(page, page.GetByRole(AriaRole.Button, new() { Name = t.SignIn }));
        // The first factor leads on to the second-factor page.
        await UiBrowserFixture.WaitForPageAsync(page, FlowPage("login"));
    }

    private string TotpCode(string secret) => new Totp(Base32Encoding.ToBytes(secret)).ComputeTotp(fixture.Clock.GetUtcNow().UtcDateTime);

    private Regex FlowPage(string kind) => new("^" + Regex.Escape($"{fixture.Server.PublicUrl}/ui/{kind}?flow=") + "[0-9a-f-]{36}$");
}
