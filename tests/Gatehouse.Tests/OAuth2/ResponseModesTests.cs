using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gatehouse.OAuth2.Flows;
using Gatehouse.OAuth2.Keys;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Tests.OAuth2;

/// <summary>
/// The response modes of <c>/oauth2/auth</c> (<c>query</c>, <c>fragment</c>, <c>form_post</c>) for answers and errors, as
/// fosite's <c>WriteAuthorizeResponse</c> and <c>WriteAuthorizeError</c> write them, on both databases.
/// </summary>
public sealed partial class ResponseModesTests
{
    private const string LoginUrl = "https://login.example/login";
    private const string ConsentUrl = "https://login.example/consent";
    private const string RedirectUri = "https://app.example/callback";

    internal static Task<TestServer> StartAsync(string db) =>
        TestServer.StartAsync(db, o =>
        {
            o.Urls.Login = LoginUrl;
            o.Urls.Consent = ConsentUrl;
        }, services => services.AddSingleton(new KeyGeneration { RsaBits = 2048 }));

    internal static HttpClient Browser(TestServer s) => new(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(s.PublicUrl) };

    internal static async Task<(string Id, string Secret)> CreateClientAsync(TestServer s, string json)
    {
        var c = await (await s.AdminWithKey.PostJson("/admin/clients", json)).Json(HttpStatusCode.Created);
        return (c["client_id"]!.GetValue<string>(), c["client_secret"]?.GetValue<string>() ?? "");
    }

    internal static Dictionary<string, string> Values(string encoded) =>
        QueryHelpers.ParseQuery(encoded).ToDictionary(kv => kv.Key, kv => kv.Value.ToString());

    internal static async Task<Uri> RedirectAsync(HttpClient browser, string url)
    {
        var res = await browser.GetAsync(url);
        Assert.True(res.StatusCode is HttpStatusCode.Found or HttpStatusCode.SeeOther, $"expected a redirect from {url}, got {(int)res.StatusCode}: {await res.Content.ReadAsStringAsync()}");
        return res.Headers.Location!;
    }

    /// <summary>Runs login and consent; returns the final answer of <c>/oauth2/auth</c> (not followed).</summary>
    internal static async Task<HttpResponseMessage> LoginAndConsentAsync(TestServer s, HttpClient browser, string authorizeUrl, string grantScope = """["openid","photos.read"]""", string session = "{}")
    {
        var toLogin = await RedirectAsync(browser, authorizeUrl);
        Assert.StartsWith(LoginUrl + "?login_challenge=", toLogin.ToString());
        var login = Values(toLogin.Query)["login_challenge"];
        var accepted = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?login_challenge={Uri.EscapeDataString(login)}", """{"subject":"user-1"}""")).Json(HttpStatusCode.OK);
        var toConsent = await RedirectAsync(browser, accepted["redirect_to"]!.GetValue<string>());
        var consent = Values(toConsent.Query)["consent_challenge"];
        var consented = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/consent/accept?consent_challenge={Uri.EscapeDataString(consent)}",
            $$"""{"grant_scope":{{grantScope}},"session":{{session}}}""")).Json(HttpStatusCode.OK);
        return await browser.GetAsync(consented["redirect_to"]!.GetValue<string>());
    }

    internal static string Authorize(string clientId, string responseType = "code", string extra = "", string scope = "openid photos.read", string redirectUri = RedirectUri) =>
        $"/oauth2/auth?response_type={Uri.EscapeDataString(responseType)}&client_id={Uri.EscapeDataString(clientId)}&redirect_uri={Uri.EscapeDataString(redirectUri)}&scope={Uri.EscapeDataString(scope)}&state=state-123456" + extra;

    /// <summary>The hidden inputs of fosite's form_post page, by name (and the form's action).</summary>
    internal static (string Action, Dictionary<string, string> Fields) FormPost(string html)
    {
        var action = WebUtility.HtmlDecode(ActionPattern().Match(html).Groups[1].Value);
        var fields = InputPattern().Matches(html).ToDictionary(m => WebUtility.HtmlDecode(m.Groups[1].Value), m => WebUtility.HtmlDecode(m.Groups[2].Value));
        return (action, fields);
    }

    [GeneratedRegex("<form method=\"post\" action=\"([^\"]*)\">")]
    private static partial Regex ActionPattern();

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]*)\" value=\"([^\"]*)\"/>")]
    private static partial Regex InputPattern();

    private static HttpRequestMessage TokenRequest(string clientId, string secret, params (string, string)[] form)
    {
        var req = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token") { Content = new FormUrlEncodedContent(form.Select(f => new KeyValuePair<string, string>(f.Item1, f.Item2))) };
        req.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{clientId}:{secret}")));
        return req;
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Form_post_answers_the_code_with_fosites_page_and_the_code_is_exchanged(string db)
    {
        await using var s = await StartAsync(db);
        var (id, secret) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid photos.read"}""");
        var browser = Browser(s);
        var verifier = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        var challenge = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

        var res = await LoginAndConsentAsync(s, browser, Authorize(id, extra: $"&response_mode=form_post&nonce=nonce-abcdefgh&code_challenge={challenge}&code_challenge_method=S256"));
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Equal("text/html; charset=UTF-8", res.Content.Headers.ContentType!.ToString());
        Assert.Equal("no-store", res.Headers.CacheControl!.ToString());
        Assert.Equal("no-cache", res.Headers.Pragma.ToString());
        var html = await res.Content.ReadAsStringAsync();
        var (action, fields) = FormPost(html);
        Assert.Equal(RedirectUri, action);
        Assert.Equal(["code", "scope", "state"], fields.Keys);
        Assert.Equal("openid photos.read", fields["scope"]);
        Assert.Equal("state-123456", fields["state"]);
        // fosite's DefaultFormPostTemplate as Go renders it: the whitespace of the template, inputs sorted by name.
        Assert.Equal(
            "<html>\n   <head>\n      <title>Submit This Form</title>\n   </head>\n   <body onload=\"javascript:document.forms[0].submit()\">\n"
            + "      <form method=\"post\" action=\"https://app.example/callback\">\n         \n            \n"
            + $"\t\t      <input type=\"hidden\" name=\"code\" value=\"{fields["code"]}\"/>\n            \n         \n            \n"
            + "\t\t      <input type=\"hidden\" name=\"scope\" value=\"openid photos.read\"/>\n            \n         \n            \n"
            + "\t\t      <input type=\"hidden\" name=\"state\" value=\"state-123456\"/>\n            \n         \n      </form>\n   </body>\n</html>",
            html);

        var token = await s.Public.SendAsync(TokenRequest(id, secret, ("grant_type", "authorization_code"), ("code", fields["code"]), ("redirect_uri", RedirectUri), ("code_verifier", verifier)));
        var t = await token.Json(HttpStatusCode.OK);
        Assert.NotNull(t["id_token"]);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Fragment_and_query_answers_are_encoded_as_go_encodes_them(string db)
    {
        await using var s = await StartAsync(db);
        const string withQuery = "https://app.example/callback?z=1&b=two+words";
        var (id, _) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}","{{withQuery}}"],"scope":"openid photos.read"}""");

        // fragment: the redirect URI as registered, the parameters (sorted, '+' for a space) as its fragment.
        var res = await LoginAndConsentAsync(s, Browser(s), Authorize(id, extra: "&response_mode=fragment", redirectUri: withQuery));
        Assert.Equal(HttpStatusCode.SeeOther, res.StatusCode);
        Assert.Equal("no-cache", res.Headers.Pragma.ToString());
        var location = res.Headers.Location!.OriginalString;
        Assert.Matches(@"^https://app\.example/callback\?z=1&b=two\+words#code=ory_ac_[A-Za-z0-9_\-.]+&scope=openid\+photos\.read&state=state-123456$", location);

        // query (the default for code): the redirect URI's query and the parameters, re-encoded and sorted by name.
        res = await LoginAndConsentAsync(s, Browser(s), Authorize(id, redirectUri: withQuery));
        location = res.Headers.Location!.OriginalString;
        Assert.Matches(@"^https://app\.example/callback\?b=two\+words&code=ory_ac_[A-Za-z0-9_\-.]+&scope=openid\+photos\.read&state=state-123456&z=1$", location);

        // Errors: fragment mode puts them in the fragment; query mode joins them with the redirect URI's query.
        var browser = Browser(s);
        Assert.Equal($"{withQuery}#error=invalid_scope&error_description=The+requested+scope+is+invalid%2C+unknown%2C+or+malformed.+The+OAuth+2.0+Client+is+not+allowed+to+request+scope+%27admin%27.&state=state-123456",
            (await RedirectAsync(browser, Authorize(id, extra: "&response_mode=fragment", scope: "admin", redirectUri: withQuery))).OriginalString);
        Assert.Equal("https://app.example/callback?b=two+words&error=invalid_scope&error_description=The+requested+scope+is+invalid%2C+unknown%2C+or+malformed.+The+OAuth+2.0+Client+is+not+allowed+to+request+scope+%27admin%27.&state=state-123456&z=1",
            (await RedirectAsync(browser, Authorize(id, scope: "admin", redirectUri: withQuery))).OriginalString);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Errors_reach_the_client_in_its_response_mode_and_an_unknown_mode_goes_to_urls_error(string db)
    {
        await using var s = await StartAsync(db);
        var (id, _) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"],"scope":"openid photos.read"}""");
        var browser = Browser(s);

        // A request error in form_post mode: the page posts error, error_description and state.
        var res = await browser.GetAsync(Authorize(id, extra: "&response_mode=form_post&nonce=tiny"));
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Equal("no-store", res.Headers.CacheControl!.ToString());
        var (action, fields) = FormPost(await res.Content.ReadAsStringAsync());
        Assert.Equal(RedirectUri, action);
        Assert.Equal(["error", "error_description", "state"], fields.Keys);
        Assert.Equal("insufficient_entropy", fields["error"]);
        Assert.Equal("The request used a security parameter (e.g., anti-replay, anti-csrf) with insufficient entropy. Parameter 'nonce' is set but does not satisfy the minimum entropy of 8 characters.", fields["error_description"]);

        // A rejected consent in fragment mode: the denial in the fragment.
        var toLogin = await RedirectAsync(browser, Authorize(id, extra: "&response_mode=fragment"));
        var accepted = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?login_challenge={Uri.EscapeDataString(Values(toLogin.Query)["login_challenge"])}", """{"subject":"user-1"}""")).Json(HttpStatusCode.OK);
        var toConsent = await RedirectAsync(browser, accepted["redirect_to"]!.GetValue<string>());
        var rejected = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/consent/reject?consent_challenge={Uri.EscapeDataString(Values(toConsent.Query)["consent_challenge"])}", """{"error":"access_denied","error_description":"no"}""")).Json(HttpStatusCode.OK);
        var denied = await RedirectAsync(browser, rejected["redirect_to"]!.GetValue<string>());
        Assert.Equal(RedirectUri + "#error=access_denied&error_description=no&state=state-123456", denied.OriginalString);

        // An unknown response mode: fosite parses it before the redirect URI is trusted, so it goes to urls.error; nothing is stored.
        var unknown = (await browser.GetAsync(Authorize(id, extra: "&response_mode=web_message"))).FallbackError(s.PublicUrl, "unsupported_response_mode");
        Assert.Equal("The authorization server does not support obtaining a response using this response mode. Request with unsupported response_mode 'web_message'.", unknown["error_description"]);
        await using var scope = s.Services.CreateAsyncScope();
        Assert.Equal(1, scope.ServiceProvider.GetRequiredService<Gatehouse.Persistence.GatehouseDbContext>().OAuth2Flows.Count());
    }

    [Fact]
    public void The_form_post_page_escapes_as_go_html_template_does()
    {
        // Expected strings rendered by Go's html/template with fosite's template.
        var page = AuthorizeResponseWriter.FormPostPage("https://app.example/cb?x=1&y=a b", [new("state", "st\"a'te<&>+ \u00e9")]);
        Assert.Contains("action=\"https://app.example/cb?x=1&amp;y=a%20b\"", page);
        Assert.Contains("name=\"state\" value=\"st&#34;a&#39;te&lt;&amp;&gt;&#43; \u00e9\"", page);
        Assert.Contains("action=\"#ZgotmplZ\"", AuthorizeResponseWriter.FormPostPage("com.example.app:/cb", []));
        Assert.Contains("action=\"https://a/b%28%29!*%27%60%7b%7d%7c%5c%5e%20c?x=%25zz%41&amp;y=1;2\"",
            AuthorizeResponseWriter.FormPostPage("https://a/b()!*'`{}|\\^ c?x=%zz%41&y=1;2", []));
        Assert.EndsWith("action=\"https://a/\">\n         \n      </form>\n   </body>\n</html>", AuthorizeResponseWriter.FormPostPage("https://a/", []));
    }
}
