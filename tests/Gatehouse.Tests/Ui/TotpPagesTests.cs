using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.SelfService;
using OtpNet;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.Ui;

/// <summary>
/// The built-in pages for TOTP without JavaScript, in English and German: the enrolment form (QR image, secret, code
/// field) in settings, the unlink button, and the second-factor (aal2) sign-in page a password login leads to.
/// </summary>
public sealed class TotpPagesTests(TotpServerFixture fixture) : IClassFixture<TotpServerFixture>
{
    private static string FlowId(Uri location)
    {
        var s = location.ToString();
        return s[(s.IndexOf("flow=", StringComparison.Ordinal) + 5)..];
    }

    private static async Task<(HttpResponseMessage Page, string Html)> Page(Browser browser, Uri location, string language)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, location);
        request.Headers.AcceptLanguage.ParseAdd(language);
        var page = await browser.Client.SendAsync(request);
        return (page, await page.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("en", "Authenticator app", "Authenticator app QR code", "Verify code", "Unlink TOTP Authenticator App", "Second factor", "Authentication code", "Use Authenticator")]
    [InlineData("de", "Authenticator-App", "QR-Code für die Authenticator-App", "Code bestätigen", "Authenticator-App entfernen", "Zweiter Faktor", "Authentifizierungscode", "Authenticator-App verwenden")]
    public async Task Enrolment_and_the_second_factor_page_render_without_javascript(
        string language, string group, string qrLabel, string codeLabel, string unlink, string aal2Title, string loginCodeLabel, string useButton)
    {
        var s = await fixture.Get(Db.Sqlite);
        var clock = fixture.Clock;
        using var browser = new Browser(s.PublicUrl);
        var email = HttpAssertions.UniqueEmail("ui-totp");
        var reg = await browser.Client.GetAsync("/self-service/registration/browser");
        var regFlow = await (await browser.Client.GetAsync($"/self-service/registration/flows?id={FlowId(reg.Headers.Location!)}")).Json(HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.SeeOther, (await browser.PostForm($"/self-service/registration?flow={regFlow["id"]}",
            [new("csrf_token", Csrf(regFlow)), new("method", "password"), new("traits.email", email), new("password", GoodPassword)])).StatusCode);

        var init = await browser.Client.GetAsync("/self-service/settings/browser");
        Assert.Equal(HttpStatusCode.SeeOther, init.StatusCode);
        var (page, html) = await Page(browser, init.Headers.Location!, language);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains($"<html lang=\"{language}\">", html);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($">{group}</h2>", html);
        Assert.Contains("<img src=\"data:image/png;base64,", html);
        Assert.Contains($"alt=\"{qrLabel}\"", html);
        var flow = await (await browser.Client.GetAsync($"/self-service/settings/flows?id={FlowId(init.Headers.Location!)}")).Json(HttpStatusCode.OK);
        var secret = flow["ui"]!["nodes"]!.AsArray().Single(n => n!["attributes"]!["id"]?.GetValue<string>() == "totp_secret_key")!["attributes"]!["text"]!["text"]!.GetValue<string>();
        Assert.Contains(secret, html);
        Assert.Contains($">{codeLabel}", html);
        Assert.Contains("name=\"totp_code\"", html);

        var code = new Totp(Base32Encoding.ToBytes(secret)).ComputeTotp(clock.GetUtcNow().UtcDateTime);
        var saved = await browser.PostForm($"/self-service/settings?flow={flow["id"]}", [new("csrf_token", Csrf(flow)), new("method", "totp"), new("totp_code", code)]);
        Assert.Equal(HttpStatusCode.SeeOther, saved.StatusCode);
        var (_, after) = await Page(browser, saved.Headers.Location!, language);
        Assert.Contains($">{unlink}</button>", after);
        Assert.Contains("name=\"totp_unlink\"", after);
        clock.Advance(TimeSpan.FromSeconds(30));

        // A new browser signs in with the password and is sent on to the second factor.
        using var second = new Browser(s.PublicUrl);
        var login = await second.Client.GetAsync("/self-service/login/browser");
        var loginFlow = await (await second.Client.GetAsync($"/self-service/login/flows?id={FlowId(login.Headers.Location!)}")).Json(HttpStatusCode.OK);
        var first = await second.PostForm($"/self-service/login?flow={loginFlow["id"]}",
            [new("csrf_token", Csrf(loginFlow)), new("method", "password"), new("identifier", email), new("password", GoodPassword)]);
        Assert.Equal(HttpStatusCode.SeeOther, first.StatusCode);
        var stepUp = await second.Client.GetAsync(first.Headers.Location);
        Assert.Equal(HttpStatusCode.SeeOther, stepUp.StatusCode);
        var (stepUpPage, stepUpHtml) = await Page(second, stepUp.Headers.Location!, language);
        Assert.Equal(HttpStatusCode.OK, stepUpPage.StatusCode);
        Assert.Contains($"<title>{aal2Title}", stepUpHtml);
        Assert.Contains($">{loginCodeLabel}", stepUpHtml);
        Assert.Contains($">{useButton}</button>", stepUpHtml);
        Assert.DoesNotContain("name=\"password\"", stepUpHtml);
        Assert.DoesNotContain("<script", stepUpHtml, StringComparison.OrdinalIgnoreCase);

        var aal2Flow = await (await second.Client.GetAsync($"/self-service/login/flows?id={FlowId(stepUp.Headers.Location!)}")).Json(HttpStatusCode.OK);
        var wrong = await second.PostForm($"/self-service/login?flow={aal2Flow["id"]}", [new("csrf_token", Csrf(aal2Flow)), new("method", "totp"), new("totp_code", "000000")]);
        Assert.Equal(HttpStatusCode.SeeOther, wrong.StatusCode);
        var (_, wrongHtml) = await Page(second, wrong.Headers.Location!, language);
        Assert.Contains("role=\"alert\"", wrongHtml);
        var next = new Totp(Base32Encoding.ToBytes(secret)).ComputeTotp(clock.GetUtcNow().UtcDateTime);
        var done = await second.PostForm($"/self-service/login?flow={aal2Flow["id"]}", [new("csrf_token", Csrf(aal2Flow)), new("method", "totp"), new("totp_code", next)]);
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        Assert.Equal("aal2", (await (await second.Client.GetAsync("/sessions/whoami")).Json(HttpStatusCode.OK))["authenticator_assurance_level"]!.GetValue<string>());
        clock.Advance(TimeSpan.FromSeconds(30));
    }
}
