using System.Net;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace Gatehouse.Tests.OAuth2;

/// <summary>The built-in user-code page (<c>/ui/device</c>) and "device done" page, driven as a browser without JavaScript drives them.</summary>
public sealed class BuiltInDevicePageTests(Gatehouse.Tests.SelfService.FlowServerFixture servers) : IClassFixture<Gatehouse.Tests.SelfService.FlowServerFixture>
{
    private const string GrantType = "urn:ietf:params:oauth:grant-type:device_code";

    private static async Task<Uri> RedirectAsync(Gatehouse.Tests.Infrastructure.Browser b, string url)
    {
        var res = await b.Client.GetAsync(url);
        Assert.True(res.StatusCode is HttpStatusCode.Found or HttpStatusCode.SeeOther, $"expected a redirect from {url}, got {(int)res.StatusCode}: {await res.Content.ReadAsStringAsync()}");
        return res.Headers.Location!;
    }

    private static string HiddenValue(string html, string name)
    {
        var at = html.IndexOf($"name=\"{name}\" value=\"", StringComparison.Ordinal);
        Assert.True(at >= 0, $"no hidden {name} in the page");
        var start = at + $"name=\"{name}\" value=\"".Length;
        return WebUtility.HtmlDecode(html[start..html.IndexOf('"', start)]);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_user_code_page_takes_the_code_and_leads_to_login_consent_and_the_done_page(string db)
    {
        var s = await servers.Get(db);
        var (email, _, _) = await Gatehouse.Tests.SelfService.FlowTestHelpers.RegisterApi(s);
        var c = await (await s.AdminWithKey.PostJson("/admin/clients",
            $$"""{"client_name":"Kitchen <Radio>","grant_types":["{{GrantType}}"],"scope":"openid email","token_endpoint_auth_method":"none"}""")).Json(HttpStatusCode.Created);
        var id = c["client_id"]!.GetValue<string>();
        var auth = await (await s.Public.PostAsync("/oauth2/device/auth", new FormUrlEncodedContent([new("client_id", id), new("scope", "openid email")]))).Json(HttpStatusCode.OK);
        var userCode = auth["user_code"]!.GetValue<string>();
        using var b = new Gatehouse.Tests.Infrastructure.Browser(s.PublicUrl);

        // Opening the page directly starts at the verification endpoint, which makes the challenge.
        Assert.Equal(s.PublicUrl + "/oauth2/device/verify?user_code=" + userCode, (await RedirectAsync(b, "/ui/device?user_code=" + userCode)).ToString());
        var toPage = await RedirectAsync(b, "/oauth2/device/verify?user_code=" + userCode);
        Assert.StartsWith(s.PublicUrl + "/ui/device?device_challenge=", toPage.ToString());
        Assert.NotNull(b.Cookie("ory_hydra_device_csrf"));
        var html = await b.Client.GetStringAsync(toPage);
        Assert.Contains("Enter the code shown on your device.", html);
        Assert.Contains($"value=\"{userCode}\"", html);
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
        var germanRequest = new HttpRequestMessage(HttpMethod.Get, toPage);
        germanRequest.Headers.AcceptLanguage.ParseAdd("de-DE");
        Assert.Contains("Geben Sie den Code ein, den Ihr Gerät anzeigt.", await (await b.Client.SendAsync(germanRequest)).Content.ReadAsStringAsync());

        var challenge = HiddenValue(html, "device_challenge");
        var csrf = HiddenValue(html, "csrf_token");
        // A forged form changes nothing; a wrong code is said on the page.
        var forged = await b.PostForm("/ui/device", [new("csrf_token", "forged"), new("device_challenge", challenge), new("user_code", userCode)]);
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        var wrong = await b.PostForm("/ui/device", [new("csrf_token", csrf), new("device_challenge", challenge), new("user_code", "nope")]);
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Contains("This code is not valid or has expired.", await wrong.Content.ReadAsStringAsync());

        // Spaces are ignored; the right code goes on to the login.
        var spaced = userCode[..4] + " " + userCode[4..];
        var accepted = await b.PostForm("/ui/device", [new("csrf_token", csrf), new("device_challenge", challenge), new("user_code", spaced)]);
        Assert.Equal(HttpStatusCode.SeeOther, accepted.StatusCode);
        var toLogin = await RedirectAsync(b, accepted.Headers.Location!.ToString());
        Assert.StartsWith(s.PublicUrl + "/self-service/login/browser?login_challenge=", toLogin.ToString());
        var loginPage = await RedirectAsync(b, toLogin.ToString());
        var flowId = QueryHelpers.ParseQuery(loginPage.Query)["flow"].ToString();
        var flowRequest = new HttpRequestMessage(HttpMethod.Get, $"/self-service/login/flows?id={flowId}");
        flowRequest.Headers.Accept.ParseAdd("application/json");
        var flow = await (await b.Client.SendAsync(flowRequest)).Json(HttpStatusCode.OK);
        var signedIn = await b.PostForm(flow["ui"]!["action"]!.GetValue<string>(),
            [new("csrf_token", Gatehouse.Tests.SelfService.FlowTestHelpers.Csrf(flow.AsObject())), new("method", "password"), new("identifier", email), new("password", Gatehouse.Tests.SelfService.FlowTestHelpers.GoodPassword)]);
        Assert.Equal(HttpStatusCode.SeeOther, signedIn.StatusCode);
        Assert.StartsWith(s.PublicUrl + "/oauth2/device/verify?", signedIn.Headers.Location!.ToString());
        var toConsent = await RedirectAsync(b, signedIn.Headers.Location!.ToString());
        Assert.StartsWith(s.PublicUrl + "/ui/consent?consent_challenge=", toConsent.ToString());
        var consentHtml = await b.Client.GetStringAsync(toConsent);
        Assert.Contains("Kitchen &lt;Radio&gt;", consentHtml);
        var consented = await b.PostForm("/ui/consent", [new("csrf_token", HiddenValue(consentHtml, "csrf_token")), new("consent_challenge", HiddenValue(consentHtml, "consent_challenge")),
            new("grant_scope", "openid"), new("grant_scope", "email"), new("action", "accept")]);
        var toDone = await RedirectAsync(b, consented.Headers.Location!.ToString());
        Assert.Equal(s.PublicUrl + "/ui/device/done?client_id=" + Uri.EscapeDataString(id), toDone.ToString());
        var done = await b.Client.GetStringAsync(toDone);
        Assert.Contains("<strong>Kitchen &lt;Radio&gt;</strong> is now connected to your account.", done);

        var tokens = await (await s.Public.PostAsync("/oauth2/token", new FormUrlEncodedContent([new("grant_type", GrantType), new("client_id", id), new("device_code", auth["device_code"]!.GetValue<string>())]))).Json(HttpStatusCode.OK);
        Assert.Equal("openid email", tokens["scope"]!.GetValue<string>());
        var idToken = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(tokens["id_token"]!.GetValue<string>());
        Assert.Equal(email, idToken.GetClaim("email").Value);
    }
}
