using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Persistence;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

/// <summary>
/// Kratos's code verification (selfservice/strategy/code/strategy_verification.go): the mail's link
/// (<c>/self-service/verification?flow=&amp;code=</c>) only opens the form with the code filled in (<c>handleLinkClick</c>:
/// the code is not used, the browser gets a new anti-CSRF token the flow keeps, 303 to the UI whatever the flow's type), and
/// a submit carrying the code needs no CSRF token (<c>verificationUseCode</c> runs before <c>EnsureCSRF</c>, which only
/// guards mailing an address).
/// </summary>
public sealed class VerificationCodeLinkTests(FlowServerFixture fixture) : IClassFixture<FlowServerFixture>
{
    private static Task<TestServer> Server(FlowServerFixture f, string db) => f.Get(db, "verification-code-link", o =>
    {
        o.Selfservice.Flows.Verification.Enabled = true;
    });

    private static async Task<JsonObject> LastMail(TestServer s, string to)
    {
        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        var m = await db.CourierMessages.AsNoTracking().Where(x => x.Recipient == to.ToLowerInvariant()).OrderByDescending(x => x.CreatedAt).FirstAsync();
        return JsonNode.Parse(m.TemplateData!)!.AsObject();
    }

    private static async Task<bool> Verified(TestServer s, string identityId) =>
        (await (await s.AdminWithKey.GetAsync($"/admin/identities/{identityId}")).Json(HttpStatusCode.OK))["verifiable_addresses"]![0]!["verified"]!.GetValue<bool>();

    private static string CsrfCookie(Browser browser) =>
        browser.Cookies.GetAllCookies().Single(c => c.Name.StartsWith("csrf_token_", StringComparison.Ordinal)).Value;

    private static string FlowIdOf(Uri location)
    {
        var text = location.ToString();
        return text[(text.IndexOf("flow=", StringComparison.Ordinal) + 5)..];
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Opening_the_mailed_link_fills_in_the_code_without_using_it_and_the_form_then_verifies(string db)
    {
        var s = await Server(fixture, db);
        var (email, _, registered) = await RegisterApi(s);
        var identityId = registered["identity"]!["id"]!.GetValue<string>();
        var mail = await LastMail(s, email);
        var code = mail["verification_code"]!.GetValue<string>();
        var link = new Uri(mail["verification_url"]!.GetValue<string>());
        Assert.Contains("code=" + code, link.Query, StringComparison.Ordinal);

        using var browser = new Browser(s.PublicUrl);
        var opened = await browser.Client.GetAsync(link.PathAndQuery);
        Assert.Equal(HttpStatusCode.SeeOther, opened.StatusCode);
        Assert.StartsWith($"{s.PublicUrl}/ui/verification?flow=", opened.Headers.Location!.ToString(), StringComparison.Ordinal);
        // Opening the link (a mail scanner does too) verifies nothing.
        Assert.False(await Verified(s, identityId));

        // The flow (an API flow: registration was native) is sent to the browser's UI with the code filled in, its
        // "code sent" message kept, and the browser's new anti-CSRF token.
        var flow = await (await browser.Client.GetAsync($"/self-service/verification/flows?id={FlowIdOf(opened.Headers.Location!)}")).Json(HttpStatusCode.OK);
        Assert.Equal("sent_email", flow["state"]!.GetValue<string>());
        Assert.Equal(code, Node(flow, "code")!["attributes"]!["value"]!.GetValue<string>());
        Assert.Equal(CsrfCookie(browser), Csrf(flow));
        Assert.Contains(1080003L, MessageIds(flow));

        // Submitting the form from that browser uses the code: an API flow's code is taken from a browser too.
        var done = await browser.PostForm($"/self-service/verification?flow={flow["id"]}",
            [new("csrf_token", Csrf(flow)), new("method", "code"), new("code", code)]);
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        Assert.True(await Verified(s, identityId));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_code_needs_no_csrf_token_but_mailing_an_address_does(string db)
    {
        var s = await Server(fixture, db);
        var (email, _, registered) = await RegisterApi(s);
        var identityId = registered["identity"]!["id"]!.GetValue<string>();
        using var browser = new Browser(s.PublicUrl, acceptJson: true);
        var flow = await (await browser.Client.GetAsync("/self-service/verification/browser")).Json(HttpStatusCode.OK);
        var action = $"/self-service/verification?flow={flow["id"]}";
        var sentBefore = await MailCount(s, email);

        // Mailing an address is guarded: without the token, 403 and no mail.
        var refused = await (await browser.Client.PostJson(action, new JsonObject { ["method"] = "code", ["email"] = email })).Error(HttpStatusCode.Forbidden);
        Assert.Equal("security_csrf_violation", refused["id"]!.GetValue<string>());
        Assert.Equal(sentBefore, await MailCount(s, email));

        await (await browser.Client.PostJson(action, new JsonObject { ["method"] = "code", ["email"] = email, ["csrf_token"] = Csrf(flow) })).Json(HttpStatusCode.OK);
        var code = (await LastMail(s, email))["verification_code"]!.GetValue<string>();
        // The code itself is the proof: taken without the token, as Kratos's verificationUseCode does.
        var done = await (await browser.Client.PostJson(action, new JsonObject { ["method"] = "code", ["code"] = code })).Json(HttpStatusCode.OK);
        Assert.Equal("passed_challenge", done["state"]!.GetValue<string>());
        Assert.True(await Verified(s, identityId));
    }

    private static async Task<int> MailCount(TestServer s, string to)
    {
        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        return await db.CourierMessages.CountAsync(x => x.Recipient == to.ToLowerInvariant());
    }
}
