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

    private static async Task<bool> Verified(TestServer s, string identityId) =>
        (await (await s.AdminWithKey.GetAsync($"/admin/identities/{identityId}")).Json(HttpStatusCode.OK))["verifiable_addresses"]![0]!["verified"]!.GetValue<bool>();

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
        var mail = await LastMailData(s, email);
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
        var code = (await LastMailData(s, email))["verification_code"]!.GetValue<string>();
        // The code itself is the proof: taken without the token, as Kratos's verificationUseCode does.
        var done = await (await browser.Client.PostJson(action, new JsonObject { ["method"] = "code", ["code"] = code })).Json(HttpStatusCode.OK);
        Assert.Equal("passed_challenge", done["state"]!.GetValue<string>());
        Assert.True(await Verified(s, identityId));
    }

    /// <summary>
    /// Kratos's updateVerificationFlow (and the code method's wrong-code answer, verificationUseCode) decide by
    /// x.IsBrowserRequest, i.e. by Accept alone: a JSON body posted without an Accept header (or with a bare */*) is sent
    /// 303 to the verification UI — API and browser flows alike — and only an Accept that asks for JSON gets the flow.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_json_submit_without_an_accept_header_is_sent_to_the_verification_ui(string db)
    {
        var s = await Server(fixture, db);
        var (email, _, registered) = await RegisterApi(s);
        var identityId = registered["identity"]!["id"]!.GetValue<string>();

        // A native client: no redirects followed.
        using var native = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = new Uri(s.PublicUrl) };
        var flow = await ApiFlow(native, "verification");
        var action = $"/self-service/verification?flow={flow["id"]}";
        var ui = $"{s.PublicUrl}/ui/verification?flow={flow["id"]}";
        var sent = await native.PostJson(action, new JsonObject { ["method"] = "code", ["email"] = email });
        Assert.Equal(HttpStatusCode.SeeOther, sent.StatusCode);
        Assert.Equal(ui, sent.Headers.Location!.ToString());
        var fetched = await (await s.Public.GetAsync($"/self-service/verification/flows?id={flow["id"]}")).Json(HttpStatusCode.OK);
        Assert.Equal("sent_email", fetched["state"]!.GetValue<string>());
        var code = (await LastMailData(s, email))["verification_code"]!.GetValue<string>();
        var wrong = code == "000000" ? "111111" : "000000";

        var missed = await native.PostJson(action, new JsonObject { ["method"] = "code", ["code"] = wrong });
        Assert.Equal(HttpStatusCode.SeeOther, missed.StatusCode);
        Assert.Equal(ui, missed.Headers.Location!.ToString());
        Assert.Equal([4070006L], MessageIds(await (await s.Public.GetAsync($"/self-service/verification/flows?id={flow["id"]}")).Json(HttpStatusCode.OK)));

        using var anything = new HttpRequestMessage(HttpMethod.Post, action) { Content = System.Net.Http.Json.JsonContent.Create(new JsonObject { ["method"] = "code", ["code"] = wrong }) };
        anything.Headers.Accept.ParseAdd("*/*");
        Assert.Equal(HttpStatusCode.SeeOther, (await native.SendAsync(anything)).StatusCode);

        var done = await (await native.SubmitJson(action, new JsonObject { ["method"] = "code", ["code"] = code })).Json(HttpStatusCode.OK);
        Assert.Equal("passed_challenge", done["state"]!.GetValue<string>());
        Assert.True(await Verified(s, identityId));

        // A browser flow too: an SPA that forgets Accept is answered as a browser.
        using var browser = new Browser(s.PublicUrl, acceptJson: true);
        var browserFlow = await (await browser.Client.GetAsync("/self-service/verification/browser")).Json(HttpStatusCode.OK);
        browser.Client.DefaultRequestHeaders.Accept.Clear();
        var browserSent = await browser.Client.PostJson($"/self-service/verification?flow={browserFlow["id"]}",
            new JsonObject { ["method"] = "code", ["email"] = email, ["csrf_token"] = Csrf(browserFlow) });
        Assert.Equal(HttpStatusCode.SeeOther, browserSent.StatusCode);
        Assert.Equal($"{s.PublicUrl}/ui/verification?flow={browserFlow["id"]}", browserSent.Headers.Location!.ToString());
    }

    /// <summary>
    /// Kratos's code Verify handles choose_method as sent_email (verificationHandleFormSubmission): a code is tried before
    /// any address is looked at, and on a flow that sent none it is simply wrong — the flow as it was (state, form), with
    /// 4070006 and status 200 (HTML browsers: 303 to the UI) — not a missing address (400, 4000002).
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_code_on_a_flow_that_sent_none_is_an_invalid_code_4070006(string db)
    {
        var s = await Server(fixture, db);
        var flow = await ApiFlow(s.Public, "verification");
        var action = $"/self-service/verification?flow={flow["id"]}";
        foreach (var body in new[] { new JsonObject { ["method"] = "code", ["code"] = "123456" }, new JsonObject { ["code"] = "123456" } })
        {
            var refused = await (await s.Public.SubmitJson(action, body)).Json(HttpStatusCode.OK);
            Assert.Equal("choose_method", refused["state"]!.GetValue<string>());
            var message = Assert.Single(refused["ui"]!["messages"]!.AsArray())!;
            Assert.Equal(4070006L, message["id"]!.GetValue<long>());
            Assert.Equal("error", message["type"]!.GetValue<string>());
            Assert.Equal("The verification code is invalid or has already been used. Please try again.", message["text"]!.GetValue<string>());
            Assert.True(JsonNode.DeepEquals(flow["ui"]!["nodes"], refused["ui"]!["nodes"]));
        }

        using var browser = new Browser(s.PublicUrl);
        var form = await browser.PostForm(action, [new("method", "code"), new("code", "123456")]);
        Assert.Equal(HttpStatusCode.SeeOther, form.StatusCode);
        Assert.Equal($"{s.PublicUrl}/ui/verification?flow={flow["id"]}", form.Headers.Location!.ToString());
    }

}
