using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Persistence;
using Gatehouse.Tests.Hooks;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.SelfService.Oidc;

/// <summary>
/// One upstream provider, one web hook receiver and one Gatehouse per database for the FedCM tests: a <c>google</c> provider
/// (pointed at the local issuer) with <c>fedcm_config_url</c>, and a generic one with another client id and no FedCM.
/// Login and registration with oidc call a web hook (recording the transient payload), registration issues the session.
/// </summary>
public sealed class FedcmServerFixture : IAsyncDisposable
{
    public const string PlainClientId = "plain-client";
    public const string ConfigUrl = "https://accounts.idp.test/gsi/fedcm.json";

    private readonly Dictionary<string, Task<TestServer>> _servers = [];
    private readonly Lock _lock = new();
    private readonly Lazy<Task<TestOpenIdProvider>> _idp = new(TestOpenIdProvider.StartAsync);
    private readonly Lazy<Task<HookReceiver>> _hooks = new(HookReceiver.StartAsync);
    private readonly Lazy<Task<PresetHosts>> _hosts = new(PresetHosts.StartAsync);

    public const string NetIdClientId = "netid-client";
    public const string NetIdOrigin = "https://app.example.com";

    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    public Task<TestOpenIdProvider> Idp() => _idp.Value;

    public Task<HookReceiver> Hooks() => _hooks.Value;

    /// <summary>Stands in for <c>https://broker.netid.de</c> (the netid preset's fixed broker).</summary>
    public Task<PresetHosts> Hosts() => _hosts.Value;

    public async Task<TestServer> Get(string provider)
    {
        var idp = await Idp();
        var hooks = await Hooks();
        var hosts = await Hosts();
        Task<TestServer> server;
        lock (_lock)
        {
            if (!_servers.TryGetValue(provider, out server!))
            {
                var mapper = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(OidcServerFixture.Mapper));
                var hook = HookFixture.WebHook(new JsonObject
                {
                    ["url"] = hooks.On($"/fedcm/{provider}", 200),
                    ["body"] = HookFixture.Base64("function(ctx) { flow: ctx.flow.type, identity: ctx.identity.id, plan: std.get(std.get(ctx, 'transient_payload', {}), 'plan', 'none') }"),
                });
                server = TestServer.StartAsync(provider, o =>
                {
                    FlowServerFixture.Configure(o);
                    o.Selfservice.Flows.Registration.After.Oidc = new FlowAfterMethodOptions { Hooks = [hook, new HookConfig { Hook = "session" }] };
                    o.Selfservice.Flows.Login.After.Oidc = new FlowAfterMethodOptions { Hooks = [hook] };
                    o.Selfservice.Methods.Oidc.Enabled = true;
                    o.Selfservice.Methods.Oidc.Config.Providers =
                    [
                        new OidcProviderOptions
                        {
                            Id = "google", Provider = "google", ClientId = TestOpenIdProvider.ClientId, ClientSecret = TestOpenIdProvider.ClientSecret,
                            IssuerUrl = idp.Issuer, MapperUrl = mapper, FedcmConfigUrl = ConfigUrl,
                        },
                        new OidcProviderOptions
                        {
                            Id = "plain", Provider = "generic", ClientId = PlainClientId, ClientSecret = "plain-secret",
                            IssuerUrl = idp.Issuer, MapperUrl = mapper,
                        },
                        new OidcProviderOptions
                        {
                            Id = "netid", Provider = "netid", ClientId = NetIdClientId, ClientSecret = "netid-secret", IssuerUrl = "https://broker.netid.de/",
                            MapperUrl = mapper, FedcmConfigUrl = "https://netid.de/fedcm.json", NetIdTokenOriginHeader = NetIdOrigin,
                        },
                    ];
                }, services =>
                {
                    services.AddSingleton<TimeProvider>(Clock);
                    hosts.Install(services);
                });
                _servers[provider] = server;
            }
        }
        return await server;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _servers.Values)
        {
            if (s.IsCompletedSuccessfully) await s.Result.DisposeAsync();
        }
        if (_idp.IsValueCreated && _idp.Value.IsCompletedSuccessfully) await _idp.Value.Result.DisposeAsync();
        if (_hooks.IsValueCreated && _hooks.Value.IsCompletedSuccessfully) await _hooks.Value.Result.DisposeAsync();
        if (_hosts.IsValueCreated && _hosts.Value.IsCompletedSuccessfully) await _hosts.Value.Result.DisposeAsync();
    }
}

/// <summary>
/// FedCM (<c>createFedcmFlow</c> / <c>updateFedcmFlow</c>): a browser gets a CSRF token and per-provider nonces, the
/// provider's ID token carrying one of them signs it up (through the mapper) or in, with hooks and the session cookie;
/// every bad submit is refused in Kratos's envelope and changes nothing — the nonce stays usable, no identity appears.
/// </summary>
public sealed class FedcmTests(FedcmServerFixture fixture) : IClassFixture<FedcmServerFixture>
{
    private const string Parameters = "/self-service/fed-cm/parameters";
    private const string TokenRoute = "/self-service/fed-cm/token";

    private static string NewSubject() => "fedcm-" + Guid.NewGuid().ToString("N")[..10];

    private sealed record Issued(string CsrfToken, string Nonce, JsonObject Provider);

    /// <summary>The parameters for a browser: its CSRF token and the entry of the provider with <paramref name="clientId"/> (the google one by default).</summary>
    private static async Task<Issued> GetParameters(Browser browser, string clientId = TestOpenIdProvider.ClientId)
    {
        var answer = await (await browser.Client.GetAsync(Parameters)).Json(HttpStatusCode.OK);
        var provider = answer["providers"]!.AsArray().Single(p => (string?)p!["client_id"] == clientId)!.AsObject();
        return new Issued((string)answer["csrf_token"]!, (string)provider["nonce"]!, provider);
    }

    private async Task<string> Token(string subject, string? nonce, Action<JsonObject>? edit = null)
    {
        var idp = await fixture.Idp();
        var claims = idp.Claims(subject, fixture.Clock.GetUtcNow(), nonce);
        edit?.Invoke(claims);
        return idp.Sign(claims);
    }

    private static Task<HttpResponseMessage> Submit(Browser browser, JsonObject body) => browser.Client.PostJson(TokenRoute, body);

    private static JsonObject Body(string? token, string? csrf, JsonObject? transientPayload = null)
    {
        var body = new JsonObject();
        if (token is not null) body["token"] = token;
        if (csrf is not null) body["csrf_token"] = csrf;
        if (transientPayload is not null) body["transient_payload"] = transientPayload;
        return body;
    }

    private static async Task<int> IdentitiesWith(TestServer s, string email) =>
        (await (await s.AdminWithKey.GetAsync($"/admin/identities?credentials_identifier={Uri.EscapeDataString(email)}")).Json(HttpStatusCode.OK)).AsArray().Count;

    private static async Task<List<(byte[] Signature, byte[] Browser)>> StoredNonces(TestServer s)
    {
        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        return [.. (await db.FedcmNonces.AsNoTracking().ToListAsync()).Select(n => (n.Signature, n.BrowserSignature))];
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Parameters_list_the_fedcm_providers_with_a_fresh_nonce_bound_to_the_browser_and_its_csrf_token(string provider)
    {
        var s = await fixture.Get(provider);
        using var browser = new Browser(s.PublicUrl, acceptJson: true);
        var first = await GetParameters(browser);
        Assert.Equal(FlowTestHelpers.CsrfCookie(browser), first.CsrfToken);
        Assert.Equal(FedcmServerFixture.ConfigUrl, (string?)first.Provider["config_url"]);
        Assert.Equal(TestOpenIdProvider.ClientId, (string?)first.Provider["client_id"]);
        Assert.Equal(43, first.Nonce.Length);
        Assert.Equal(first.Nonce, (string?)first.Provider["parameters"]!["nonce"]);
        // Only the providers with fedcm_config_url are listed (not "plain"), with the Provider model's fields and nothing else.
        Assert.Equal(["config_url", "client_id", "nonce", "parameters"], first.Provider.Select(p => p.Key));
        var all = await (await browser.Client.GetAsync(Parameters)).Json(HttpStatusCode.OK);
        Assert.Equal([TestOpenIdProvider.ClientId, FedcmServerFixture.NetIdClientId], all["providers"]!.AsArray().Select(p => (string?)p!["client_id"]));

        var second = await GetParameters(browser);
        Assert.Equal(first.CsrfToken, second.CsrfToken);
        Assert.NotEqual(first.Nonce, second.Nonce);

        // Stored are digests only: of each nonce and of the browser's token, never the values.
        var stored = await StoredNonces(s);
        var browserDigest = SHA256.HashData(Encoding.UTF8.GetBytes(first.CsrfToken));
        Assert.Equal(6, stored.Count(n => n.Browser.SequenceEqual(browserDigest)));
        foreach (var nonce in new[] { first.Nonce, second.Nonce })
            Assert.Contains(stored, n => n.Signature.SequenceEqual(SHA256.HashData(Encoding.UTF8.GetBytes(nonce))) && n.Browser.SequenceEqual(browserDigest));
        Assert.DoesNotContain(stored, n => n.Signature.SequenceEqual(Encoding.UTF8.GetBytes(first.Nonce)) || n.Browser.SequenceEqual(Encoding.UTF8.GetBytes(first.CsrfToken)));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_token_signs_up_through_the_mapper_then_signs_in_the_same_identity_with_hooks_and_the_session_cookie(string provider)
    {
        var s = await fixture.Get(provider);
        var hooks = await fixture.Hooks();
        var subject = NewSubject();

        using var browser = new Browser(s.PublicUrl, acceptJson: true);
        var issued = await GetParameters(browser);
        var signUp = await (await Submit(browser, Body(await Token(subject, issued.Nonce), issued.CsrfToken, new JsonObject { ["plan"] = "pro" }))).Json(HttpStatusCode.OK);
        // successfulNativeLogin for a browser: the session, no token (the browser has the cookie).
        Assert.Null(signUp["session_token"]);
        var identityId = (string)signUp["session"]!["identity"]!["id"]!;
        Assert.Equal($"{subject}@idp.test", (string?)signUp["session"]!["identity"]!["traits"]!["email"]);
        var method = signUp["session"]!["authentication_methods"]![0]!;
        Assert.Equal(("oidc", "google"), ((string?)method["method"], (string?)method["provider"]));
        Assert.NotNull(browser.Cookie("ory_kratos_session"));
        // Signing in gave the browser a new anti-CSRF token, as a login does.
        Assert.NotEqual(issued.CsrfToken, FlowTestHelpers.CsrfCookie(browser));

        var admin = await (await s.AdminWithKey.GetAsync($"/admin/identities/{identityId}?include_credential=oidc")).Json(HttpStatusCode.OK);
        Assert.Equal($"google:{subject}", (string?)admin["credentials"]!["oidc"]!["identifiers"]![0]);
        Assert.Equal(subject, (string?)admin["metadata_public"]!["subject"]);

        var hook = await hooks.WaitForAsync($"/fedcm/{provider}", r => r.Body.Contains(identityId, StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        var sent = JsonNode.Parse(hook.Body)!;
        Assert.True(("browser", "pro") == ((string?)sent["flow"], (string?)sent["plan"]), hook.Body);

        // Again, from another browser without a session: the same identity signs in.
        using var other = new Browser(s.PublicUrl, acceptJson: true);
        var again = await GetParameters(other);
        var signIn = await (await Submit(other, Body(await Token(subject, again.Nonce), again.CsrfToken))).Json(HttpStatusCode.OK);
        Assert.Equal(identityId, (string?)signIn["session"]!["identity"]!["id"]);
        Assert.Equal(1, await IdentitiesWith(s, $"{subject}@idp.test"));

        // whoami with the cookie the sign-in set.
        var whoami = await (await other.Client.GetAsync("/sessions/whoami")).Json(HttpStatusCode.OK);
        Assert.Equal(identityId, (string?)whoami["identity"]!["id"]);

        // A browser that is signed in already does not sign in again.
        var signedIn = await GetParameters(other);
        var refused = await (await Submit(other, Body(await Token(subject, signedIn.Nonce), signedIn.CsrfToken))).Error(HttpStatusCode.BadRequest);
        Assert.Equal("session_already_available", (string?)refused["id"]);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_form_post_is_redirected_to_the_return_url_with_the_session_cookie(string provider)
    {
        var s = await fixture.Get(provider);
        var subject = NewSubject();
        using var browser = new Browser(s.PublicUrl);
        var answer = await browser.Client.GetAsync(Parameters);
        var issued = JsonNode.Parse(await answer.Content.ReadAsStringAsync())!;
        var nonce = (string)issued["providers"]![0]!["nonce"]!;
        var posted = await browser.PostForm(TokenRoute, [new("token", await Token(subject, nonce)), new("csrf_token", (string)issued["csrf_token"]!)]);
        Assert.Equal(HttpStatusCode.SeeOther, posted.StatusCode);
        Assert.Equal("http://app.example.com/welcome", posted.Headers.Location!.ToString());
        Assert.NotNull(browser.Cookie("ory_kratos_session"));
        Assert.Equal(1, await IdentitiesWith(s, $"{subject}@idp.test"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Every_bad_submit_is_refused_and_leaves_the_nonce_usable_and_no_identity(string provider)
    {
        var s = await fixture.Get(provider);
        var idp = await fixture.Idp();
        var subject = NewSubject();
        using var browser = new Browser(s.PublicUrl, acceptJson: true);
        var issued = await GetParameters(browser);
        var good = await Token(subject, issued.Nonce);

        async Task<JsonObject> Refused(HttpStatusCode status, JsonObject body, Browser? from = null) => await (await Submit(from ?? browser, body)).Error(status);

        // CSRF: missing, wrong, or the right token from a browser without the cookie.
        Assert.Equal("security_csrf_violation", (string?)(await Refused(HttpStatusCode.Forbidden, Body(good, null)))["id"]);
        Assert.Equal("security_csrf_violation", (string?)(await Refused(HttpStatusCode.Forbidden, Body(good, "not-the-token")))["id"]);
        using (var stranger = new Browser(s.PublicUrl, acceptJson: true))
            Assert.Equal("security_csrf_violation", (string?)(await Refused(HttpStatusCode.Forbidden, Body(good, issued.CsrfToken), stranger))["id"]);

        // No token.
        Assert.Contains("token", (string?)(await Refused(HttpStatusCode.BadRequest, Body(null, issued.CsrfToken)))["reason"], StringComparison.Ordinal);

        // Tokens that do not verify: 403 "Could not verify id_token" with the cause.
        async Task CouldNotVerify(string token, string cause)
        {
            var error = await Refused(HttpStatusCode.Forbidden, Body(token, issued.CsrfToken));
            Assert.Equal("Could not verify id_token", (string?)error["reason"]);
            Assert.Contains(cause, (string?)error["details"]!["error"], StringComparison.Ordinal);
        }
        // Not a JWT: only netID's broker could make something of it (its exchange), and it does not.
        await CouldNotVerify("not-a-jwt", "FedCM token exchange");
        await CouldNotVerify(idp.Sign(idp.Claims(subject, fixture.Clock.GetUtcNow(), issued.Nonce), new Microsoft.IdentityModel.Tokens.SigningCredentials(TestOpenIdProvider.NewKey("key-1"), "RS256")), "signature");
        await CouldNotVerify(await Token(subject, issued.Nonce, c => c["aud"] = "someone-else"), "no provider with FedCM");
        await CouldNotVerify(await Token(subject, issued.Nonce, c => c["aud"] = FedcmServerFixture.PlainClientId), "\"plain\", which has no fedcm_config_url");
        await CouldNotVerify(await Token(subject, issued.Nonce, c => c["exp"] = fixture.Clock.GetUtcNow().AddSeconds(-1).ToUnixTimeSeconds()), "expired");
        await CouldNotVerify(await Token(subject, issued.Nonce, c => c["iss"] = "https://elsewhere.test"), "issuer");

        // Nonces: none in the token, another than the body's, one never issued, one issued to another browser.
        Assert.Equal("No nonce was included in the id_token but is required by the provider",
            (string?)(await Refused((HttpStatusCode)502, Body(await Token(subject, null), issued.CsrfToken)))["reason"]);
        var mismatch = Body(good, issued.CsrfToken);
        mismatch["nonce"] = "another-nonce";
        Assert.Equal("The supplied nonce does not match the nonce from the id_token", (string?)(await Refused((HttpStatusCode)502, mismatch))["reason"]);
        Assert.Contains("was not issued to this browser", (string?)(await Refused(HttpStatusCode.Forbidden, Body(await Token(subject, "never-issued"), issued.CsrfToken)))["reason"], StringComparison.Ordinal);
        using (var other = new Browser(s.PublicUrl, acceptJson: true))
        {
            var theirs = await GetParameters(other);
            Assert.Contains("was not issued to this browser", (string?)(await Refused(HttpStatusCode.Forbidden, Body(await Token(subject, theirs.Nonce), issued.CsrfToken)))["reason"], StringComparison.Ordinal);
        }

        Assert.Equal(0, await IdentitiesWith(s, $"{subject}@idp.test"));
        Assert.Null(browser.Cookie("ory_kratos_session"));

        // None of that used the nonce up: the good token (with the nonce in the body too) still signs up.
        var body = Body(good, issued.CsrfToken);
        body["nonce"] = issued.Nonce;
        Assert.Equal(HttpStatusCode.OK, (await Submit(browser, body)).StatusCode);
        Assert.Equal(1, await IdentitiesWith(s, $"{subject}@idp.test"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_nonce_is_used_once(string provider)
    {
        var s = await fixture.Get(provider);
        var subject = NewSubject();
        using var browser = new Browser(s.PublicUrl, acceptJson: true);
        var issued = await GetParameters(browser);
        var token = await Token(subject, issued.Nonce);
        Assert.Equal(HttpStatusCode.OK, (await Submit(browser, Body(token, issued.CsrfToken))).StatusCode);

        // The same request again, with the browser's cookie as it was (someone who copied both): refused.
        using var replay = new Browser(s.PublicUrl, acceptJson: true);
        replay.Cookies.Add(new Uri(s.PublicUrl), new Cookie(s.Services.GetRequiredService<Gatehouse.SelfService.Csrf.CsrfTokens>().CookieName, issued.CsrfToken));
        var error = await (await Submit(replay, Body(token, issued.CsrfToken))).Error(HttpStatusCode.Forbidden);
        Assert.Contains("already used", (string?)error["reason"], StringComparison.Ordinal);
        Assert.Null(replay.Cookie("ory_kratos_session"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_nonce_expires_with_the_login_lifespan(string provider)
    {
        var s = await fixture.Get(provider);
        var subject = NewSubject();
        using var browser = new Browser(s.PublicUrl, acceptJson: true);
        var issued = await GetParameters(browser);
        fixture.Clock.Advance(s.Options.Selfservice.Flows.Login.Lifespan + TimeSpan.FromSeconds(1));
        // The token itself is fresh (signed now): only the nonce is too old.
        var error = await (await Submit(browser, Body(await Token(subject, issued.Nonce), issued.CsrfToken))).Error(HttpStatusCode.Gone);
        Assert.Equal("self_service_flow_expired", (string?)error["id"]);
        Assert.Equal(0, await IdentitiesWith(s, $"{subject}@idp.test"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_registration_the_mapper_cannot_complete_answers_the_registration_flow_and_creates_nothing(string provider)
    {
        var s = await fixture.Get(provider);
        var subject = NewSubject();
        using var browser = new Browser(s.PublicUrl, acceptJson: true);
        var issued = await GetParameters(browser);
        // No e-mail claim: the mapper leaves out the trait the schema requires.
        var answer = await Submit(browser, Body(await Token(subject, issued.Nonce, c => c.Remove("email")), issued.CsrfToken));
        var flow = await answer.Json(HttpStatusCode.BadRequest);
        Assert.Equal("registration", (string?)flow["ui"]!["action"]!.GetValue<string>().Split('/', '?')[4]);
        Assert.Equal("browser", (string?)flow["type"]);
        var continueButton = flow["ui"]!["nodes"]!.AsArray().Single(n => (string?)n!["attributes"]!["name"] == "provider");
        Assert.Equal("google", (string?)continueButton!["attributes"]!["value"]);
        Assert.Contains(flow["ui"]!["nodes"]!.AsArray(), n => (string?)n!["attributes"]!["name"] == "traits.email" && n["messages"]!.AsArray().Count > 0);
        Assert.Null(browser.Cookie("ory_kratos_session"));
        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        Assert.False(await db.CredentialIdentifiers.AnyAsync(i => i.Identifier == "google:" + subject));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_netid_assertion_is_exchanged_at_the_broker_for_the_id_token_that_signs_up(string provider)
    {
        var s = await fixture.Get(provider);
        var hosts = await fixture.Hosts();
        var key = PresetHosts.NewKey();
        const string Broker = "https://broker.netid.de";
        hosts.OpenIdIssuer(Broker, key);
        var subject = NewSubject();
        var assertion = "netid-fedcm-" + Guid.NewGuid().ToString("N");
        using var browser = new Browser(s.PublicUrl, acceptJson: true);
        var issued = await GetParameters(browser, FedcmServerFixture.NetIdClientId);
        Assert.Equal("https://netid.de/fedcm.json", (string?)issued.Provider["config_url"]);
        var now = fixture.Clock.GetUtcNow();
        hosts.On("POST https://broker.netid.de/token", c => c.Form.GetValueOrDefault("grant_type") == "netid_fedcm" && c.Form.GetValueOrDefault("fedcm_token") == assertion
            && c.Headers.GetValueOrDefault("origin") == FedcmServerFixture.NetIdOrigin
            ? Results.Json(new
            {
                id_token = PresetHosts.Sign(new JsonObject
                {
                    ["iss"] = Broker, ["aud"] = FedcmServerFixture.NetIdClientId, ["sub"] = subject, ["nonce"] = issued.Nonce,
                    ["email"] = $"{subject}@idp.test", ["email_verified"] = true,
                    ["iat"] = now.ToUnixTimeSeconds(), ["exp"] = now.AddMinutes(5).ToUnixTimeSeconds(),
                }, key),
            })
            : Results.Json(new { error = "invalid_grant" }, statusCode: 400));

        // A token the broker refuses is not verified (and uses nothing up).
        var refused = await (await Submit(browser, Body("something-else", issued.CsrfToken))).Error(HttpStatusCode.Forbidden);
        Assert.Equal("Could not verify id_token", (string?)refused["reason"]);
        Assert.Contains("invalid_grant", (string?)refused["details"]!["error"], StringComparison.Ordinal);

        var signedUp = await (await Submit(browser, Body(assertion, issued.CsrfToken))).Json(HttpStatusCode.OK);
        var identityId = (string)signedUp["session"]!["identity"]!["id"]!;
        Assert.Equal($"{subject}@idp.test", (string?)signedUp["session"]!["identity"]!["traits"]!["email"]);
        var admin = await (await s.AdminWithKey.GetAsync($"/admin/identities/{identityId}?include_credential=oidc")).Json(HttpStatusCode.OK);
        Assert.Equal($"netid:{subject}", (string?)admin["credentials"]!["oidc"]!["identifiers"]![0]);
        // The credential keeps the broker's ID token, not the browser's assertion.
        Assert.Equal(3, ((string)admin["credentials"]!["oidc"]!["config"]!["providers"]![0]!["initial_id_token"]!).Split('.').Length);
        Assert.Contains(hosts.To("POST https://broker.netid.de/token"), c => c.Form.GetValueOrDefault("fedcm_token") == assertion);
    }
}
