using System.Net;
using System.Text.RegularExpressions;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.SelfService;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.Ui;

/// <summary>
/// The built-in pages for recovery codes without JavaScript, in English and German: generate (the codes listed on the
/// page the form post leads to), confirm, reveal (used codes as used), and the second-factor sign-in with a code.
/// </summary>
public sealed partial class LookupPagesTests(LookupServerFixture fixture) : IClassFixture<LookupServerFixture>
{
    [GeneratedRegex("<li><code>([a-z0-9]{8})</code></li>")]
    private static partial Regex ListedCode();

    private static string FlowId(Uri location)
    {
        var s = location.ToString();
        return s[(s.IndexOf("flow=", StringComparison.Ordinal) + 5)..];
    }

    private static async Task<string> Page(Browser browser, Uri location, string language)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, location);
        request.Headers.AcceptLanguage.ParseAdd(language);
        var page = await browser.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains($"<html lang=\"{language}\">", html);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        return html;
    }

    [Theory]
    [InlineData("en", "Backup recovery codes", "Generate new backup recovery codes", "Confirm backup recovery codes", "Reveal backup recovery codes", "used", "Backup recovery code", "Use backup recovery code")]
    [InlineData("de", "Wiederherstellungscodes", "Neue Wiederherstellungscodes erzeugen", "Wiederherstellungscodes bestätigen", "Wiederherstellungscodes anzeigen", "verwendet", "Wiederherstellungscode", "Wiederherstellungscode verwenden")]
    public async Task Generate_confirm_reveal_and_sign_in_with_a_code_without_javascript(
        string language, string group, string generate, string confirm, string reveal, string used, string codeLabel, string useButton)
    {
        var s = await fixture.Get(Db.Sqlite);
        using var browser = new Browser(s.PublicUrl);
        var email = HttpAssertions.UniqueEmail("ui-lookup");
        var reg = await browser.Client.GetAsync("/self-service/registration/browser");
        var regFlow = await (await browser.Client.GetAsync($"/self-service/registration/flows?id={FlowId(reg.Headers.Location!)}")).Json(HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.SeeOther, (await browser.PostForm($"/self-service/registration?flow={regFlow["id"]}",
            [new("csrf_token", Csrf(regFlow)), new("method", "password"), new("traits.email", email), new("password", GoodPassword)])).StatusCode);

        var init = await browser.Client.GetAsync("/self-service/settings/browser");
        var html = await Page(browser, init.Headers.Location!, language);
        Assert.Contains($">{group}</h2>", html);
        Assert.Contains($">{generate}</button>", html);
        var flow = await (await browser.Client.GetAsync($"/self-service/settings/flows?id={FlowId(init.Headers.Location!)}")).Json(HttpStatusCode.OK);
        var posted = await browser.PostForm($"/self-service/settings?flow={flow["id"]}", [new("csrf_token", Csrf(flow)), new("method", "lookup_secret"), new("lookup_secret_regenerate", "true")]);
        Assert.Equal(HttpStatusCode.SeeOther, posted.StatusCode);
        var generated = await Page(browser, posted.Headers.Location!, language);
        var codes = ListedCode().Matches(generated).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(12, codes.Distinct().Count());
        Assert.Contains($">{confirm}</button>", generated);

        var saved = await browser.PostForm($"/self-service/settings?flow={flow["id"]}", [new("csrf_token", Csrf(flow)), new("method", "lookup_secret"), new("lookup_secret_confirm", "true")]);
        Assert.Equal(HttpStatusCode.SeeOther, saved.StatusCode);

        // A new browser signs in with the password, is sent on to the second factor, and uses a code there.
        using var second = new Browser(s.PublicUrl);
        var login = await second.Client.GetAsync("/self-service/login/browser");
        var loginFlow = await (await second.Client.GetAsync($"/self-service/login/flows?id={FlowId(login.Headers.Location!)}")).Json(HttpStatusCode.OK);
        var first = await second.PostForm($"/self-service/login?flow={loginFlow["id"]}",
            [new("csrf_token", Csrf(loginFlow)), new("method", "password"), new("identifier", email), new("password", GoodPassword)]);
        var stepUp = await second.Client.GetAsync(first.Headers.Location);
        Assert.Equal(HttpStatusCode.SeeOther, stepUp.StatusCode);
        var stepUpHtml = await Page(second, stepUp.Headers.Location!, language);
        Assert.Contains($">{codeLabel}", stepUpHtml);
        Assert.Contains($">{useButton}</button>", stepUpHtml);
        Assert.Contains("name=\"lookup_secret\"", stepUpHtml);
        var aal2Flow = await (await second.Client.GetAsync($"/self-service/login/flows?id={FlowId(stepUp.Headers.Location!)}")).Json(HttpStatusCode.OK);
        var wrong = await second.PostForm($"/self-service/login?flow={aal2Flow["id"]}", [new("csrf_token", Csrf(aal2Flow)), new("method", "lookup_secret"), new("lookup_secret", "wrongcode")]);
        Assert.Contains("role=\"alert\"", await Page(second, wrong.Headers.Location!, language));
        var done = await second.PostForm($"/self-service/login?flow={aal2Flow["id"]}", [new("csrf_token", Csrf(aal2Flow)), new("method", "lookup_secret"), new("lookup_secret", codes[0])]);
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        Assert.Equal("aal2", (await (await second.Client.GetAsync("/sessions/whoami")).Json(HttpStatusCode.OK))["authenticator_assurance_level"]!.GetValue<string>());

        // Reveal in settings: the used code is listed as used, the others hidden (only their hashes are kept).
        var settings = await second.Client.GetAsync("/self-service/settings/browser");
        var settingsFlow = await (await second.Client.GetAsync($"/self-service/settings/flows?id={FlowId(settings.Headers.Location!)}")).Json(HttpStatusCode.OK);
        Assert.Contains($">{reveal}</button>", await Page(second, settings.Headers.Location!, language));
        var revealed = await second.PostForm($"/self-service/settings?flow={settingsFlow["id"]}", [new("csrf_token", Csrf(settingsFlow)), new("method", "lookup_secret"), new("lookup_secret_reveal", "true")]);
        var revealedHtml = await Page(second, revealed.Headers.Location!, language);
        Assert.Contains($"<li class=\"secret-used\">{used} <time datetime=", revealedHtml);
        Assert.DoesNotContain(codes[1], revealedHtml, StringComparison.Ordinal);
    }
}
