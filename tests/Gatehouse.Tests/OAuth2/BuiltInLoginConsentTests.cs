using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.SelfService;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.OAuth2;

/// <summary>
/// Deliverable 3 of issue 14: without <c>urls.login</c> / <c>urls.consent</c>, <c>/oauth2/auth</c> goes through
/// Gatehouse's own login flow (with <c>login_challenge</c>, as Kratos with Hydra) and the built-in consent page, driven
/// here as a browser without JavaScript drives them (forms, redirects, cookies), on both databases.
/// </summary>
public sealed class BuiltInLoginConsentTests(FlowServerFixture servers) : IClassFixture<FlowServerFixture>
{
    private const string RedirectUri = "https://app.example/callback";

    private Task<TestServer> Server(string db) => servers.Get(db);

    private static async Task<(string Id, string Secret)> CreateClientAsync(TestServer s, string extra = "")
    {
        var c = await (await s.AdminWithKey.PostJson("/admin/clients",
            $$"""{"client_name":"Photo <App>","redirect_uris":["{{RedirectUri}}"],"scope":"openid offline_access email profile photos.read","grant_types":["authorization_code","refresh_token"]{{extra}}}""")).Json(HttpStatusCode.Created);
        return (c["client_id"]!.GetValue<string>(), c["client_secret"]!.GetValue<string>());
    }

    private static (string Verifier, string Challenge) Pkce()
    {
        var verifier = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        return (verifier, Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
    }

    private static string AuthorizeUrl(string clientId, string challenge, string scope = "openid email photos.read", string extra = "") =>
        $"/oauth2/auth?response_type=code&client_id={Uri.EscapeDataString(clientId)}&redirect_uri={Uri.EscapeDataString(RedirectUri)}&scope={Uri.EscapeDataString(scope)}&state=state-123456&nonce=nonce-abcdefgh&code_challenge={challenge}&code_challenge_method=S256{extra}";

    private static Dictionary<string, string> Query(Uri u) => QueryHelpers.ParseQuery(u.Query).ToDictionary(kv => kv.Key, kv => kv.Value.ToString());

    private static async Task<Uri> RedirectAsync(Browser b, string url)
    {
        var res = await b.Client.GetAsync(url);
        Assert.True(res.StatusCode is HttpStatusCode.Found or HttpStatusCode.SeeOther, $"expected a redirect from {url}, got {(int)res.StatusCode}: {await res.Content.ReadAsStringAsync()}");
        return res.Headers.Location!;
    }

    private static async Task<JsonObject> FetchLoginFlowAsync(Browser b, string id)
    {
        var req = new HttpRequestMessage(HttpMethod.Get, $"/self-service/login/flows?id={id}");
        req.Headers.Accept.ParseAdd("application/json");
        return (await (await b.Client.SendAsync(req)).Json(HttpStatusCode.OK)).AsObject();
    }

    /// <summary>From <c>/oauth2/auth</c> through the login form (password) to the URL after the login; returns it and the login flow.</summary>
    private static async Task<(Uri After, JsonObject Flow)> SignInAsync(TestServer s, Browser b, string authorizeUrl, string email)
    {
        var toLogin = await RedirectAsync(b, authorizeUrl);
        Assert.StartsWith(s.PublicUrl + "/self-service/login/browser?login_challenge=", toLogin.ToString());
        var toPage = await RedirectAsync(b, toLogin.ToString());
        Assert.StartsWith(s.PublicUrl + "/ui/login?flow=", toPage.ToString());
        var flow = await FetchLoginFlowAsync(b, Query(toPage)["flow"]);
        var submitted = await b.PostForm(flow["ui"]!["action"]!.GetValue<string>(),
            [new("csrf_token", Csrf(flow)), new("method", "password"), new("identifier", email), new("password", GoodPassword)]);
        Assert.Equal(HttpStatusCode.SeeOther, submitted.StatusCode);
        return (submitted.Headers.Location!, flow);
    }

    private static async Task<string> ConsentPageAsync(Browser b, Uri consentUrl, string? language = null)
    {
        var req = new HttpRequestMessage(HttpMethod.Get, consentUrl);
        if (language is not null) req.Headers.AcceptLanguage.ParseAdd(language);
        var page = await b.Client.SendAsync(req);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        return await page.Content.ReadAsStringAsync();
    }

    private static string HiddenValue(string html, string name)
    {
        var at = html.IndexOf($"name=\"{name}\" value=\"", StringComparison.Ordinal);
        Assert.True(at >= 0, $"no hidden {name} in the page");
        var start = at + $"name=\"{name}\" value=\"".Length;
        return WebUtility.HtmlDecode(html[start..html.IndexOf('"', start)]);
    }

    private static async Task<JsonObject> TokenAsync(TestServer s, string id, string secret, string code, string verifier)
    {
        var req = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", "authorization_code"), new("code", code), new("redirect_uri", RedirectUri), new("code_verifier", verifier)]),
        };
        req.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{id}:{secret}")));
        return (await (await s.Public.SendAsync(req)).Json(HttpStatusCode.OK)).AsObject();
    }

    private static async Task<JsonWebToken> VerifiedIdTokenAsync(TestServer s, string idToken, string clientId)
    {
        var jwks = new JsonWebKeySet(await s.Public.GetStringAsync("/.well-known/jwks.json"));
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(idToken, new TokenValidationParameters
        {
            ValidIssuer = s.PublicUrl + "/",
            ValidAudience = clientId,
            IssuerSigningKeys = jwks.GetSigningKeys(),
        });
        Assert.True(result.IsValid, result.Exception?.ToString());
        return (JsonWebToken)result.SecurityToken;
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Authorization_code_through_the_built_in_login_and_consent_pages(string db)
    {
        var s = await Server(db);
        var (email, _, registered) = await RegisterApi(s);
        var identityId = registered["identity"]!["id"]!.GetValue<string>();
        var (id, secret) = await CreateClientAsync(s, ""","policy_uri":"https://app.example/privacy" """);
        using var b = new Browser(s.PublicUrl);
        var (verifier, challenge) = Pkce();

        var (afterLogin, flow) = await SignInAsync(s, b, AuthorizeUrl(id, challenge), email);
        // The login flow carries the challenge and shows the login request, as Kratos's flow with Hydra does.
        Assert.False(string.IsNullOrEmpty(flow["oauth2_login_challenge"]!.GetValue<string>()));
        Assert.Equal(id, flow["oauth2_login_request"]!["client"]!["client_id"]!.GetValue<string>());
        Assert.Null(flow["oauth2_login_request"]!["client"]!["client_secret"]);
        Assert.False(flow["refresh"]!.GetValue<bool>());
        Assert.StartsWith(s.PublicUrl + "/oauth2/auth?", afterLogin.ToString());
        Assert.Contains("login_verifier=", afterLogin.Query);

        var toConsent = await RedirectAsync(b, afterLogin.ToString());
        Assert.StartsWith(s.PublicUrl + "/ui/consent?consent_challenge=", toConsent.ToString());
        var html = await ConsentPageAsync(b, toConsent);
        Assert.Contains("<strong>Photo &lt;App&gt;</strong> wants to access your account.", html);
        Assert.Contains("value=\"photos.read\"", html);
        Assert.Contains("href=\"https://app.example/privacy\"", html);
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
        var german = await ConsentPageAsync(b, toConsent, "de-DE");
        Assert.Contains("möchte auf Ihr Konto zugreifen.", german);
        Assert.Contains(">Erlauben</button>", german);

        // Grant only part of what was asked.
        var consentChallenge = Query(toConsent)["consent_challenge"];
        var answered = await b.PostForm("/ui/consent",
            [new("csrf_token", HiddenValue(html, "csrf_token")), new("consent_challenge", consentChallenge), new("grant_scope", "openid"), new("grant_scope", "email"),
             new("grant_scope", "not-requested"), new("remember", "true"), new("action", "accept")]);
        Assert.Equal(HttpStatusCode.SeeOther, answered.StatusCode);
        var callback = await RedirectAsync(b, answered.Headers.Location!.ToString());
        Assert.StartsWith(RedirectUri + "?code=", callback.ToString());
        Assert.Equal("openid email", Query(callback)["scope"]);

        var tokens = await TokenAsync(s, id, secret, Query(callback)["code"], verifier);
        var jwt = await VerifiedIdTokenAsync(s, tokens["id_token"]!.GetValue<string>(), id);
        Assert.Equal(identityId, jwt.Subject);
        Assert.Equal(email, jwt.GetClaim("email").Value);
        Assert.Equal("False", jwt.GetClaim("email_verified").Value, ignoreCase: true);
        Assert.Equal("aal1", jwt.GetClaim("acr").Value);
        Assert.Equal("nonce-abcdefgh", jwt.GetClaim("nonce").Value);
        Assert.Contains("password", jwt.GetPayloadValue<List<string>>("amr"));

        // A second authorization: the login is remembered (accepted with remember, as Kratos does) and the session is
        // still there, so the login flow accepts it without a form; the consent is remembered, so no page either.
        var (v2, c2) = Pkce();
        var next = new Uri(new Uri(s.PublicUrl), AuthorizeUrl(id, c2, scope: "openid email"));
        var hops = new List<string>();
        for (var i = 0; i < 8 && !next.ToString().StartsWith(RedirectUri, StringComparison.Ordinal); i++)
        {
            next = await RedirectAsync(b, next.ToString());
            hops.Add(next.AbsolutePath);
        }
        Assert.Equal(["/self-service/login/browser", "/oauth2/auth", "/ui/consent", "/oauth2/auth", "/callback"], hops);
        var tokens2 = await TokenAsync(s, id, secret, Query(next)["code"], v2);
        var jwt2 = await VerifiedIdTokenAsync(s, tokens2["id_token"]!.GetValue<string>(), id);
        Assert.Equal(email, jwt2.GetClaim("email").Value);
        Assert.Equal(jwt.GetClaim("sid").Value, jwt2.GetClaim("sid").Value);

        // prompt=login asks the session to sign in again (Kratos's refresh).
        var (_, flow3) = await SignInAsync(s, b, AuthorizeUrl(id, Pkce().Challenge, scope: "openid email", extra: "&prompt=login"), email);
        Assert.True(flow3["refresh"]!.GetValue<bool>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Denying_sends_access_denied_and_a_forged_or_foreign_answer_changes_nothing(string db)
    {
        var s = await Server(db);
        var (email, _, _) = await RegisterApi(s);
        var (id, _) = await CreateClientAsync(s);
        using var b = new Browser(s.PublicUrl);
        var (afterLogin, _) = await SignInAsync(s, b, AuthorizeUrl(id, Pkce().Challenge), email);
        var toConsent = await RedirectAsync(b, afterLogin.ToString());
        var html = await ConsentPageAsync(b, toConsent);
        var consentChallenge = Query(toConsent)["consent_challenge"];

        // Without the form's CSRF token: refused, the request stays open.
        var forged = await b.PostForm("/ui/consent", [new("csrf_token", "forged"), new("consent_challenge", consentChallenge), new("action", "accept")]);
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.Contains("security_csrf_violation", await forged.Content.ReadAsStringAsync());
        // Another browser (no session) and another account cannot see or answer it.
        using var stranger = new Browser(s.PublicUrl);
        Assert.Equal(HttpStatusCode.Forbidden, (await stranger.Client.GetAsync(toConsent)).StatusCode);
        var (otherEmail, _, _) = await RegisterApi(s);
        using var other = new Browser(s.PublicUrl);
        var (otherLogin, _) = await SignInAsync(s, other, AuthorizeUrl(id, Pkce().Challenge), otherEmail);
        await RedirectAsync(other, otherLogin.ToString());
        Assert.Equal(HttpStatusCode.Forbidden, (await other.Client.GetAsync(toConsent)).StatusCode);
        var pending = await (await s.AdminWithKey.GetAsync($"/admin/oauth2/auth/requests/consent?consent_challenge={Uri.EscapeDataString(consentChallenge)}")).Json(HttpStatusCode.OK);
        Assert.False(pending["skip"]!.GetValue<bool>());

        var denied = await b.PostForm("/ui/consent", [new("csrf_token", HiddenValue(html, "csrf_token")), new("consent_challenge", consentChallenge), new("action", "reject")]);
        Assert.Equal(HttpStatusCode.SeeOther, denied.StatusCode);
        var callback = await RedirectAsync(b, denied.Headers.Location!.ToString());
        Assert.StartsWith(RedirectUri + "?error=access_denied", callback.ToString());
        Assert.Equal("state-123456", Query(callback)["state"]);
        // Answered: the page sends the browser to the authorization request again (Hydra's 410 redirect_to).
        var again = await b.Client.GetAsync(toConsent);
        Assert.Equal(HttpStatusCode.SeeOther, again.StatusCode);
        Assert.StartsWith(s.PublicUrl + "/oauth2/auth?", again.Headers.Location!.ToString());
        // Unknown challenges: 404 on the error page.
        Assert.Equal(HttpStatusCode.NotFound, (await b.Client.GetAsync("/ui/consent?consent_challenge=nope")).StatusCode);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_first_party_client_skips_the_consent_page(string db)
    {
        var s = await Server(db);
        var (email, _, _) = await RegisterApi(s);
        var (id, secret) = await CreateClientAsync(s, ""","skip_consent":true""");
        using var b = new Browser(s.PublicUrl);
        var (verifier, challenge) = Pkce();
        var (afterLogin, _) = await SignInAsync(s, b, AuthorizeUrl(id, challenge, scope: "openid profile"), email);
        var toConsent = await RedirectAsync(b, afterLogin.ToString());
        var back = await RedirectAsync(b, toConsent.ToString());
        var callback = await RedirectAsync(b, back.ToString());
        Assert.StartsWith(RedirectUri + "?code=", callback.ToString());
        Assert.Equal("openid profile", Query(callback)["scope"]);
        var tokens = await TokenAsync(s, id, secret, Query(callback)["code"], verifier);
        Assert.Null((await VerifiedIdTokenAsync(s, tokens["id_token"]!.GetValue<string>(), id)).Claims.FirstOrDefault(c => c.Type == "email"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Bad_login_challenges_are_clear_errors_of_the_login_flow(string db)
    {
        var s = await Server(db);
        using var b = new Browser(s.PublicUrl, acceptJson: true);
        var empty = await (await b.Client.GetAsync("/self-service/login/browser?login_challenge=")).Error(HttpStatusCode.BadRequest);
        Assert.Equal("the login_challenge parameter is present but empty", empty["reason"]!.GetValue<string>());
        var unknown = await (await b.Client.GetAsync("/self-service/login/browser?login_challenge=nope")).Error(HttpStatusCode.BadRequest);
        Assert.Equal("Unable to get OAuth 2.0 Login Challenge.", unknown["reason"]!.GetValue<string>());
        Assert.Equal(404, unknown["details"]!["status_code"]!.GetValue<int>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_configured_jsonnet_mapper_chooses_the_claims(string db)
    {
        const string mapper = """
            local i = std.extVar('identity');
            { id_token: { mail: i.traits.email, scopes: std.extVar('grant_scope'), client: std.extVar('client').client_name, iss: 'spoofed' },
              access_token: { tier: 'gold' } }
            """;
        var s = await servers.Get(db, "claims-mapper", o => o.Oauth2.Consent.ClaimsMapperUrl = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(mapper)));
        var (email, _, _) = await RegisterApi(s);
        var (id, secret) = await CreateClientAsync(s, ""","skip_consent":true""");
        using var b = new Browser(s.PublicUrl);
        var (verifier, challenge) = Pkce();
        var (afterLogin, _) = await SignInAsync(s, b, AuthorizeUrl(id, challenge, scope: "openid"), email);
        var callback = await RedirectAsync(b, (await RedirectAsync(b, (await RedirectAsync(b, afterLogin.ToString())).ToString())).ToString());
        var tokens = await TokenAsync(s, id, secret, Query(callback)["code"], verifier);
        var jwt = await VerifiedIdTokenAsync(s, tokens["id_token"]!.GetValue<string>(), id);
        Assert.Equal(email, jwt.GetClaim("mail").Value);
        Assert.Equal("Photo <App>", jwt.GetClaim("client").Value);
        Assert.Equal(s.PublicUrl + "/", jwt.Issuer);
        var introspected = await (await s.AdminWithKey.PostAsync("/admin/oauth2/introspect", new FormUrlEncodedContent([new("token", tokens["access_token"]!.GetValue<string>())]))).Json(HttpStatusCode.OK);
        Assert.Equal("gold", introspected["ext"]!["tier"]!.GetValue<string>());
    }
}
