using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService.Oidc;

/// <summary>
/// Linking and unlinking providers in the settings flow, as Kratos: <c>link</c> / <c>unlink</c> buttons (1050002 /
/// 1050003), the link round trip through the provider, never removing the last way to sign in, a privileged session for
/// both, and an account another identity already uses refused with 4000007.
/// </summary>
public sealed class OidcSettingsTests(OidcServerFixture fixture) : IClassFixture<OidcServerFixture>
{
    private static string NewSubject() => "sub-" + Guid.NewGuid().ToString("N")[..10];

    private static async Task<JsonNode> FetchFlow(Browser browser, string kind, string id)
    {
        using var fetch = new HttpRequestMessage(HttpMethod.Get, $"/self-service/{kind}/flows?id={id}");
        fetch.Headers.Accept.ParseAdd("application/json");
        return await (await browser.Client.SendAsync(fetch)).Json(HttpStatusCode.OK);
    }

    private static async Task<JsonNode> Whoami(Browser browser)
    {
        using var req = new HttpRequestMessage(HttpMethod.Get, "/sessions/whoami");
        req.Headers.Accept.ParseAdd("application/json");
        return await (await browser.Client.SendAsync(req)).Json(HttpStatusCode.OK);
    }

    /// <summary>A password account signed in in a browser.</summary>
    private static async Task<(Browser Browser, string IdentityId)> PasswordBrowser(TestServer s)
    {
        var (email, _, body) = await RegisterApi(s);
        var browser = new Browser(s.PublicUrl);
        var init = await browser.Client.GetAsync("/self-service/login/browser");
        var flow = await FetchFlow(browser, "login", QueryHelpers.ParseQuery(init.Headers.Location!.Query)["flow"].ToString());
        var res = await browser.PostForm($"/self-service/login?flow={flow["id"]}",
            [new("csrf_token", Csrf(flow)), new("method", "password"), new("identifier", email), new("password", GoodPassword)]);
        Assert.Equal(HttpStatusCode.SeeOther, res.StatusCode);
        return (browser, (string)body["identity"]!["id"]!);
    }

    /// <summary>An account made by signing up with the provider, signed in in a browser.</summary>
    private async Task<(Browser Browser, string IdentityId)> SocialBrowser(TestServer s, string subject)
    {
        var idp = await fixture.Idp();
        var browser = new Browser(s.PublicUrl);
        var init = await browser.Client.GetAsync("/self-service/registration/browser");
        var flow = await FetchFlow(browser, "registration", QueryHelpers.ParseQuery(init.Headers.Location!.Query)["flow"].ToString());
        var submit = await browser.PostForm($"/self-service/registration?flow={flow["id"]}", [new("csrf_token", Csrf(flow)), new("provider", "test-idp")]);
        Assert.Equal(HttpStatusCode.SeeOther, (await Callback(browser, submit.Headers.Location!, subject)).StatusCode);
        return (browser, (string)(await Whoami(browser))["identity"]!["id"]!);
    }

    private async Task<HttpResponseMessage> Callback(Browser browser, Uri upstream, string subject)
    {
        var idp = await fixture.Idp();
        var q = QueryHelpers.ParseQuery(upstream.Query);
        var code = idp.AddCode(new TestOpenIdProvider.Grant(idp.Claims(subject, fixture.Clock.GetUtcNow(), q["nonce"].ToString()), q["code_challenge"].ToString(), q["redirect_uri"].ToString()));
        return await browser.Client.GetAsync($"/self-service/methods/oidc/callback/test-idp?state={Uri.EscapeDataString(q["state"].ToString())}&code={code}");
    }

    private static async Task<JsonNode> SettingsFlow(Browser browser)
    {
        var init = await browser.Client.GetAsync("/self-service/settings/browser");
        Assert.Equal(HttpStatusCode.SeeOther, init.StatusCode);
        return await FetchFlow(browser, "settings", QueryHelpers.ParseQuery(init.Headers.Location!.Query)["flow"].ToString());
    }

    private static List<(string Name, string Value, long Label, string Text)> OidcNodes(JsonNode flow) =>
        [.. flow["ui"]!["nodes"]!.AsArray().Where(n => (string?)n!["group"] == "oidc")
            .Select(n => ((string)n!["attributes"]!["name"]!, (string)n["attributes"]!["value"]!, (long)n["meta"]!["label"]!["id"]!, (string)n["meta"]!["label"]!["text"]!))];

    private static async Task<JsonNode?> OidcCredential(TestServer s, string identityId) =>
        (await (await s.AdminWithKey.GetAsync($"/admin/identities/{identityId}?include_credential=oidc")).Json(HttpStatusCode.OK))["credentials"]!["oidc"];

    private static Task<HttpResponseMessage> PostJson(Browser browser, JsonNode flow, JsonObject body)
    {
        body["csrf_token"] = Csrf(flow);
        var req = new HttpRequestMessage(HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}") { Content = JsonContent(body) };
        req.Headers.Accept.ParseAdd("application/json");
        return browser.Client.SendAsync(req);
    }

    private static StringContent JsonContent(JsonObject body) => new(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_password_account_links_the_provider_through_a_round_trip_and_then_signs_in_with_it(string provider)
    {
        var s = await fixture.Get(provider);
        var (browser, identityId) = await PasswordBrowser(s);
        using var _ = browser;
        var flow = await SettingsFlow(browser);
        Assert.Equal([("link", "auto", 1050002L, "Link Auto"), ("link", "down", 1050002L, "Link down"), ("link", "native", 1050002L, "Link Native"), ("link", "test-idp", 1050002L, "Link Test IdP")], OidcNodes(flow));
        var label = flow["ui"]!["nodes"]!.AsArray().First(n => (string?)n!["attributes"]!["name"] == "link" && (string?)n["attributes"]!["value"] == "test-idp")!["meta"]!["label"]!;
        Assert.Equal(JsonNode.Parse("""{"id":1050002,"text":"Link Test IdP","type":"info","context":{"provider":"Test IdP"}}"""), label, JsonNode.DeepEquals);

        var subject = NewSubject();
        var submit = await browser.PostForm($"/self-service/settings?flow={flow["id"]}", [new("csrf_token", Csrf(flow)), new("link", "test-idp")]);
        Assert.Equal(HttpStatusCode.SeeOther, submit.StatusCode);
        Assert.StartsWith((await fixture.Idp()).Issuer + "/auth?", submit.Headers.Location!.ToString(), StringComparison.Ordinal);
        var back = await Callback(browser, submit.Headers.Location!, subject);
        Assert.Equal(HttpStatusCode.SeeOther, back.StatusCode);
        Assert.Contains($"flow={flow["id"]}", back.Headers.Location!.Query, StringComparison.Ordinal);

        var after = await FetchFlow(browser, "settings", (string)flow["id"]!);
        Assert.Equal("success", (string?)after["state"]);
        Assert.Equal([1050001L], MessageIds(after));
        Assert.Equal([("link", "auto", 1050002L, "Link Auto"), ("link", "down", 1050002L, "Link down"), ("link", "native", 1050002L, "Link Native"), ("unlink", "test-idp", 1050003L, "Unlink Test IdP")], OidcNodes(after));
        var credential = await OidcCredential(s, identityId);
        Assert.Equal($"test-idp:{subject}", (string?)credential!["identifiers"]![0]);
        Assert.StartsWith("at-", (string?)credential["config"]!["providers"]![0]!["initial_access_token"], StringComparison.Ordinal);
        var methods = (await Whoami(browser))["authentication_methods"]!.AsArray();
        Assert.Contains(methods, m => (string?)m!["method"] == "oidc" && (string?)m["provider"] == "test-idp");

        // The provider now signs in to the same identity.
        using var later = new Browser(s.PublicUrl);
        var init = await later.Client.GetAsync("/self-service/login/browser");
        var login = await FetchFlow(later, "login", QueryHelpers.ParseQuery(init.Headers.Location!.Query)["flow"].ToString());
        var click = await later.PostForm($"/self-service/login?flow={login["id"]}", [new("csrf_token", Csrf(login)), new("provider", "test-idp")]);
        Assert.Equal(HttpStatusCode.SeeOther, (await Callback(later, click.Headers.Location!, subject)).StatusCode);
        Assert.Equal(identityId, (string?)(await Whoami(later))["identity"]!["id"]);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_last_way_to_sign_in_cannot_be_unlinked(string provider)
    {
        var s = await fixture.Get(provider);
        var (browser, identityId) = await SocialBrowser(s, NewSubject());
        using var _ = browser;
        var flow = await SettingsFlow(browser);
        // No unlink button for the only first factor; the provider itself is linked, so no link button either.
        Assert.Equal([("link", "auto", 1050002L, "Link Auto"), ("link", "down", 1050002L, "Link down"), ("link", "native", 1050002L, "Link Native")], OidcNodes(flow));
        var res = await PostJson(browser, flow, new JsonObject { ["method"] = "oidc", ["unlink"] = "test-idp" });
        var body = await res.Json(HttpStatusCode.BadRequest);
        var message = body["ui"]!["messages"]![0]!;
        Assert.Equal(4000001, (long)message["id"]!);
        Assert.Equal("can not unlink OpenID Connect connection because it is the last remaining first factor credential", (string?)message["text"]);
        Assert.NotNull(await OidcCredential(s, identityId));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Unlinking_a_provider_next_to_a_password_removes_its_account(string provider)
    {
        var s = await fixture.Get(provider);
        var (browser, identityId) = await PasswordBrowser(s);
        using var _ = browser;
        var flow = await SettingsFlow(browser);
        var submit = await browser.PostForm($"/self-service/settings?flow={flow["id"]}", [new("csrf_token", Csrf(flow)), new("link", "test-idp")]);
        Assert.Equal(HttpStatusCode.SeeOther, (await Callback(browser, submit.Headers.Location!, NewSubject())).StatusCode);
        Assert.NotNull(await OidcCredential(s, identityId));

        var again = await SettingsFlow(browser);
        var notLinked = await PostJson(browser, again, new JsonObject { ["method"] = "oidc", ["unlink"] = "down" });
        Assert.Equal("can not unlink non-existing OpenID Connect connection", (string?)(await notLinked.Json(HttpStatusCode.BadRequest))["ui"]!["messages"]![0]!["text"]);
        var both = await PostJson(browser, again, new JsonObject { ["method"] = "oidc", ["unlink"] = "test-idp", ["link"] = "down" });
        Assert.Equal(4000001, (long)(await both.Json(HttpStatusCode.BadRequest))["ui"]!["messages"]![0]!["id"]!);
        var linkedAgain = await PostJson(browser, again, new JsonObject { ["method"] = "oidc", ["link"] = "test-idp" });
        Assert.Equal("can not link unknown or already existing OpenID Connect connection", (string?)(await linkedAgain.Json(HttpStatusCode.BadRequest))["ui"]!["messages"]![0]!["text"]);

        var res = await PostJson(browser, again, new JsonObject { ["method"] = "oidc", ["unlink"] = "test-idp" });
        var body = await res.Json(HttpStatusCode.OK);
        Assert.Equal([1050001L], MessageIds(body));
        Assert.Equal([("link", "auto", 1050002L, "Link Auto"), ("link", "down", 1050002L, "Link down"), ("link", "native", 1050002L, "Link Native"), ("link", "test-idp", 1050002L, "Link Test IdP")], OidcNodes(body));
        Assert.Null(await OidcCredential(s, identityId));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Linking_an_account_that_another_identity_uses_is_refused_with_4000007(string provider)
    {
        var s = await fixture.Get(provider);
        var subject = NewSubject();
        var (other, otherId) = await SocialBrowser(s, subject);
        other.Dispose();
        var (browser, identityId) = await PasswordBrowser(s);
        using var _ = browser;
        var flow = await SettingsFlow(browser);
        var submit = await browser.PostForm($"/self-service/settings?flow={flow["id"]}", [new("csrf_token", Csrf(flow)), new("link", "test-idp")]);
        var back = await Callback(browser, submit.Headers.Location!, subject);
        Assert.Equal(HttpStatusCode.SeeOther, back.StatusCode);
        var after = await FetchFlow(browser, "settings", (string)flow["id"]!);
        // Kratos v26.2 selfservice/flow/settings/hook.go: the unique violation of the update is
        // schema.NewDuplicateCredentialsError, 4000007 (4000027 is only the registration-to-login fallback).
        Assert.Equal([4000007L], MessageIds(after));
        Assert.Null(await OidcCredential(s, identityId));
        Assert.Equal($"test-idp:{subject}", (string?)(await OidcCredential(s, otherId))!["identifiers"]![0]);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Linking_a_provider_that_is_down_answers_4000001_on_the_flow_and_changes_nothing(string provider)
    {
        // Kratos v26.2: a 500 invalid_configuration ("Unable to initialize OpenID Connect Provider: …"); Gatehouse keeps
        // the settings flow usable (docs/self-service.md).
        var s = await fixture.Get(provider);
        var (browser, identityId) = await PasswordBrowser(s);
        using var _ = browser;
        var flow = await SettingsFlow(browser);
        var body = await (await PostJson(browser, flow, new JsonObject { ["method"] = "oidc", ["link"] = "down" })).Json(HttpStatusCode.BadRequest);
        var message = Assert.Single(body["ui"]!["messages"]!.AsArray())!;
        Assert.Equal(4000001L, (long)message["id"]!);
        Assert.StartsWith("The OpenID Connect provider could not be reached at http://127.0.0.1:1/.well-known/openid-configuration: ", (string?)message["text"], StringComparison.Ordinal);
        Assert.Null(browser.Cookie(Gatehouse.SelfService.Strategies.Oidc.OidcStrategy.ContinuityCookie));
        Assert.Null(await OidcCredential(s, identityId));
        Assert.Contains(("link", "down", 1050002L, "Link down"), OidcNodes(body));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Link_and_unlink_need_a_privileged_session(string provider)
    {
        var s = await fixture.Get(provider);
        var (browser, identityId) = await PasswordBrowser(s);
        using var _ = browser;
        fixture.Clock.Advance(s.Options.Selfservice.Flows.Settings.PrivilegedSessionMaxAge + TimeSpan.FromMinutes(1));
        var flow = await SettingsFlow(browser);
        var link = await PostJson(browser, flow, new JsonObject { ["method"] = "oidc", ["link"] = "test-idp" });
        Assert.Equal("session_refresh_required", (string?)(await link.Error(HttpStatusCode.Forbidden))["id"]);
        var html = await browser.PostForm($"/self-service/settings?flow={flow["id"]}", [new("csrf_token", Csrf(flow)), new("link", "test-idp")]);
        Assert.Equal(HttpStatusCode.SeeOther, html.StatusCode);
        Assert.Contains("/self-service/login/browser?refresh=true", html.Headers.Location!.ToString(), StringComparison.Ordinal);
        var unlink = await PostJson(browser, flow, new JsonObject { ["method"] = "oidc", ["unlink"] = "test-idp" });
        Assert.Equal("session_refresh_required", (string?)(await unlink.Error(HttpStatusCode.Forbidden))["id"]);
        Assert.Null(await OidcCredential(s, identityId));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_JSON_link_without_csrf_token_as_the_SDKs_send_it_is_taken_and_anything_a_page_elsewhere_could_send_is_refused(string provider)
    {
        // Kratos's updateSettingsFlowWithOidcMethod has no csrf_token, so @ory/client-fetch (and Ory Elements) drop it.
        var s = await fixture.Get(provider);
        var (browser, identityId) = await PasswordBrowser(s);
        using var _ = browser;
        var flow = await SettingsFlow(browser);
        HttpRequestMessage Submit(HttpContent content, string? csrfHeader = null)
        {
            var req = new HttpRequestMessage(HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}") { Content = content };
            req.Headers.Accept.ParseAdd("application/json");
            if (csrfHeader is not null) req.Headers.Add("X-CSRF-Token", csrfHeader);
            return req;
        }
        var link = new JsonObject { ["method"] = "oidc", ["link"] = "test-idp" };

        // What another site's page can send without a preflight: a text/plain body is no form Gatehouse reads (415), a
        // form post needs the token. And a wrong token in the body or the header is refused.
        await (await browser.Client.SendAsync(Submit(new StringContent(link.ToJsonString(), System.Text.Encoding.UTF8, "text/plain")))).Error(HttpStatusCode.UnsupportedMediaType);
        foreach (var refused in new[]
        {
            Submit(new FormUrlEncodedContent([new("method", "oidc"), new("link", "test-idp")])),
            Submit(JsonContent(new JsonObject { ["method"] = "oidc", ["link"] = "test-idp", ["csrf_token"] = "wrong" })),
            Submit(JsonContent(link), csrfHeader: "wrong"),
        })
        {
            Assert.Equal("security_csrf_violation", (string?)(await (await browser.Client.SendAsync(refused)).Error(HttpStatusCode.Forbidden))["id"]);
        }

        // Without the browser's CSRF cookie the JSON submit is refused too.
        var cookie = browser.Cookies.GetAllCookies().First(c => c.Name.StartsWith("csrf_token_", StringComparison.Ordinal));
        var value = cookie.Value;
        cookie.Value = "not-the-flows";
        Assert.Equal("security_csrf_violation", (string?)(await (await browser.Client.SendAsync(Submit(JsonContent(link)))).Error(HttpStatusCode.Forbidden))["id"]);
        cookie.Value = value;
        Assert.Null(await OidcCredential(s, identityId));

        // As the SDK sends it (JSON, no token, the cookie): taken — the browser is sent to the provider.
        var taken = await (await browser.Client.SendAsync(Submit(JsonContent(link)))).Error((HttpStatusCode)422);
        Assert.Equal("browser_location_change_required", (string?)taken["id"]);
    }

    private static async Task<string> Page(Browser browser, string url, string language)
    {
        using var req = new HttpRequestMessage(HttpMethod.Get, url);
        req.Headers.AcceptLanguage.ParseAdd(language);
        var res = await browser.Client.SendAsync(req);
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        return await res.Content.ReadAsStringAsync();
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_built_in_pages_show_the_provider_buttons_in_English_and_German(string provider)
    {
        var s = await fixture.Get(provider);
        using var anonymous = new Browser(s.PublicUrl);
        var login = (await anonymous.Client.GetAsync("/self-service/login/browser")).Headers.Location!.ToString();
        Assert.Contains(">Sign in with Test IdP</button>", await Page(anonymous, login, "en"), StringComparison.Ordinal);
        Assert.Contains(">Anmelden mit Test IdP</button>", await Page(anonymous, login, "de-DE"), StringComparison.Ordinal);
        var registration = (await anonymous.Client.GetAsync("/self-service/registration/browser")).Headers.Location!.ToString();
        Assert.Contains(">Registrieren mit Test IdP</button>", await Page(anonymous, registration, "de"), StringComparison.Ordinal);

        var (browser, _) = await PasswordBrowser(s);
        using var _ = browser;
        var settings = (await browser.Client.GetAsync("/self-service/settings/browser")).Headers.Location!.ToString();
        var en = await Page(browser, settings, "en");
        Assert.Contains("name=\"link\" value=\"test-idp\"", en, StringComparison.Ordinal);
        Assert.Contains(">Link Test IdP</button>", en, StringComparison.Ordinal);
        Assert.Contains("Social sign-in", en, StringComparison.Ordinal);
        var de = await Page(browser, settings, "de");
        Assert.Contains(">Test IdP verknüpfen</button>", de, StringComparison.Ordinal);
        Assert.Contains("Anmeldung über andere Konten", de, StringComparison.Ordinal);
    }
}
