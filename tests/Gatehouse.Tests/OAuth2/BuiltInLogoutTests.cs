using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.SelfService;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.Tokens;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.OAuth2;

/// <summary>
/// Logout with the built-in pages (no <c>urls.logout</c>): <c>/oauth2/sessions/logout</c> leads to <c>/ui/logout</c>, which
/// asks, accepts or rejects the logout request, and — Kratos and Hydra as one — ends the browser's Kratos session too.
/// </summary>
public sealed class BuiltInLogoutTests(FlowServerFixture servers) : IClassFixture<FlowServerFixture>
{
    private const string RedirectUri = "https://app.example/callback";
    private const string LoggedOut = "https://app.example/logged-out";

    private static Dictionary<string, string> Query(Uri u) => QueryHelpers.ParseQuery(u.Query).ToDictionary(kv => kv.Key, kv => kv.Value.ToString());

    private static async Task<Uri> RedirectAsync(Browser b, string url)
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

    /// <summary>Through the built-in login (password) and consent (skipped: a first-party client) to the ID token.</summary>
    private static async Task<string> SignInAsync(TestServer s, Browser b, (string Id, string Secret) client, string email)
    {
        var verifier = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        var challenge = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var toLogin = await RedirectAsync(b, $"/oauth2/auth?response_type=code&client_id={client.Id}&redirect_uri={Uri.EscapeDataString(RedirectUri)}&scope=openid&state=state-123456&code_challenge={challenge}&code_challenge_method=S256");
        var toPage = await RedirectAsync(b, toLogin.ToString());
        var req = new HttpRequestMessage(HttpMethod.Get, $"/self-service/login/flows?id={Query(toPage)["flow"]}");
        req.Headers.Accept.ParseAdd("application/json");
        var flow = (await (await b.Client.SendAsync(req)).Json(HttpStatusCode.OK)).AsObject();
        var submitted = await b.PostForm(flow["ui"]!["action"]!.GetValue<string>(),
            [new("csrf_token", Csrf(flow)), new("method", "password"), new("identifier", email), new("password", GoodPassword)]);
        var next = submitted.Headers.Location!;
        for (var i = 0; i < 6 && !next.ToString().StartsWith(RedirectUri, StringComparison.Ordinal); i++) next = await RedirectAsync(b, next.ToString());
        var token = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", "authorization_code"), new("code", Query(next)["code"]), new("redirect_uri", RedirectUri), new("code_verifier", verifier)]),
        };
        token.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{client.Id}:{client.Secret}")));
        return (await (await s.Public.SendAsync(token)).Json(HttpStatusCode.OK))["id_token"]!.GetValue<string>();
    }

    private static async Task<(string Id, string Secret)> CreateClientAsync(TestServer s, string extra = "")
    {
        var c = await (await s.AdminWithKey.PostJson("/admin/clients",
            $$"""{"client_name":"Photo <App>","redirect_uris":["{{RedirectUri}}"],"post_logout_redirect_uris":["{{LoggedOut}}"],"scope":"openid","skip_consent":true{{extra}}}""")).Json(HttpStatusCode.Created);
        return (c["client_id"]!.GetValue<string>(), c["client_secret"]!.GetValue<string>());
    }

    private static string LogoutUrl(string idToken) =>
        $"/oauth2/sessions/logout?id_token_hint={Uri.EscapeDataString(idToken)}&post_logout_redirect_uri={Uri.EscapeDataString(LoggedOut)}&state=bye-123456";

    private static async Task<HttpStatusCode> WhoamiAsync(Browser b) => (await b.Client.GetAsync("/sessions/whoami")).StatusCode;

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_built_in_logout_page_asks_then_ends_the_oauth2_login_and_the_kratos_session(string db)
    {
        var s = await servers.Get(db);
        var (email, _, _) = await RegisterApi(s);
        var client = await CreateClientAsync(s);
        using var b = new Browser(s.PublicUrl);
        var idToken = await SignInAsync(s, b, client, email);
        Assert.Equal(HttpStatusCode.OK, await WhoamiAsync(b));

        var toPage = await RedirectAsync(b, LogoutUrl(idToken));
        Assert.StartsWith(s.PublicUrl + "/ui/logout?logout_challenge=", toPage.ToString());
        var page = await b.Client.GetAsync(toPage);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<strong>Photo &lt;App&gt;</strong> asks to log you out.", html);
        Assert.Contains(">Yes, log me out</button>", html);
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
        Assert.Contains("form-action 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Contains("https://app.example", page.Headers.GetValues("Content-Security-Policy").Single());
        var challenge = Query(toPage)["logout_challenge"];

        // A forged form changes nothing.
        var forged = await b.PostForm("/ui/logout", [new("csrf_token", "forged"), new("logout_challenge", challenge), new("action", "accept")]);
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.Equal(HttpStatusCode.OK, await WhoamiAsync(b));

        var accepted = await b.PostForm("/ui/logout", [new("csrf_token", HiddenValue(html, "csrf_token")), new("logout_challenge", challenge), new("action", "accept")]);
        Assert.Equal(HttpStatusCode.SeeOther, accepted.StatusCode);
        Assert.StartsWith(s.PublicUrl + "/oauth2/sessions/logout?logout_verifier=", accepted.Headers.Location!.ToString());
        Assert.Equal($"{LoggedOut}?state=bye-123456", (await RedirectAsync(b, accepted.Headers.Location!.ToString())).ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, await WhoamiAsync(b));
        Assert.DoesNotContain(b.Cookies.GetAllCookies(), c => c.Name == "ory_hydra_session");

        // The page again (back button): the request was handled, so the logout starts over, and that finds nothing to end.
        Assert.Equal(s.PublicUrl + new Uri(s.PublicUrl + (await (await s.AdminWithKey.GetAsync($"/admin/oauth2/auth/requests/logout?logout_challenge={Uri.EscapeDataString(challenge)}")).Json(HttpStatusCode.Gone))["redirect_to"]!.GetValue<string>()).PathAndQuery,
            (await RedirectAsync(b, toPage.ToString())).ToString());
        // An unknown challenge is an error page.
        Assert.Equal(HttpStatusCode.NotFound, (await b.Client.GetAsync("/ui/logout?logout_challenge=unknown")).StatusCode);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task No_keeps_both_sessions_and_skip_logout_consent_logs_out_without_asking(string db)
    {
        var s = await servers.Get(db);
        var (email, _, _) = await RegisterApi(s);
        var client = await CreateClientAsync(s);
        using var b = new Browser(s.PublicUrl);
        var idToken = await SignInAsync(s, b, client, email);

        var toPage = await RedirectAsync(b, LogoutUrl(idToken));
        var html = await (await b.Client.GetAsync(toPage)).Content.ReadAsStringAsync();
        var challenge = Query(toPage)["logout_challenge"];
        var rejected = await b.PostForm("/ui/logout", [new("csrf_token", HiddenValue(html, "csrf_token")), new("logout_challenge", challenge), new("action", "reject")]);
        Assert.Equal(HttpStatusCode.SeeOther, rejected.StatusCode);
        // No: on to Kratos's default return URL, still signed in.
        Assert.Equal(new Gatehouse.Http.ReturnUrlPolicy(s.Options).DefaultReturnUrl, rejected.Headers.Location!.ToString());
        Assert.Equal(HttpStatusCode.OK, await WhoamiAsync(b));
        await (await s.AdminWithKey.GetAsync($"/admin/oauth2/auth/requests/logout?logout_challenge={Uri.EscapeDataString(challenge)}")).OAuth2Error(HttpStatusCode.NotFound);

        // A first-party client that skips the question (another browser): straight through to the client, both sessions ended.
        var firstParty = await CreateClientAsync(s, ""","skip_logout_consent":true""");
        using var b2 = new Browser(s.PublicUrl);
        var idToken2 = await SignInAsync(s, b2, firstParty, email);
        var toPage2 = await RedirectAsync(b2, LogoutUrl(idToken2));
        var onwards = await RedirectAsync(b2, toPage2.ToString());
        Assert.StartsWith(s.PublicUrl + "/oauth2/sessions/logout?logout_verifier=", onwards.ToString());
        Assert.Equal($"{LoggedOut}?state=bye-123456", (await RedirectAsync(b2, onwards.ToString())).ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, await WhoamiAsync(b2));
        Assert.Equal(HttpStatusCode.OK, await WhoamiAsync(b));
    }
}
