using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.OAuth2.Clients;
using Gatehouse.OAuth2.Keys;
using Gatehouse.Tests.Hooks;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Gatehouse.Tests.OAuth2;

/// <summary>
/// Pairwise subject identifiers as Hydra v26.2 computes and checks them (<c>consent/subject_identifier_pairwise.go</c>,
/// <c>consent/strategy_default.go</c> <c>ObfuscateSubjectIdentifier</c>, <c>client/validator.go</c>), with the sector
/// identifier document served over HTTPS on loopback.
/// </summary>
public sealed class PairwiseSubjectTests
{
    private const string LoginUrl = "https://login.example/login";
    private const string ConsentUrl = "https://login.example/consent";
    private const string RedirectUri = "https://app.example:8443/callback";
    private const string Salt = "some-random-salt";

    private static Task<TestServer> StartAsync(string db, X509Certificate2? trusted = null, Action<Gatehouse.Config.GatehouseOptions>? configure = null) =>
        TestServer.StartAsync(db, o =>
        {
            o.Urls.Login = LoginUrl;
            o.Urls.Consent = ConsentUrl;
            o.Oidc.SubjectIdentifiers.SupportedTypes = ["public", "pairwise"];
            o.Oidc.SubjectIdentifiers.Pairwise.Salt = Salt;
            configure?.Invoke(o);
        }, services =>
        {
            services.AddSingleton(new KeyGeneration { RsaBits = 2048 });
            // The test's sector identifier host has a self-signed certificate: the server's fetcher trusts exactly that one.
            if (trusted is not null)
                services.Configure<HttpClientFactoryOptions>(SectorIdentifierValidator.ClientName, o => o.HttpMessageHandlerBuilderActions.Add(b =>
                {
                    if (b.PrimaryHandler is SocketsHttpHandler h)
                        h.SslOptions.RemoteCertificateValidationCallback = (_, c, _, _) => c is not null && c.GetCertHashString() == trusted.GetCertHashString();
                }));
        });

    /// <summary>A self-signed certificate for 127.0.0.1, with its key.</summary>
    private static X509Certificate2 LoopbackCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    }

    private static string Pairwise(string sector, string subject) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sector + subject + Salt)));

    private static async Task<(string Id, string Secret)> CreateClientAsync(TestServer s, string json)
    {
        var c = await (await s.AdminWithKey.PostJson("/admin/clients", json)).Json(HttpStatusCode.Created);
        return (c["client_id"]!.GetValue<string>(), c["client_secret"]?.GetValue<string>() ?? "");
    }

    private static async Task<int> ClientCountAsync(TestServer s) =>
        (await (await s.AdminWithKey.GetAsync("/admin/clients?page_size=1000")).Json(HttpStatusCode.OK)).AsArray().Count;

    private static Dictionary<string, string> Query(Uri u) => QueryHelpers.ParseQuery(u.Query).ToDictionary(kv => kv.Key, kv => kv.Value.ToString());

    private sealed class Browser(TestServer s)
    {
        public HttpClient Http { get; } = new(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(s.PublicUrl) };

        public async Task<Uri> GetRedirectAsync(string url)
        {
            var res = await Http.GetAsync(url);
            Assert.True(res.StatusCode is HttpStatusCode.Found or HttpStatusCode.SeeOther, $"expected a redirect from {url}, got {(int)res.StatusCode}: {await res.Content.ReadAsStringAsync()}");
            return res.Headers.Location!;
        }
    }

    /// <summary>Login (as <c>user-1</c>, with <paramref name="loginExtra"/>) and consent; returns the callback and the consent request.</summary>
    private static async Task<(Uri Callback, JsonNode ConsentRequest)> LoginAndConsentAsync(TestServer s, Browser browser, string clientId, string redirectUri, string loginExtra = "", string authorizeExtra = "")
    {
        var toLogin = await browser.GetRedirectAsync($"/oauth2/auth?response_type=code&client_id={Uri.EscapeDataString(clientId)}&redirect_uri={Uri.EscapeDataString(redirectUri)}&scope=openid&state=state-123456&nonce=nonce-abcdefgh{authorizeExtra}");
        Assert.StartsWith(LoginUrl, toLogin.ToString());
        var loginChallenge = Query(toLogin)["login_challenge"];
        var accepted = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?login_challenge={Uri.EscapeDataString(loginChallenge)}", $$"""{"subject":"user-1"{{loginExtra}}}""")).Json(HttpStatusCode.OK);
        var toConsent = await browser.GetRedirectAsync(accepted["redirect_to"]!.GetValue<string>());
        Assert.StartsWith(ConsentUrl, toConsent.ToString());
        var consentChallenge = Query(toConsent)["consent_challenge"];
        var consentRequest = await (await s.AdminWithKey.GetAsync($"/admin/oauth2/auth/requests/consent?consent_challenge={Uri.EscapeDataString(consentChallenge)}")).Json(HttpStatusCode.OK);
        var consented = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/consent/accept?consent_challenge={Uri.EscapeDataString(consentChallenge)}", """{"grant_scope":["openid"]}""")).Json(HttpStatusCode.OK);
        return (await browser.GetRedirectAsync(consented["redirect_to"]!.GetValue<string>()), consentRequest);
    }

    /// <summary>The whole flow (in <paramref name="browser"/>, else a new one); returns the token answer.</summary>
    private static async Task<JsonNode> TokensAsync(TestServer s, string clientId, string secret, string redirectUri, string loginExtra = "", Browser? browser = null, string authorizeExtra = "")
    {
        browser ??= new Browser(s);
        var (callback, consentRequest) = await LoginAndConsentAsync(s, browser, clientId, redirectUri, loginExtra, authorizeExtra);
        // The consent app is told the subject itself, never the pairwise one.
        Assert.Equal("user-1", consentRequest["subject"]!.GetValue<string>());
        var req = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", "authorization_code"), new("code", Query(callback)["code"]), new("redirect_uri", redirectUri)]),
        };
        req.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{clientId}:{secret}")));
        return await (await s.Public.SendAsync(req)).Json(HttpStatusCode.OK);
    }

    private static string IdTokenSubject(JsonNode tokens) => new JsonWebToken(tokens["id_token"]!.GetValue<string>()).Subject;

    private static async Task<string> UserinfoSubjectAsync(TestServer s, JsonNode tokens)
    {
        var req = new HttpRequestMessage(HttpMethod.Get, "/userinfo");
        req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens["access_token"]!.GetValue<string>());
        return (await (await s.Public.SendAsync(req)).Json(HttpStatusCode.OK))["sub"]!.GetValue<string>();
    }

    private static async Task<JsonObject> IntrospectAsync(TestServer s, string token) =>
        (await (await s.AdminWithKey.PostAsync("/admin/oauth2/introspect", new FormUrlEncodedContent([new("token", token)]))).Json(HttpStatusCode.OK)).AsObject();

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_pairwise_client_sees_the_sha256_of_its_redirect_host_the_subject_and_the_salt(string db)
    {
        await using var s = await StartAsync(db);
        var discovery = await (await s.Public.GetAsync("/.well-known/openid-configuration")).Json(HttpStatusCode.OK);
        Assert.Equal(["public", "pairwise"], discovery["subject_types_supported"]!.AsArray().Select(x => x!.GetValue<string>()));

        var (id, secret) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"],"subject_type":"pairwise"}""");
        var tokens = await TokensAsync(s, id, secret, RedirectUri);
        // Hydra: the redirect URI's host as Go's url.Parse gives it, port included.
        var expected = Pairwise("app.example:8443", "user-1");
        Assert.Equal(expected, IdTokenSubject(tokens));
        Assert.Equal(expected, await UserinfoSubjectAsync(s, tokens));
        // The access token is the subject's own (Hydra's session.Subject); introspection adds the pairwise one after it.
        var introspected = await IntrospectAsync(s, tokens["access_token"]!.GetValue<string>());
        Assert.Equal("user-1", introspected["sub"]!.GetValue<string>());
        Assert.Equal(expected, introspected["obfuscated_subject"]!.GetValue<string>());
        Assert.Equal(["active", "client_id", "sub", "obfuscated_subject"], introspected.Select(kv => kv.Key).Where(k => k is "active" or "client_id" or "sub" or "obfuscated_subject"));

        // force_subject_identifier of the login accept wins for pairwise clients...
        var forced = await TokensAsync(s, id, secret, RedirectUri, ""","force_subject_identifier":"forced-subject" """);
        Assert.Equal("forced-subject", IdTokenSubject(forced));
        Assert.Equal("forced-subject", await UserinfoSubjectAsync(s, forced));

        // ...and means nothing to public ones, which see the subject itself.
        var (pub, pubSecret) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"]}""");
        var publicTokens = await TokensAsync(s, pub, pubSecret, RedirectUri, ""","force_subject_identifier":"forced-subject" """);
        Assert.Equal("user-1", IdTokenSubject(publicTokens));
        Assert.Equal("user-1", await UserinfoSubjectAsync(s, publicTokens));
        Assert.Null((await IntrospectAsync(s, publicTokens["access_token"]!.GetValue<string>()))["obfuscated_subject"]);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_id_token_hint_of_a_pairwise_client_names_its_pairwise_subject(string db)
    {
        await using var s = await StartAsync(db);
        var (id, secret) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"],"subject_type":"pairwise"}""");
        var browser = new Browser(s);
        var first = await TokensAsync(s, id, secret, RedirectUri, ""","remember":true""", browser);
        var idToken = first["id_token"]!.GetValue<string>();
        Assert.Equal(Pairwise("app.example:8443", "user-1"), IdTokenSubject(first));

        // With the login remembered, the hint's pairwise subject matches it (Hydra's matchesValueFromSession), and after
        // the login it is the subject the client sees that the hint must name (fosite's ValidatePrompt).
        var again = await TokensAsync(s, id, secret, RedirectUri, "", browser, "&id_token_hint=" + Uri.EscapeDataString(idToken));
        Assert.Equal(IdTokenSubject(first), IdTokenSubject(again));

        // A hint naming the subject itself (an ID token of a public client; fosite does not check its audience) is refused
        // once the login is accepted: the pairwise client never saw that subject.
        var (pub, pubSecret) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"]}""");
        var rawHint = (await TokensAsync(s, pub, pubSecret, RedirectUri))["id_token"]!.GetValue<string>();
        var fresh = new Browser(s);
        var toLogin = await fresh.GetRedirectAsync($"/oauth2/auth?response_type=code&client_id={id}&redirect_uri={Uri.EscapeDataString(RedirectUri)}&scope=openid&state=state-123456&id_token_hint={Uri.EscapeDataString(rawHint)}");
        var accepted = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?login_challenge={Uri.EscapeDataString(Query(toLogin)["login_challenge"])}", """{"subject":"user-1"}""")).Json(HttpStatusCode.OK);
        var refused = Query(await fresh.GetRedirectAsync(accepted["redirect_to"]!.GetValue<string>()));
        Assert.Equal("login_required", refused["error"]);
        Assert.EndsWith("Failed to validate OpenID Connect request because the subject from provided id token from id_token_hint does not match the current session's subject.", refused["error_description"]);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_forced_subject_identifier_is_kept_so_an_id_token_hint_naming_it_matches_the_remembered_login(string db)
    {
        // Hydra's verifyAuthentication keeps it (CreateForcedObfuscatedLoginSession); matchesValueFromSession accepts a
        // hint naming it (GetForcedObfuscatedLoginSession). ObfuscateSubjectIdentifier never reads it back.
        await using var s = await StartAsync(db);
        var (id, secret) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}"],"subject_type":"pairwise"}""");
        var browser = new Browser(s);
        var first = await TokensAsync(s, id, secret, RedirectUri, ""","remember":true,"force_subject_identifier":"forced-subject" """, browser);
        Assert.Equal("forced-subject", IdTokenSubject(first));
        var hint = "&id_token_hint=" + Uri.EscapeDataString(first["id_token"]!.GetValue<string>());

        // The hint names neither the subject nor its pairwise identifier, yet goes on to the login app; a login that forces
        // the same identifier again satisfies fosite's ValidatePrompt.
        var again = await TokensAsync(s, id, secret, RedirectUri, ""","force_subject_identifier":"forced-subject" """, browser, hint);
        Assert.Equal("forced-subject", IdTokenSubject(again));

        // Without force_subject_identifier a later login gets the computed pairwise identifier, not the kept one.
        var later = await TokensAsync(s, id, secret, RedirectUri, "", browser);
        Assert.Equal(Pairwise("app.example:8443", "user-1"), IdTokenSubject(later));

        // Deleting the client deletes what was kept for it (Hydra's foreign key cascades).
        await using (var scope = s.Services.CreateAsyncScope())
            Assert.Equal(1, await scope.ServiceProvider.GetRequiredService<Gatehouse.Persistence.GatehouseDbContext>().OAuth2ForcedSubjectIdentifiers.CountAsync(f => f.ClientId == id));
        (await s.AdminWithKey.DeleteAsync($"/admin/clients/{id}")).EnsureSuccessStatusCode();
        await using (var scope = s.Services.CreateAsyncScope())
            Assert.Equal(0, await scope.ServiceProvider.GetRequiredService<Gatehouse.Persistence.GatehouseDbContext>().OAuth2ForcedSubjectIdentifiers.CountAsync(f => f.ClientId == id));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_pairwise_client_with_several_redirect_uris_and_no_sector_identifier_cannot_be_authorized(string db)
    {
        await using var s = await StartAsync(db);
        // Hydra stores such a client; it fails once the login is accepted, with the error sent to the client.
        var (id, _) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}","https://other.example/cb"],"subject_type":"pairwise"}""");
        var browser = new Browser(s);
        var toLogin = await browser.GetRedirectAsync($"/oauth2/auth?response_type=code&client_id={id}&redirect_uri={Uri.EscapeDataString(RedirectUri)}&scope=openid&state=state-123456");
        var accepted = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?login_challenge={Uri.EscapeDataString(Query(toLogin)["login_challenge"])}", """{"subject":"user-1"}""")).Json(HttpStatusCode.OK);
        var back = await browser.GetRedirectAsync(accepted["redirect_to"]!.GetValue<string>());
        Assert.StartsWith(RedirectUri + "?", back.ToString());
        var q = Query(back);
        Assert.Equal("invalid_request", q["error"]);
        Assert.EndsWith($"OAuth 2.0 Client {id} has multiple redirect_uris but no sector_identifier_uri was set which is not allowed when performing using subject type pairwise. Please reconfigure the OAuth 2.0 client properly.", q["error_description"]);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Subject_types_are_checked_against_the_configured_ones_with_hydras_words(string db)
    {
        await using var s = await StartAsync(db, configure: o => o.Oidc.DynamicClientRegistration.Enabled = true);
        var before = await ClientCountAsync(s);
        var wrong = await (await s.AdminWithKey.PostJson("/admin/clients", """{"subject_type":"secret"}""")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_client_metadata");
        Assert.EndsWith("Subject type secret is not supported by server, only [public pairwise] are allowed.", wrong["error_description"]!.GetValue<string>());
        // A client with JWT access tokens cannot be pairwise (Hydra's SubjectTypesSupported for the client's strategy).
        var jwt = await (await s.AdminWithKey.PostJson("/admin/clients", """{"subject_type":"pairwise","access_token_strategy":"jwt"}""")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_client_metadata");
        Assert.EndsWith("Subject type pairwise is not supported by server, only [public] are allowed.", jwt["error_description"]!.GetValue<string>());
        var registered = await (await s.Public.PostJson("/oauth2/register", """{"subject_type":"secret"}""")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_client_metadata");
        Assert.EndsWith("only [public pairwise] are allowed.", registered["error_description"]!.GetValue<string>());
        Assert.Equal(before, await ClientCountAsync(s));

        // A PATCH to a type not offered changes nothing.
        var (id, _) = await CreateClientAsync(s, """{"subject_type":"pairwise"}""");
        await (await s.AdminWithKey.PatchJson($"/admin/clients/{id}", """[{"op":"replace","path":"/subject_type","value":"secret"}]""")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_client_metadata");
        Assert.Equal("pairwise", (await (await s.AdminWithKey.GetAsync($"/admin/clients/{id}")).Json(HttpStatusCode.OK))["subject_type"]!.GetValue<string>());

        // With only pairwise offered, a client without a subject_type becomes pairwise.
        await using var onlyPairwise = await StartAsync(db, configure: o => o.Oidc.SubjectIdentifiers.SupportedTypes = ["pairwise"]);
        var c = await (await onlyPairwise.AdminWithKey.PostJson("/admin/clients", "{}")).Json(HttpStatusCode.Created);
        Assert.Equal("pairwise", c["subject_type"]!.GetValue<string>());
        var discovery = await (await onlyPairwise.Public.GetAsync("/.well-known/openid-configuration")).Json(HttpStatusCode.OK);
        Assert.Equal(["pairwise"], discovery["subject_types_supported"]!.AsArray().Select(x => x!.GetValue<string>()));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_sector_identifier_document_must_list_every_redirect_uri_and_names_the_sector(string db)
    {
        using var certificate = LoopbackCertificate();
        await using var sector = await HookReceiver.StartAsync(certificate);
        await using var s = await StartAsync(db, certificate, o => o.Oidc.DynamicClientRegistration.Enabled = true);
        Assert.StartsWith("https://127.0.0.1:", sector.BaseUrl);
        const string Other = "https://other.example/cb";
        var document = sector.On("/sector.json", 200, $$"""["{{RedirectUri}}","{{Other}}"]""");

        var (id, secret) = await CreateClientAsync(s, $$"""{"redirect_uris":["{{RedirectUri}}","{{Other}}"],"subject_type":"pairwise","sector_identifier_uri":"{{document}}"}""");
        Assert.Single(sector.Received("/sector.json"));
        var client = await (await s.AdminWithKey.GetAsync($"/admin/clients/{id}")).Json(HttpStatusCode.OK);
        Assert.Equal(document, client["sector_identifier_uri"]!.GetValue<string>());
        // Several redirect URIs are fine with a sector: the whole sector_identifier_uri is the sector identifier.
        var tokens = await TokensAsync(s, id, secret, Other);
        Assert.Equal(Pairwise(document, "user-1"), IdTokenSubject(tokens));
        Assert.Equal(Pairwise(document, "user-1"), await UserinfoSubjectAsync(s, tokens));

        // Bad documents and URLs: 400 with the reason, nothing stored or changed.
        var before = await ClientCountAsync(s);
        async Task<string> RefusedAsync(string sectorUri, string redirectUri = RedirectUri)
        {
            var e = await (await s.AdminWithKey.PostJson("/admin/clients", $$"""{"redirect_uris":["{{redirectUri}}"],"subject_type":"pairwise","sector_identifier_uri":"{{sectorUri}}"}""")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_client_metadata");
            return e["error_description"]!.GetValue<string>();
        }
        const string Generic = "The value of one of the Client Metadata fields is invalid and the server has rejected this request. Note that an Authorization Server MAY choose to substitute a valid value for any requested parameter of a Client's Metadata. ";
        Assert.Equal(Generic + "Redirect URL 'https://third.example/cb' does not match values from sector_identifier_uri.", await RefusedAsync(document, "https://third.example/cb"));
        Assert.Equal(Generic + "Value sector_identifier_uri must be an HTTPS URL but it is not.", await RefusedAsync(document.Replace("https://", "http://", StringComparison.Ordinal)));
        Assert.StartsWith(Generic + "Unable to connect to URL set by sector_identifier_uri: Get 'https://127.0.0.1:", await RefusedAsync($"https://127.0.0.1:{TestServer.FreePort()}/sector.json"));
        Assert.Equal(Generic + "Unable to decode values from sector_identifier_uri: json: cannot unmarshal object into Go value of type []string", await RefusedAsync(sector.On("/object.json", 200, """{"redirect_uris":[]}""")));
        Assert.Equal(Generic + "Unable to decode values from sector_identifier_uri: json: cannot unmarshal number into Go value of type string", await RefusedAsync(sector.On("/numbers.json", 200, "[1]")));
        Assert.StartsWith(Generic + "Unable to decode values from sector_identifier_uri: ", await RefusedAsync(sector.On("/html", 200, "<html>")));
        Assert.Equal(Generic + "Unable to decode values from sector_identifier_uri: EOF", await RefusedAsync(sector.On("/empty", 404)));
        Assert.Equal(Generic + "Array from sector_identifier_uri contains no items", await RefusedAsync(sector.On("/none.json", 200, "[]")));
        Assert.Equal(Generic + "Value of sector_identifier_uri could not be parsed because parse 'https://127.0.0.1/%zz': invalid URL escape '%zz'.", await RefusedAsync("https://127.0.0.1/%zz"));
        Assert.Equal(before, await ClientCountAsync(s));

        // The same checks on PATCH (the client keeps its document) and dynamic registration.
        var patched = await (await s.AdminWithKey.PatchJson($"/admin/clients/{id}", """[{"op":"add","path":"/redirect_uris/-","value":"https://third.example/cb"}]""")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_client_metadata");
        Assert.EndsWith("Redirect URL 'https://third.example/cb' does not match values from sector_identifier_uri.", patched["error_description"]!.GetValue<string>());
        Assert.Equal(2, (await (await s.AdminWithKey.GetAsync($"/admin/clients/{id}")).Json(HttpStatusCode.OK))["redirect_uris"]!.AsArray().Count);
        var registered = await (await s.Public.PostJson("/oauth2/register", $$"""{"redirect_uris":["https://third.example/cb"],"subject_type":"pairwise","sector_identifier_uri":"{{document}}"}""")).OAuth2Error(HttpStatusCode.BadRequest, "invalid_client_metadata");
        Assert.EndsWith("Redirect URL 'https://third.example/cb' does not match values from sector_identifier_uri.", registered["error_description"]!.GetValue<string>());
        var ok = await (await s.Public.PostJson("/oauth2/register", $$"""{"redirect_uris":["{{RedirectUri}}"],"subject_type":"pairwise","sector_identifier_uri":"{{document}}"}""")).Json(HttpStatusCode.Created);
        Assert.Equal("pairwise", ok["subject_type"]!.GetValue<string>());
        Assert.Equal(before + 1, await ClientCountAsync(s));
    }
}
