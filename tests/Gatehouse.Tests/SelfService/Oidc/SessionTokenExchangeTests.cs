using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace Gatehouse.Tests.SelfService.Oidc;

/// <summary>
/// Kratos's session token exchange: an app makes an API flow with <c>return_session_token_exchange_code=true</c>, a
/// browser (without the app's cookies) finishes the social sign-in and lands on <c>return_to?code=</c>, and the app trades
/// the two codes for the session token at <c>GET /sessions/token-exchange</c> — once, and only with both codes.
/// </summary>
public sealed class SessionTokenExchangeTests(OidcServerFixture fixture) : IClassFixture<OidcServerFixture>
{
    private const string ReturnTo = "http://app.example.com/native-callback";

    /// <summary>The app's flow, the browser's round trip; returns the init code and where the browser ended.</summary>
    private async Task<(string InitCode, Uri Landed)> SignInThroughBrowser(TestServer s, string subject)
    {
        var idp = await fixture.Idp();
        var flow = await (await s.Public.GetAsync($"/self-service/login/api?return_session_token_exchange_code=true&return_to={Uri.EscapeDataString(ReturnTo)}")).Json(HttpStatusCode.OK);
        var initCode = (string)flow["session_token_exchange_code"]!;
        Assert.True(initCode.Length > 40);
        var submit = await s.Public.PostJson($"/self-service/login?flow={flow["id"]}", new JsonObject { ["method"] = "oidc", ["provider"] = "test-idp" });
        var to = new Uri((string)(await submit.Json((HttpStatusCode)422))["redirect_browser_to"]!);
        Assert.DoesNotContain(submit.Headers, h => h.Key == "Set-Cookie");

        using var browser = new Browser(s.PublicUrl); // the system browser: none of the app's cookies
        var q = QueryHelpers.ParseQuery(to.Query);
        var code = idp.AddCode(new TestOpenIdProvider.Grant(idp.Claims(subject, fixture.Clock.GetUtcNow(), q["nonce"].ToString()), q["code_challenge"].ToString(), q["redirect_uri"].ToString()));
        var back = await browser.Client.GetAsync($"/self-service/methods/oidc/callback/test-idp?state={Uri.EscapeDataString(q["state"].ToString())}&code={code}");
        Assert.Equal(HttpStatusCode.SeeOther, back.StatusCode);
        Assert.Null(browser.Cookie("ory_kratos_session"));
        return (initCode, back.Headers.Location!);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_app_gets_the_session_token_once_for_both_codes_after_sign_up_and_sign_in(string provider)
    {
        var s = await fixture.Get(provider);
        var subject = "sub-" + Guid.NewGuid().ToString("N")[..10];
        string? identityId = null;
        // First a sign-up (the login flow turns into a registration, which carries the exchange), then a sign-in.
        for (var round = 0; round < 2; round++)
        {
            var (initCode, landed) = await SignInThroughBrowser(s, subject);
            Assert.StartsWith(ReturnTo + "?code=", landed.ToString(), StringComparison.Ordinal);
            var returnToCode = QueryHelpers.ParseQuery(landed.Query)["code"].ToString();

            var missing = await s.Public.GetAsync($"/sessions/token-exchange?init_code={initCode}");
            Assert.Equal("\"init_code\" and \"return_to_code\" query params must be set", (string?)(await missing.Error(HttpStatusCode.BadRequest))["reason"]);
            var wrong = await s.Public.GetAsync($"/sessions/token-exchange?init_code={initCode}&return_to_code=nope");
            Assert.Equal(HttpStatusCode.NotFound, wrong.StatusCode);

            var exchanged = await (await s.Public.GetAsync($"/sessions/token-exchange?init_code={initCode}&return_to_code={returnToCode}")).Json(HttpStatusCode.OK);
            var token = (string)exchanged["session_token"]!;
            Assert.StartsWith("ory_st_", token, StringComparison.Ordinal);
            identityId ??= (string)exchanged["session"]!["identity"]!["id"]!;
            Assert.Equal(identityId, (string?)exchanged["session"]!["identity"]!["id"]);

            using var whoami = new HttpRequestMessage(HttpMethod.Get, "/sessions/whoami");
            whoami.Headers.Add("X-Session-Token", token);
            Assert.Equal(identityId, (string?)(await (await s.Public.SendAsync(whoami)).Json(HttpStatusCode.OK))["identity"]!["id"]);

            var again = await s.Public.GetAsync($"/sessions/token-exchange?init_code={initCode}&return_to_code={returnToCode}");
            Assert.Equal("no session yet for this \"code\"", (string?)(await again.Error(HttpStatusCode.NotFound))["reason"]);
        }
    }

    /// <summary>The app's API flow with an exchange code, submitted for the provider: the flow and the upstream request.</summary>
    private static async Task<(JsonNode Flow, string InitCode, Dictionary<string, Microsoft.Extensions.Primitives.StringValues> Upstream)> AppFlow(TestServer s, string kind)
    {
        var flow = await (await s.Public.GetAsync($"/self-service/{kind}/api?return_session_token_exchange_code=true&return_to={Uri.EscapeDataString(ReturnTo)}")).Json(HttpStatusCode.OK);
        var submit = await s.Public.PostJson($"/self-service/{kind}?flow={flow["id"]}", new JsonObject { ["method"] = "oidc", ["provider"] = "test-idp" });
        var to = new Uri((string)(await submit.Json((HttpStatusCode)422))["redirect_browser_to"]!);
        return (flow, (string)flow["session_token_exchange_code"]!, QueryHelpers.ParseQuery(to.Query));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_refusal_upstream_sends_the_apps_browser_back_to_return_to_without_a_code(string provider)
    {
        // Kratos's login and registration error handlers: an API flow with an exchange code that fails in the oidc group
        // redirects (303) to the flow's return_to, so the app gets its browser back; the reason is on the app's flow.
        var s = await fixture.Get(provider);
        foreach (var kind in new[] { "login", "registration" })
        {
            var (flow, initCode, q) = await AppFlow(s, kind);
            using var browser = new Browser(s.PublicUrl);
            var back = await browser.Client.GetAsync($"/self-service/methods/oidc/callback/test-idp?state={Uri.EscapeDataString(q["state"].ToString())}&error=access_denied&error_description=denied");
            Assert.Equal(HttpStatusCode.SeeOther, back.StatusCode);
            Assert.Equal(ReturnTo, back.Headers.Location!.ToString());

            var after = await (await s.Public.GetAsync($"/self-service/{kind}/flows?id={flow["id"]}")).Json(HttpStatusCode.OK);
            var message = after["ui"]!["messages"]![0]!;
            Assert.Equal(4000001, (long)message["id"]!);
            Assert.Equal("Unable to complete OpenID Connect flow because the OpenID Provider returned error \"access_denied\": denied", (string?)message["text"]);
            var exchange = await s.Public.GetAsync($"/sessions/token-exchange?init_code={initCode}&return_to_code=x");
            Assert.Equal(HttpStatusCode.NotFound, exchange.StatusCode);
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_colliding_sign_up_sends_the_apps_browser_back_with_the_account_linking_login_flow(string provider)
    {
        // Kratos's oidc HandleError for an API flow: the account linking login flow goes to the app's return_to
        // (?flow=<id>&no_org_ui=true), not to the login UI, which cannot submit an API flow.
        var s = await fixture.Get(provider);
        var idp = await fixture.Idp();
        var (email, _, _) = await FlowTestHelpers.RegisterApi(s);
        var (_, _, q) = await AppFlow(s, "registration");
        using var browser = new Browser(s.PublicUrl);
        var code = idp.AddCode(new TestOpenIdProvider.Grant(idp.Claims("sub-" + Guid.NewGuid().ToString("N")[..10], fixture.Clock.GetUtcNow(), q["nonce"].ToString(), email), q["code_challenge"].ToString(), q["redirect_uri"].ToString()));
        var back = await browser.Client.GetAsync($"/self-service/methods/oidc/callback/test-idp?state={Uri.EscapeDataString(q["state"].ToString())}&code={code}");
        Assert.Equal(HttpStatusCode.SeeOther, back.StatusCode);
        var landed = back.Headers.Location!;
        Assert.StartsWith(ReturnTo + "?flow=", landed.ToString(), StringComparison.Ordinal);
        var query = QueryHelpers.ParseQuery(landed.Query);
        Assert.Equal("true", query["no_org_ui"].ToString());
        var login = await (await s.Public.GetAsync($"/self-service/login/flows?id={query["flow"]}")).Json(HttpStatusCode.OK);
        Assert.Equal("api", (string?)login["type"]);
        Assert.Equal(1010016, (long)login["ui"]!["messages"]![0]!["id"]!);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_flow_without_an_exchange_code_keeps_the_continuity_cookie_check(string provider)
    {
        var s = await fixture.Get(provider);
        var flow = await (await s.Public.GetAsync("/self-service/login/api")).Json(HttpStatusCode.OK);
        Assert.Null(flow["session_token_exchange_code"]);
        var submit = await s.Public.PostJson($"/self-service/login?flow={flow["id"]}", new JsonObject { ["method"] = "oidc", ["provider"] = "test-idp" });
        var q = QueryHelpers.ParseQuery(new Uri((string)(await submit.Json((HttpStatusCode)422))["redirect_browser_to"]!).Query);
        using var browser = new Browser(s.PublicUrl, acceptJson: true);
        var back = await browser.Client.GetAsync($"/self-service/methods/oidc/callback/test-idp?state={Uri.EscapeDataString(q["state"].ToString())}&code=x");
        Assert.Contains("session cookie", (string?)(await back.Error(HttpStatusCode.BadRequest))["reason"], StringComparison.Ordinal);
    }
}
