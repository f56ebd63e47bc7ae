using System.Net;
using System.Text.RegularExpressions;
using Gatehouse.Courier;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Playwright;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.Ui;

/// <summary>The UI tests' server with <c>--dev</c> and the courier worker running, as <c>serve --dev</c> runs it.</summary>
public sealed class DevUiBrowserFixture() : UiBrowserFixture(o =>
{
    UiServerFixture.Configure(o);
    o.Dev = true;
}, services => services.AddCourierWorker());

/// <summary><c>/</c> on the public listener, and the dev mailbox (only with <c>--dev</c>) over plain HTTP.</summary>
public sealed class DevMailboxPageTests
{
    [Fact]
    public async Task The_public_root_redirects_to_the_pages_and_answers_404_without_them()
    {
        await using (var s = await TestServer.StartAsync(Db.Sqlite, UiServerFixture.Configure))
        {
            using var browser = new Browser(s.PublicUrl);
            var root = await browser.Client.GetAsync("/");
            Assert.Equal(HttpStatusCode.SeeOther, root.StatusCode);
            Assert.Equal(s.PublicUrl + "/ui/welcome", root.Headers.Location!.ToString());
            // The admin listener has no page there.
            Assert.Equal(HttpStatusCode.NotFound, (await s.AdminWithKey.GetAsync("/")).StatusCode);
        }
        await using (var s = await TestServer.StartAsync(Db.Sqlite, o => o.Ui.Enabled = false))
        {
            Assert.Equal(HttpStatusCode.NotFound, (await s.Public.GetAsync("/")).StatusCode);
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_mailbox_exists_only_in_dev_and_shows_the_verification_code(string db)
    {
        await using (var s = await TestServer.StartAsync(db, UiServerFixture.Configure))
        {
            Assert.Equal(HttpStatusCode.NotFound, (await s.Public.GetAsync("/ui/dev/mailbox")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await s.Public.GetAsync($"/ui/dev/mailbox/{Guid.NewGuid()}")).StatusCode);
            Assert.IsType<SmtpMessageSender>(s.Services.GetRequiredService<IMessageSender>());
        }
        await using (var s = await TestServer.StartAsync(db, o =>
        {
            UiServerFixture.Configure(o);
            // One-step registration for RegisterApi; verification on, so it mails a code.
            o.Selfservice.Flows.Registration.Style = "unified";
            o.Dev = true;
        }))
        {
            Assert.IsType<DevMailboxSender>(s.Services.GetRequiredService<IMessageSender>());
            var empty = await s.Public.GetStringAsync("/ui/dev/mailbox");
            Assert.Contains("No mail yet", empty, StringComparison.Ordinal);

            var (email, _, _) = await RegisterApi(s);
            using var browser = new Browser(s.PublicUrl);
            var list = await browser.Client.GetAsync("/ui/dev/mailbox");
            Assert.Equal(HttpStatusCode.OK, list.StatusCode);
            var html = await list.Content.ReadAsStringAsync();
            Assert.Contains(email, html, StringComparison.Ordinal);
            var link = Regex.Match(html, "href=\"[^\"]*/ui/dev/mailbox/([0-9a-f-]{36})\"");
            Assert.True(link.Success, html);
            var message = await browser.Client.GetStringAsync("/ui/dev/mailbox/" + link.Groups[1].Value);
            Assert.Matches(@"<pre class=""mail-body""[^>]*>[^<]*\b\d{6}\b", message);
            Assert.Equal(HttpStatusCode.NotFound, (await browser.Client.GetAsync($"/ui/dev/mailbox/{Guid.NewGuid()}")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await browser.Client.GetAsync("/ui/dev/mailbox/not-a-uuid")).StatusCode);

            using var german = new HttpRequestMessage(HttpMethod.Get, "/ui/dev/mailbox");
            german.Headers.AcceptLanguage.ParseAdd("de-DE");
            var de = await (await browser.Client.SendAsync(german)).Content.ReadAsStringAsync();
            Assert.Contains("<html lang=\"de\">", de, StringComparison.Ordinal);
            Assert.Contains("Entwicklungs-Postfach", de, StringComparison.Ordinal);
        }
    }
}

/// <summary>A newcomer with <c>serve --dev</c> and no SMTP server signs up and reads the code in the dev mailbox.</summary>
public sealed class DevMailboxBrowserTests(DevUiBrowserFixture fixture) : IClassFixture<DevUiBrowserFixture>
{
    [Fact]
    public async Task Sign_up_then_read_the_verification_code_in_the_dev_mailbox_in_english_and_german()
    {
        Assert.SkipUnless(UiBrowserFixture.Available, UiBrowserFixture.SkipReason);
        await using var context = await fixture.NewContextAsync();
        var page = await context.NewPageAsync();
        var email = HttpAssertions.UniqueEmail("mailbox");

        await page.GotoAsync("/ui/registration");
        await page.GetByLabel("E-Mail").FillAsync(email);
        await page.GetByLabel("First name").FillAsync("Ada");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign up" }).ClickAsync();
        await page.GetByLabel("Password").FillAsync(GoodPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign up" }).ClickAsync();
        await UiBrowserFixture.WaitForPageAsync(page, fixture.Server.PublicUrl + "/ui/welcome");

        await page.GotoAsync("/ui/dev/mailbox");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Dev mailbox");
        var item = page.Locator(".mailbox li", new() { HasText = email });
        await Assertions.Expect(item).ToHaveCountAsync(1);
        // The worker delivers it to the mailbox (no SMTP server anywhere).
        for (var i = 0; i < 100 && !await item.GetByText("delivered").IsVisibleAsync(); i++)
        {
            await page.WaitForTimeoutAsync(100);
            await page.ReloadAsync();
        }
        await Assertions.Expect(item.GetByText("delivered")).ToBeVisibleAsync();
        await UiBrowserFixture.ReviewAsync(page, "20-dev-mailbox");

        await item.GetByRole(AriaRole.Link).ClickAsync();
        await Assertions.Expect(page.Locator(".details")).ToContainTextAsync(email);
        await Assertions.Expect(page.Locator("pre.mail-body")).ToHaveTextAsync(new Regex(@"\b\d{6}\b"));
        await UiBrowserFixture.ReviewAsync(page, "21-dev-mailbox-message");
        await page.GetByRole(AriaRole.Link, new() { Name = "Back to the mailbox" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Dev mailbox");

        await using var germanContext = await fixture.NewContextAsync(locale: "de-DE");
        var german = await germanContext.NewPageAsync();
        await german.GotoAsync("/ui/dev/mailbox");
        await Assertions.Expect(german.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Entwicklungs-Postfach");
        await Assertions.Expect(german.Locator(".mailbox li", new() { HasText = email })).ToContainTextAsync("zugestellt");
        await UiBrowserFixture.ReviewAsync(german, "22-dev-mailbox-de");
    }
}
