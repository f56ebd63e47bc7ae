using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService.Oidc;

/// <summary>One upstream provider and one Gatehouse per database with the oidc method on it, shared by a class's tests.</summary>
public sealed class OidcServerFixture : IAsyncDisposable
{
    public const string Mapper = """
        local claims = std.extVar('claims');
        {
          identity: {
            traits: { [if 'email' in claims then 'email' else null]: claims.email },
            verified_addresses: if 'email' in claims && claims.email_verified then [{ via: 'email', value: claims.email }] else [],
            metadata_public: { subject: claims.sub },
          },
        }
        """;

    /// <summary>
    /// The mapper of the <c>update_identity_on_login: automatic</c> server: the name claim as first name, the e-mail
    /// verified when the provider says so, and a sign-in count kept in <c>metadata_public</c> from
    /// <c>std.extVar('identity')</c>.
    /// </summary>
    public const string SyncMapper = """
        local claims = std.extVar('claims');
        local current = std.extVar('identity');
        {
          identity: {
            traits: { email: claims.email, [if 'name' in claims then 'name' else null]: { first: claims.name } },
            verified_addresses: if claims.email_verified then [{ via: 'email', value: claims.email }] else [],
            metadata_public: { subject: claims.sub, logins: std.get(current.metadata_public, 'logins', 0) + 1 },
          },
        }
        """;

    private readonly Dictionary<string, Task<TestServer>> _servers = [];
    private readonly Lock _lock = new();
    private Task<TestOpenIdProvider>? _idp;

    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    /// <summary>Lines up concurrent reads of one flow (disarmed unless a test arms it).</summary>
    public FlowReadGate Gate { get; } = new();

    public Task<TestOpenIdProvider> Idp()
    {
        lock (_lock) return _idp ??= TestOpenIdProvider.StartAsync();
    }

    /// <summary>
    /// A schema whose e-mail is only a verification and recovery address (no login identifier): a social sign-up with it
    /// collides with another account on the address alone.
    /// </summary>
    public const string ContactSchema = """
        {
          "$schema": "http://json-schema.org/draft-07/schema#",
          "type": "object",
          "properties": {
            "traits": {
              "type": "object",
              "properties": {
                "email": {
                  "type": "string", "format": "email",
                  "ory.sh/kratos": { "verification": { "via": "email" }, "recovery": { "via": "email" } }
                }
              },
              "required": ["email"]
            }
          }
        }
        """;

    /// <summary>
    /// The server for a database; <paramref name="loginHints"/>: another one with <c>registration.login_hints</c> on;
    /// <paramref name="legacyOidcGroup"/>: another with <c>feature_flags.legacy_oidc_registration_node_group</c>.
    /// </summary>
    /// <param name="cipher">Another server with this <c>ciphers.algorithm</c>.</param>
    /// <param name="updateOnLogin">Another server whose <c>test-idp</c> has <c>update_identity_on_login: automatic</c> and <see cref="SyncMapper"/>.</param>
    public async Task<TestServer> Get(string provider, bool loginHints = false, bool legacyOidcGroup = false, string? cipher = null, bool updateOnLogin = false)
    {
        var idp = await Idp();
        Task<TestServer> server;
        var key = provider + (loginHints ? "/hints" : "") + (legacyOidcGroup ? "/legacy-group" : "") + (cipher is null ? "" : "/cipher=" + cipher) + (updateOnLogin ? "/update-on-login" : "");
        lock (_lock)
        {
            if (!_servers.TryGetValue(key, out server!))
            {
                server = TestServer.StartAsync(provider, o =>
                {
                    FlowServerFixture.Configure(o);
                    o.Ciphers.Algorithm = cipher;
                    o.Selfservice.Flows.Registration.LoginHints = loginHints;
                    o.FeatureFlags.LegacyOidcRegistrationNodeGroup = legacyOidcGroup;
                    o.Identity.Schemas = [.. o.Identity.Schemas, new IdentitySchemaEntry
                    {
                        Id = "contact", Url = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(ContactSchema)), SelfserviceSelectable = true,
                    }];
                    o.Selfservice.Flows.Registration.After.Oidc = new FlowAfterMethodOptions { Hooks = [new HookConfig { Hook = "session" }] };
                    o.Selfservice.Methods.Oidc.Enabled = true;
                    o.Selfservice.Methods.Oidc.Config.Providers =
                    [
                        new OidcProviderOptions
                        {
                            Id = "test-idp", Provider = "generic", Label = "Test IdP", ClientId = TestOpenIdProvider.ClientId, ClientSecret = TestOpenIdProvider.ClientSecret,
                            IssuerUrl = idp.Issuer, MapperUrl = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(updateOnLogin ? SyncMapper : Mapper)), Scope = ["email"],
                            // A sign-in whose ID token says the provider did multi-factor authentication is aal2.
                            Aal2AcrValues = ["urn:test:loa:2"], Aal2AmrValues = ["hwk", "otp"],
                            UpdateIdentityOnLogin = updateOnLogin ? "automatic" : "never",
                        },
                        new OidcProviderOptions
                        {
                            // Kratos's google preset (native sign-in with an ID token), here with the test provider as issuer.
                            Id = "native", Provider = "google", Label = "Native", ClientId = TestOpenIdProvider.ClientId, ClientSecret = TestOpenIdProvider.ClientSecret,
                            IssuerUrl = idp.Issuer, MapperUrl = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(Mapper)), Scope = ["email"],
                        },
                        new OidcProviderOptions
                        {
                            // The same provider with opt-in automatic linking.
                            Id = "auto", Provider = "generic", Label = "Auto", ClientId = TestOpenIdProvider.ClientId, ClientSecret = TestOpenIdProvider.ClientSecret,
                            IssuerUrl = idp.Issuer, MapperUrl = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(Mapper)), Scope = ["email"],
                            AccountLinkingMode = "automatic",
                        },
                        new OidcProviderOptions
                        {
                            Id = "down", Provider = "generic", ClientId = "x", ClientSecret = "y",
                            // Nothing listens on port 1 (privileged, never handed out): connections are refused at once.
                            IssuerUrl = "http://127.0.0.1:1", MapperUrl = "base64://e30=",
                        },
                    ];
                }, services =>
                {
                    services.AddSingleton<TimeProvider>(Clock);
                    FlowReadGate.Install(services, Gate);
                });
                _servers[key] = server;
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
        if (_idp is { IsCompletedSuccessfully: true }) await _idp.Result.DisposeAsync();
    }
}

/// <summary>
/// The oidc method end to end in-process: a browser submits a provider button, Gatehouse sends it upstream with an
/// encrypted state, a nonce and PKCE, and the callback signs it up (unknown subject), in again (known subject), or refuses:
/// a replayed or foreign state, a wrong nonce, a refused code, a provider that is down — writing nothing.
/// </summary>
public sealed class OidcCallbackTests(OidcServerFixture fixture) : IClassFixture<OidcServerFixture>
{
    private sealed record Upstream(string State, string Nonce, string Challenge, string RedirectUri, string FlowId);

    /// <summary>Starts a browser flow of <paramref name="kind"/> and clicks the provider's button: where Gatehouse sends the browser.</summary>
    private static async Task<Upstream> ClickProvider(TestServer s, Browser browser, string kind, string provider = "test-idp", string query = "")
    {
        var init = await browser.Client.GetAsync($"/self-service/{kind}/browser{query}");
        Assert.Equal(HttpStatusCode.SeeOther, init.StatusCode);
        var flowId = QueryHelpers.ParseQuery(init.Headers.Location!.Query)["flow"].ToString();
        using var fetch = new HttpRequestMessage(HttpMethod.Get, $"/self-service/{kind}/flows?id={flowId}");
        fetch.Headers.Accept.ParseAdd("application/json");
        var flow = await (await browser.Client.SendAsync(fetch)).Json(HttpStatusCode.OK);
        var button = flow["ui"]!["nodes"]!.AsArray().Single(n => (string?)n!["group"] == "oidc" && (string?)n["attributes"]!["value"] == provider);
        Assert.Equal(kind == "login" ? 1010002 : 1040002, (long)button!["meta"]!["label"]!["id"]!);
        var submit = await browser.PostForm($"/self-service/{kind}?flow={flowId}", [new("csrf_token", Csrf(flow)), new("provider", provider)]);
        Assert.Equal(HttpStatusCode.SeeOther, submit.StatusCode);
        var to = submit.Headers.Location!;
        var q = QueryHelpers.ParseQuery(to.Query);
        return new Upstream(q["state"].ToString(), q["nonce"].ToString(), q["code_challenge"].ToString(), q["redirect_uri"].ToString(), flowId);
    }

    private async Task<HttpResponseMessage> Callback(Browser browser, Upstream up, JsonObject claims)
    {
        var idp = await fixture.Idp();
        var code = idp.AddCode(new TestOpenIdProvider.Grant(claims, up.Challenge, up.RedirectUri));
        return await browser.Client.GetAsync($"/self-service/methods/oidc/callback/test-idp?state={Uri.EscapeDataString(up.State)}&code={code}");
    }

    /// <summary>A browser flow of <paramref name="kind"/> through the test provider, its ID token's standard claims for <paramref name="subject"/> edited by <paramref name="claims"/>: the callback's answer.</summary>
    private async Task<HttpResponseMessage> SignInWith(TestServer s, Browser browser, string kind, string subject, Action<JsonObject> claims)
    {
        var idp = await fixture.Idp();
        var up = await ClickProvider(s, browser, kind);
        var token = idp.Claims(subject, fixture.Clock.GetUtcNow(), up.Nonce);
        claims(token);
        return await Callback(browser, up, token);
    }

    private static async Task<int> IdentitiesWith(TestServer s, string email) =>
        (await (await s.AdminWithKey.GetAsync($"/admin/identities?credentials_identifier={Uri.EscapeDataString(email)}")).Json(HttpStatusCode.OK)).AsArray().Count;

    private static async Task<JsonNode> Whoami(TestServer s, Browser browser)
    {
        using var req = new HttpRequestMessage(HttpMethod.Get, "/sessions/whoami");
        req.Headers.Accept.ParseAdd("application/json");
        return await (await browser.Client.SendAsync(req)).Json(HttpStatusCode.OK);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_unknown_subject_signs_up_from_a_login_flow_and_signs_in_again_as_the_same_identity(string provider)
    {
        var s = await fixture.Get(provider);
        var idp = await fixture.Idp();
        var subject = "sub-" + Guid.NewGuid().ToString("N")[..10];

        using var first = new Browser(s.PublicUrl);
        var up = await ClickProvider(s, first, "login");
        Assert.Equal($"{s.PublicUrl}/self-service/methods/oidc/callback/test-idp", up.RedirectUri);
        var done = await Callback(first, up, idp.Claims(subject, fixture.Clock.GetUtcNow(), up.Nonce));
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        Assert.Equal("http://app.example.com/welcome", done.Headers.Location!.ToString());
        var session = await Whoami(s, first);
        var identityId = (string)session["identity"]!["id"]!;
        Assert.Equal($"{subject}@idp.test", (string?)session["identity"]!["traits"]!["email"]);
        Assert.True((bool)session["identity"]!["verifiable_addresses"]![0]!["verified"]!);
        Assert.Equal(subject, (string?)session["identity"]!["metadata_public"]!["subject"]);
        Assert.Equal("oidc", (string?)session["authentication_methods"]![0]!["method"]);

        // Kratos's credential shape; the upstream tokens decrypted only with include_credential=oidc, encrypted at rest.
        var admin = await (await s.AdminWithKey.GetAsync($"/admin/identities/{identityId}?include_credential=oidc")).Json(HttpStatusCode.OK);
        var credential = admin["credentials"]!["oidc"]!;
        Assert.Equal($"test-idp:{subject}", (string?)credential["identifiers"]![0]);
        var entry = credential["config"]!["providers"]![0]!;
        Assert.Equal(subject, (string?)entry["subject"]);
        Assert.Equal("test-idp", (string?)entry["provider"]);
        Assert.Equal(3, ((string)entry["initial_id_token"]!).Split('.').Length);
        Assert.StartsWith("at-", (string?)entry["initial_access_token"], StringComparison.Ordinal);
        Assert.StartsWith("rt-", (string?)entry["initial_refresh_token"], StringComparison.Ordinal);
        var plain = await (await s.AdminWithKey.GetAsync($"/admin/identities/{identityId}")).Json(HttpStatusCode.OK);
        Assert.Null(plain["credentials"]!["oidc"]!["config"]);

        // Signing in again (a registration flow this time: a known subject turns it into a login).
        using var second = new Browser(s.PublicUrl);
        var up2 = await ClickProvider(s, second, "registration");
        Assert.Equal(HttpStatusCode.SeeOther, (await Callback(second, up2, idp.Claims(subject, fixture.Clock.GetUtcNow(), up2.Nonce))).StatusCode);
        Assert.Equal(identityId, (string?)(await Whoami(s, second))["identity"]!["id"]);
        Assert.Equal(1, await IdentitiesWith(s, $"{subject}@idp.test"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_replayed_state_is_refused(string provider)
    {
        var s = await fixture.Get(provider);
        var idp = await fixture.Idp();
        var subject = "sub-" + Guid.NewGuid().ToString("N")[..10];
        using var starter = new Browser(s.PublicUrl);
        var up = await ClickProvider(s, starter, "registration");
        Assert.Equal(HttpStatusCode.SeeOther, (await Callback(starter, up, idp.Claims(subject, fixture.Clock.GetUtcNow(), up.Nonce))).StatusCode);
        // The same state again, in the same browser, with a fresh code: the flow no longer waits for it.
        starter.Client.DefaultRequestHeaders.Accept.Clear();
        starter.Client.DefaultRequestHeaders.Accept.ParseAdd("application/json");
        var replay = await Callback(starter, up, idp.Claims(subject, fixture.Clock.GetUtcNow(), up.Nonce));
        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        Assert.Equal(1, await IdentitiesWith(s, $"{subject}@idp.test"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_state_brought_back_by_another_browser_is_refused_and_nothing_is_written(string provider)
    {
        var s = await fixture.Get(provider);
        var idp = await fixture.Idp();
        var subject = "sub-" + Guid.NewGuid().ToString("N")[..10];
        using var victim = new Browser(s.PublicUrl);
        var up = await ClickProvider(s, victim, "login");
        using var attacker = new Browser(s.PublicUrl, acceptJson: true);
        var res = await Callback(attacker, up, idp.Claims(subject, fixture.Clock.GetUtcNow(), up.Nonce));
        var error = await res.Error(HttpStatusCode.Forbidden);
        Assert.Equal("security_csrf_violation", (string?)error["id"]);
        Assert.Equal(0, await IdentitiesWith(s, $"{subject}@idp.test"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_wrong_nonce_shows_the_reason_on_the_flow_and_creates_nothing(string provider)
    {
        var s = await fixture.Get(provider);
        var idp = await fixture.Idp();
        var subject = "sub-" + Guid.NewGuid().ToString("N")[..10];
        using var browser = new Browser(s.PublicUrl);
        var up = await ClickProvider(s, browser, "registration");
        var res = await Callback(browser, up, idp.Claims(subject, fixture.Clock.GetUtcNow(), "some-other-nonce"));
        Assert.Equal(HttpStatusCode.SeeOther, res.StatusCode);
        Assert.Contains($"flow={up.FlowId}", res.Headers.Location!.Query, StringComparison.Ordinal);
        using var fetch = new HttpRequestMessage(HttpMethod.Get, $"/self-service/registration/flows?id={up.FlowId}");
        fetch.Headers.Accept.ParseAdd("application/json");
        var flow = await (await browser.Client.SendAsync(fetch)).Json(HttpStatusCode.OK);
        var message = flow["ui"]!["messages"]![0]!;
        Assert.Equal(4000001, (long)message["id"]!);
        Assert.Contains("nonce", (string?)message["text"], StringComparison.Ordinal);
        Assert.Equal(0, await IdentitiesWith(s, $"{subject}@idp.test"));
        Assert.Null(browser.Cookie("ory_kratos_session"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_tampered_state_or_another_providers_callback_is_a_clear_400(string provider)
    {
        var s = await fixture.Get(provider);
        using var browser = new Browser(s.PublicUrl, acceptJson: true);
        var tampered = await browser.Client.GetAsync("/self-service/methods/oidc/callback/test-idp?state=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&code=x");
        Assert.Contains("state parameter is invalid", (string?)(await tampered.Error(HttpStatusCode.BadRequest))["reason"], StringComparison.Ordinal);
        var missing = await browser.Client.GetAsync("/self-service/methods/oidc/callback/test-idp?code=x");
        Assert.Contains("did not return the state", (string?)(await missing.Error(HttpStatusCode.BadRequest))["reason"], StringComparison.Ordinal);

        using var starter = new Browser(s.PublicUrl);
        var up = await ClickProvider(s, starter, "login");
        var other = await starter.Client.GetAsync($"/self-service/methods/oidc/callback/down?state={Uri.EscapeDataString(up.State)}&code=x");
        Assert.Equal(HttpStatusCode.SeeOther, other.StatusCode); // browsers are sent to the error page
        Assert.Contains("/ui/error", other.Headers.Location!.ToString(), StringComparison.Ordinal);
    }

    private static async Task<string?> InternalContext(TestServer s, string flowId)
    {
        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Gatehouse.Persistence.GatehouseDbContext>();
        return (await db.Flows.AsNoTracking().SingleAsync(f => f.Id == Guid.Parse(flowId))).InternalContext;
    }

    private const string DownMessage = "The OpenID Connect provider could not be reached at http://127.0.0.1:1/.well-known/openid-configuration: ";

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_provider_that_is_down_at_the_submit_leaves_every_flow_unchanged_with_a_clear_message(string provider)
    {
        // Kratos v26.2 (provider_generic_oidc.go provider) answers this with herodot's 500 invalid_configuration, reason
        // "Unable to initialize OpenID Connect Provider: <dial error>" (a browser goes to the error UI). Gatehouse keeps the
        // flow usable instead: 400 with 4000001 naming the discovery URL and the error; no state, cookie, traits or
        // identity is stored, so another provider or a later try works on the same flow.
        var s = await fixture.Get(provider);

        var login = await ApiFlow(s.Public, "login");
        var loginId = (string)login["id"]!;
        var before = await InternalContext(s, loginId);
        var res = await s.Public.PostJson($"/self-service/login?flow={loginId}", new JsonObject { ["method"] = "oidc", ["provider"] = "down" });
        var message = Assert.Single((await res.Json(HttpStatusCode.BadRequest))["ui"]!["messages"]!.AsArray())!;
        Assert.Equal(4000001, (long)message["id"]!);
        Assert.StartsWith(DownMessage, (string?)message["text"], StringComparison.Ordinal);
        Assert.False(res.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith(Gatehouse.SelfService.Strategies.Oidc.OidcStrategy.ContinuityCookie, StringComparison.Ordinal)));
        Assert.Equal(before, await InternalContext(s, loginId));

        var registration = await ApiFlow(s.Public, "registration");
        var registrationId = (string)registration["id"]!;
        var email = HttpAssertions.UniqueEmail("down");
        before = await InternalContext(s, registrationId);
        var reg = await s.Public.PostJson($"/self-service/registration?flow={registrationId}",
            new JsonObject { ["method"] = "oidc", ["provider"] = "down", ["traits"] = new JsonObject { ["email"] = email } });
        message = Assert.Single((await reg.Json(HttpStatusCode.BadRequest))["ui"]!["messages"]!.AsArray())!;
        Assert.Equal(4000001, (long)message["id"]!);
        Assert.StartsWith(DownMessage, (string?)message["text"], StringComparison.Ordinal);
        Assert.Equal(before, await InternalContext(s, registrationId));
        Assert.Empty((await (await s.AdminWithKey.GetAsync($"/admin/identities?credentials_identifier={Uri.EscapeDataString(email)}")).Json(HttpStatusCode.OK)).AsArray());

        // A browser's form post goes back to the login page with the flow, not to the error page.
        using var browser = new Browser(s.PublicUrl);
        var init = await browser.Client.GetAsync("/self-service/login/browser");
        var flowId = QueryHelpers.ParseQuery(init.Headers.Location!.Query)["flow"].ToString();
        using var fetch = new HttpRequestMessage(HttpMethod.Get, $"/self-service/login/flows?id={flowId}");
        fetch.Headers.Accept.ParseAdd("application/json");
        var flow = await (await browser.Client.SendAsync(fetch)).Json(HttpStatusCode.OK);
        var submit = await browser.PostForm($"/self-service/login?flow={flowId}", [new("csrf_token", Csrf(flow)), new("provider", "down")]);
        Assert.Equal(HttpStatusCode.SeeOther, submit.StatusCode);
        Assert.Contains($"flow={flowId}", submit.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("/error", submit.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.Null(browser.Cookie(Gatehouse.SelfService.Strategies.Oidc.OidcStrategy.ContinuityCookie));
        using var again = new HttpRequestMessage(HttpMethod.Get, $"/self-service/login/flows?id={flowId}");
        again.Headers.Accept.ParseAdd("application/json");
        var shown = await (await browser.Client.SendAsync(again)).Json(HttpStatusCode.OK);
        Assert.StartsWith(DownMessage, (string?)Assert.Single(shown["ui"]!["messages"]!.AsArray())!["text"], StringComparison.Ordinal);
        // The same flow still signs in with a provider that is up.
        var retry = await browser.PostForm($"/self-service/login?flow={flowId}", [new("csrf_token", Csrf(shown)), new("provider", "test-idp")]);
        Assert.Equal(HttpStatusCode.SeeOther, retry.StatusCode);
        Assert.StartsWith((await fixture.Idp()).Issuer, retry.Headers.Location!.ToString(), StringComparison.Ordinal);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_unknown_provider_is_a_404_system_error_not_a_message_on_the_flow(string provider)
    {
        // Kratos's ConfigurationCollection.Provider: herodot's 404, which its flow error handlers forward instead of
        // showing on the form (its "should fail because provider does not exist").
        var s = await fixture.Get(provider);
        foreach (var kind in new[] { "login", "registration" })
        {
            var flow = await ApiFlow(s.Public, kind);
            var res = await s.Public.PostJson($"/self-service/{kind}?flow={flow["id"]}", new JsonObject { ["method"] = "oidc", ["provider"] = "nope" });
            var error = await res.Error(HttpStatusCode.NotFound);
            Assert.Equal("OpenID Connect Provider \"nope\" is unknown or has not been configured", (string?)error["reason"]);
            var native = await s.Public.PostJson($"/self-service/{kind}?flow={flow["id"]}", new JsonObject { ["method"] = "oidc", ["provider"] = "nope", ["id_token"] = "x.y.z" });
            Assert.Contains("is unknown or has not been configured", (string?)(await native.Error(HttpStatusCode.NotFound))["reason"], StringComparison.Ordinal);

            using var browser = new Browser(s.PublicUrl);
            var init = await browser.Client.GetAsync($"/self-service/{kind}/browser");
            var flowId = QueryHelpers.ParseQuery(init.Headers.Location!.Query)["flow"].ToString();
            var browserFlow = await BrowserFlow(browser, kind, flowId);
            var submit = await browser.PostForm($"/self-service/{kind}?flow={flowId}", [new("csrf_token", Csrf(browserFlow)), new("provider", "nope")]);
            Assert.Equal(HttpStatusCode.SeeOther, submit.StatusCode);
            Assert.Contains("/ui/error?id=", submit.Headers.Location!.ToString(), StringComparison.Ordinal);
            Assert.Empty((await BrowserFlow(browser, kind, flowId))["ui"]!["messages"]?.AsArray() ?? []);
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_refusal_upstream_leaves_a_registration_with_only_the_providers_continue_button_and_a_login_with_its_form(string provider)
    {
        // Kratos's oidc HandleError resets a registration flow's nodes to the CSRF token and the used provider's 1040003
        // "Continue"; a login flow keeps its form. Both carry the reason as 4000001.
        var s = await fixture.Get(provider);
        foreach (var kind in new[] { "registration", "login" })
        {
            using var browser = new Browser(s.PublicUrl);
            var up = await ClickProvider(s, browser, kind);
            var back = await browser.Client.GetAsync($"/self-service/methods/oidc/callback/test-idp?state={Uri.EscapeDataString(up.State)}&error=access_denied&error_description=End-User+aborted+interaction");
            Assert.Equal(HttpStatusCode.SeeOther, back.StatusCode);
            Assert.Contains($"/ui/{kind}?flow={up.FlowId}", back.Headers.Location!.ToString(), StringComparison.Ordinal);
            var flow = await BrowserFlow(browser, kind, up.FlowId);
            Assert.Equal(JsonNode.Parse("""[{"id":4000001,"text":"Unable to complete OpenID Connect flow because the OpenID Provider returned error \"access_denied\": End-User aborted interaction","type":"error","context":{"reason":"Unable to complete OpenID Connect flow because the OpenID Provider returned error \"access_denied\": End-User aborted interaction"}}]"""),
                flow["ui"]!["messages"], JsonNode.DeepEquals);
            var nodes = flow["ui"]!["nodes"]!.AsArray().Select(n => $"{n!["group"]}/{n["attributes"]!["name"]}={n["attributes"]!["value"]}:{n["meta"]!["label"]?["id"]}").ToList();
            if (kind == "registration")
                Assert.Equal(["oidc/provider=test-idp:1040003", $"default/csrf_token={Csrf(flow)}:"], nodes); // sorted: oidc before default (Kratos's registration group order)
            else
                Assert.Contains("password/method=password:1010022", nodes);
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_failed_code_exchange_goes_to_the_error_ui_and_an_api_flow_answers_the_error(string provider)
    {
        // Kratos's HandleCallback: a failed exchange is golang.org/x/oauth2's error, no 400, so its flow error handlers
        // forward it (ui.ParseError takes only 400s onto the flow): a browser goes to the error UI, an API flow gets the
        // error as JSON; the flow keeps no message.
        var s = await fixture.Get(provider);
        foreach (var kind in new[] { "registration", "login" })
        {
            using var browser = new Browser(s.PublicUrl);
            var up = await ClickProvider(s, browser, kind);
            var back = await browser.Client.GetAsync($"/self-service/methods/oidc/callback/test-idp?state={Uri.EscapeDataString(up.State)}&code=unknown");
            Assert.Equal(HttpStatusCode.SeeOther, back.StatusCode);
            var location = back.Headers.Location!.ToString();
            Assert.StartsWith($"{s.PublicUrl}/ui/error?id=", location, StringComparison.Ordinal);
            var stored = await (await s.Public.GetAsync($"/self-service/errors?id={QueryHelpers.ParseQuery(back.Headers.Location!.Query)["id"]}")).Json(HttpStatusCode.OK);
            Assert.Equal(500, (int)stored["error"]!["code"]!);
            Assert.Contains("invalid_grant", (string?)stored["error"]!["reason"], StringComparison.Ordinal);
            Assert.Empty(MessageIds(await BrowserFlow(browser, kind, up.FlowId)));
        }

        using var app = new Browser(s.PublicUrl);
        var flow = await ApiFlow(app.Client, "login");
        var submit = await app.Client.PostJson($"/self-service/login?flow={flow["id"]}", """{"method":"oidc","provider":"test-idp"}""");
        var upstream = new Uri((string)(await submit.Json((HttpStatusCode)422))["redirect_browser_to"]!);
        var state = QueryHelpers.ParseQuery(upstream.Query)["state"].ToString();
        var answer = await app.Client.GetAsync($"/self-service/methods/oidc/callback/test-idp?state={Uri.EscapeDataString(state)}&code=unknown");
        Assert.Contains("invalid_grant", (string?)(await answer.Error(HttpStatusCode.InternalServerError))["reason"], StringComparison.Ordinal);
        Assert.Empty(MessageIds(await (await s.Public.GetAsync($"/self-service/login/flows?id={flow["id"]}")).Json(HttpStatusCode.OK)));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_api_flow_is_told_to_send_the_browser_upstream_with_422(string provider)
    {
        var s = await fixture.Get(provider);
        var idp = await fixture.Idp();
        var flow = await ApiFlow(s.Public, "registration");
        var button = flow["ui"]!["nodes"]!.AsArray().First(n => (string?)n!["group"] == "oidc" && (string?)n["attributes"]!["value"] == "test-idp")!;
        Assert.Equal(JsonNode.Parse("""{"id":1040002,"text":"Sign up with Test IdP","type":"info","context":{"provider":"Test IdP","provider_id":"test-idp"}}"""), button["meta"]!["label"], JsonNode.DeepEquals);
        var res = await s.Public.PostJson($"/self-service/registration?flow={flow["id"]}", new JsonObject { ["method"] = "oidc", ["provider"] = "test-idp" });
        var body = await res.Json((HttpStatusCode)422);
        Assert.Equal("browser_location_change_required", (string?)body["error"]!["id"]);
        Assert.StartsWith(idp.Issuer + "/auth?", (string?)body["redirect_browser_to"], StringComparison.Ordinal);
    }

    private static async Task<JsonNode> BrowserFlow(Browser browser, string kind, string flowId)
    {
        using var fetch = new HttpRequestMessage(HttpMethod.Get, $"/self-service/{kind}/flows?id={flowId}");
        fetch.Headers.Accept.ParseAdd("application/json");
        return await (await browser.Client.SendAsync(fetch)).Json(HttpStatusCode.OK);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Missing_traits_are_asked_for_in_the_default_group_or_with_the_legacy_flag_in_the_oidc_group(string provider)
    {
        // Kratos's oidc HandleError: NodesFromJSONSchema with node.DefaultGroup, or node.OpenIDConnectGroup when
        // feature_flags.legacy_oidc_registration_node_group is on.
        foreach (var legacy in new[] { false, true })
        {
            var s = await fixture.Get(provider, legacyOidcGroup: legacy);
            var idp = await fixture.Idp();
            using var browser = new Browser(s.PublicUrl);
            var up = await ClickProvider(s, browser, "registration");
            var claims = idp.Claims("sub-" + Guid.NewGuid().ToString("N")[..10], fixture.Clock.GetUtcNow(), up.Nonce);
            claims.Remove("email");
            Assert.Equal(HttpStatusCode.SeeOther, (await Callback(browser, up, claims)).StatusCode);
            var flow = await BrowserFlow(browser, "registration", up.FlowId);
            var groups = flow["ui"]!["nodes"]!.AsArray().ToDictionary(n => (string)n!["attributes"]!["name"]!, n => (string)n!["group"]!);
            Assert.Equal("oidc", groups["provider"]);
            Assert.Equal("default", groups["csrf_token"]);
            foreach (var trait in new[] { "traits.email", "traits.name.first", "traits.name.last" })
                Assert.Equal(legacy ? "oidc" : "default", groups[trait]);
            Assert.Equal([4000002L], MessageIds(flow, "traits.email"));
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Missing_traits_show_the_registration_form_and_the_filled_in_traits_complete_the_sign_up(string provider)
    {
        var s = await fixture.Get(provider);
        var idp = await fixture.Idp();
        var subject = "sub-" + Guid.NewGuid().ToString("N")[..10];
        using var browser = new Browser(s.PublicUrl);
        var up = await ClickProvider(s, browser, "registration");
        var claims = idp.Claims(subject, fixture.Clock.GetUtcNow(), up.Nonce);
        claims.Remove("email");
        var res = await Callback(browser, up, claims);
        Assert.Equal(HttpStatusCode.SeeOther, res.StatusCode);
        var flow = await BrowserFlow(browser, "registration", up.FlowId);
        var nodes = flow["ui"]!["nodes"]!.AsArray();
        // Kratos's registration sort puts the oidc group before the default one (its snapshot of a failed oidc registration).
        Assert.Equal(["provider", "csrf_token", "traits.email", "traits.name.first", "traits.name.last"], nodes.Select(n => (string)n!["attributes"]!["name"]!));
        Assert.Equal(1040003, (long)nodes[0]!["meta"]!["label"]!["id"]!);
        Assert.Equal("test-idp", (string?)nodes[0]!["attributes"]!["value"]);
        Assert.Equal([4000002L], MessageIds(flow, "traits.email"));
        Assert.Null(browser.Cookie("ory_kratos_session"));

        // The user fills in what is missing and goes round again; the typed traits win over the provider's.
        var email = HttpAssertions.UniqueEmail("typed");
        var again = await browser.PostForm($"/self-service/registration?flow={up.FlowId}",
            [new("csrf_token", Csrf(flow)), new("provider", "test-idp"), new("traits.email", email), new("traits.name.first", "")]);
        Assert.Equal(HttpStatusCode.SeeOther, again.StatusCode);
        var q = QueryHelpers.ParseQuery(again.Headers.Location!.Query);
        var up2 = up with { State = q["state"].ToString(), Nonce = q["nonce"].ToString(), Challenge = q["code_challenge"].ToString() };
        var claims2 = idp.Claims(subject, fixture.Clock.GetUtcNow(), up2.Nonce);
        claims2.Remove("email");
        Assert.Equal(HttpStatusCode.SeeOther, (await Callback(browser, up2, claims2)).StatusCode);
        var session = await Whoami(s, browser);
        Assert.Equal(email, (string?)session["identity"]!["traits"]!["email"]);
        Assert.False((bool)session["identity"]!["verifiable_addresses"]![0]!["verified"]!, "an address the user typed is not verified by the provider");
    }

    private static async Task<(string Email, string Id)> PasswordAccount(TestServer s)
    {
        var (email, _, body) = await RegisterApi(s);
        return (email, (string)body["identity"]!["id"]!);
    }

    private static async Task<HttpResponseMessage> PasswordLogin(Browser browser, JsonNode flow, string identifier)
    {
        return await browser.PostForm($"/self-service/login?flow={flow["id"]}",
            [new("csrf_token", Csrf(flow)), new("method", "password"), new("identifier", identifier), new("password", GoodPassword)]);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_email_of_an_existing_account_asks_for_that_account_first_and_then_links_the_provider(string provider)
    {
        var s = await fixture.Get(provider);
        var idp = await fixture.Idp();
        var (email, existingId) = await PasswordAccount(s);
        var subject = "sub-" + Guid.NewGuid().ToString("N")[..10];
        using var browser = new Browser(s.PublicUrl);
        var up = await ClickProvider(s, browser, "registration");
        var res = await Callback(browser, up, idp.Claims(subject, fixture.Clock.GetUtcNow(), up.Nonce, email));
        Assert.Equal(HttpStatusCode.SeeOther, res.StatusCode);
        Assert.Contains("/ui/login?flow=", res.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.Contains("no_org_ui=true", res.Headers.Location!.Query, StringComparison.Ordinal);
        Assert.Null(browser.Cookie("ory_kratos_session"));
        var loginId = QueryHelpers.ParseQuery(res.Headers.Location!.Query)["flow"].ToString();
        var flow = await BrowserFlow(browser, "login", loginId);
        var message = flow["ui"]!["messages"]![0]!;
        Assert.Equal(1010016, (long)message["id"]!);
        Assert.Equal($"You tried to sign in with \"{email}\", but that email is already used by another account. Sign in to your account with one of the options below to add your account \"{email}\" at \"Test IdP\" as another way to sign in.", (string?)message["text"]);
        Assert.Equal(email, (string?)message["context"]!["duplicate_identifier"]);
        // Kratos's context also names the login UI, under both spellings.
        Assert.Equal($"{s.PublicUrl}/ui/login", (string?)message["context"]!["new_login_url"]);
        Assert.Equal($"{s.PublicUrl}/ui/login", (string?)message["context"]!["newLoginUrl"]);
        var identifier = Node(flow, "identifier")!;
        Assert.Equal(("hidden", email), ((string?)identifier["attributes"]!["type"], (string?)identifier["attributes"]!["value"]));
        Assert.DoesNotContain(flow["ui"]!["nodes"]!.AsArray(), n => (string?)n!["attributes"]!["value"] == "test-idp");
        Assert.Equal(1, await IdentitiesWith(s, email));

        // Proving the existing account links the provider to it; signing in with the provider then reaches that account.
        Assert.Equal(HttpStatusCode.SeeOther, (await PasswordLogin(browser, flow, email)).StatusCode);
        Assert.Equal(existingId, (string?)(await Whoami(s, browser))["identity"]!["id"]);
        var admin = await (await s.AdminWithKey.GetAsync($"/admin/identities/{existingId}?include_credential=oidc")).Json(HttpStatusCode.OK);
        Assert.Equal($"test-idp:{subject}", (string?)admin["credentials"]!["oidc"]!["identifiers"]![0]);
        Assert.StartsWith("at-", (string?)admin["credentials"]!["oidc"]!["config"]!["providers"]![0]!["initial_access_token"], StringComparison.Ordinal);

        using var later = new Browser(s.PublicUrl);
        var up2 = await ClickProvider(s, later, "login");
        Assert.Equal(HttpStatusCode.SeeOther, (await Callback(later, up2, idp.Claims(subject, fixture.Clock.GetUtcNow(), up2.Nonce, email))).StatusCode);
        Assert.Equal(existingId, (string?)(await Whoami(s, later))["identity"]!["id"]);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Proving_another_account_than_the_colliding_one_links_nothing(string provider)
    {
        var s = await fixture.Get(provider);
        var idp = await fixture.Idp();
        var (email, victimId) = await PasswordAccount(s);
        var (otherEmail, otherId) = await PasswordAccount(s);
        var subject = "sub-" + Guid.NewGuid().ToString("N")[..10];
        using var browser = new Browser(s.PublicUrl);
        var up = await ClickProvider(s, browser, "registration");
        var res = await Callback(browser, up, idp.Claims(subject, fixture.Clock.GetUtcNow(), up.Nonce, email));
        var loginId = QueryHelpers.ParseQuery(res.Headers.Location!.Query)["flow"].ToString();
        var flow = await BrowserFlow(browser, "login", loginId);

        var wrong = await PasswordLogin(browser, flow, otherEmail);
        Assert.Equal(HttpStatusCode.SeeOther, wrong.StatusCode);
        Assert.Contains($"flow={loginId}", wrong.Headers.Location!.Query, StringComparison.Ordinal);
        Assert.Equal([4010009L], MessageIds(await BrowserFlow(browser, "login", loginId)));
        Assert.Null(browser.Cookie("ory_kratos_session"));
        foreach (var id in new[] { victimId, otherId })
        {
            var admin = await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}")).Json(HttpStatusCode.OK);
            Assert.Null(admin["credentials"]!["oidc"]);
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_collision_on_an_address_alone_asks_for_the_account_that_has_it_and_then_links_the_provider(string provider)
    {
        // Kratos's identity.Manager.ConflictingIdentity falls back to verifiable and recovery addresses when no credential
        // identifier collides, and its oidc HandleError turns that duplicate into the account-linking login too.
        var s = await fixture.Get(provider);
        var idp = await fixture.Idp();
        var (email, existingId) = await PasswordAccount(s);
        var subject = "sub-" + Guid.NewGuid().ToString("N")[..10];
        using var browser = new Browser(s.PublicUrl);
        // The "contact" schema makes the e-mail a verification and recovery address only: no credential identifier collides.
        var up = await ClickProvider(s, browser, "registration", query: "?identity_schema=contact");
        var res = await Callback(browser, up, idp.Claims(subject, fixture.Clock.GetUtcNow(), up.Nonce, email));
        Assert.Equal(HttpStatusCode.SeeOther, res.StatusCode);
        Assert.Contains("/ui/login?flow=", res.Headers.Location!.ToString(), StringComparison.Ordinal);
        var loginId = QueryHelpers.ParseQuery(res.Headers.Location!.Query)["flow"].ToString();
        var flow = await BrowserFlow(browser, "login", loginId);
        Assert.Equal([1010016L], MessageIds(flow));
        Assert.Equal(email, (string?)flow["ui"]!["messages"]![0]!["context"]!["duplicate_identifier"]);
        Assert.Equal(("hidden", email), ((string?)Node(flow, "identifier")!["attributes"]!["type"], (string?)Node(flow, "identifier")!["attributes"]!["value"]));
        Assert.Equal(1, await IdentitiesWith(s, email));

        Assert.Equal(HttpStatusCode.SeeOther, (await PasswordLogin(browser, flow, email)).StatusCode);
        Assert.Equal(existingId, (string?)(await Whoami(s, browser))["identity"]!["id"]);
        var admin = await (await s.AdminWithKey.GetAsync($"/admin/identities/{existingId}?include_credential=oidc")).Json(HttpStatusCode.OK);
        Assert.Equal($"test-idp:{subject}", (string?)admin["credentials"]!["oidc"]!["identifiers"]![0]);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task With_login_hints_the_linking_login_shows_only_the_existing_accounts_methods(string provider)
    {
        // Kratos's populateAccountLinkingUI with login_hints: 1010016 lists the account's methods and providers, and only
        // those nodes stay (here a password account: no provider button at all).
        var s = await fixture.Get(provider, loginHints: true);
        var idp = await fixture.Idp();
        var (email, _) = await PasswordAccount(s);
        var subject = "sub-" + Guid.NewGuid().ToString("N")[..10];
        using var browser = new Browser(s.PublicUrl);
        var up = await ClickProvider(s, browser, "registration");
        var res = await Callback(browser, up, idp.Claims(subject, fixture.Clock.GetUtcNow(), up.Nonce, email));
        var loginId = QueryHelpers.ParseQuery(res.Headers.Location!.Query)["flow"].ToString();
        var flow = await BrowserFlow(browser, "login", loginId);
        var context = flow["ui"]!["messages"]![0]!["context"]!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""["password"]"""), context["available_credential_types"]), context.ToJsonString());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("[]"), context["available_providers"]), context.ToJsonString());
        var nodes = flow["ui"]!["nodes"]!.AsArray().Select(n => $"{n!["group"]}/{n["attributes"]!["name"]}").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["default/csrf_token", "default/identifier", "password/method", "password/password"], nodes);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task With_login_hints_a_duplicate_registration_says_how_the_existing_account_signs_in(string provider)
    {
        // Kratos's findExistingAuthMethod + NewErrorValidationDuplicateCredentialsWithHints (4000028); without login hints 4000007.
        foreach (var hints in new[] { true, false })
        {
            var s = await fixture.Get(provider, loginHints: hints);
            var idp = await fixture.Idp();
            var (email, _) = await PasswordAccount(s);
            var flow = await ApiFlow(s.Public, "registration");
            var again = await (await s.Public.PostJson($"/self-service/registration?flow={flow["id"]}",
                new JsonObject { ["method"] = "password", ["password"] = GoodPassword, ["traits"] = new JsonObject { ["email"] = email } })).Json(HttpStatusCode.BadRequest);
            var message = again["ui"]!["messages"]![0]!;
            if (!hints)
            {
                Assert.Equal(4000007, (long)message["id"]!);
                continue;
            }
            Assert.Equal(JsonNode.Parse($$$"""
                {"id":4000028,"text":"You tried signing in with {{{email}}} which is already in use by another account. You can sign in using your password.","type":"error",
                 "context":{"available_credential_types":["password"],"available_oidc_providers":[],"credential_identifier_hint":"{{{email}}}"}}
                """), message, JsonNode.DeepEquals);

            // An account made by social sign-up: its e-mail is a password identifier without a password.
            var social = "social-" + Guid.NewGuid().ToString("N")[..10] + "@example.com";
            using var browser = new Browser(s.PublicUrl);
            var up = await ClickProvider(s, browser, "registration");
            Assert.Equal(HttpStatusCode.SeeOther, (await Callback(browser, up, idp.Claims("sub-" + Guid.NewGuid().ToString("N")[..10], fixture.Clock.GetUtcNow(), up.Nonce, social))).StatusCode);
            flow = await ApiFlow(s.Public, "registration");
            again = await (await s.Public.PostJson($"/self-service/registration?flow={flow["id"]}",
                new JsonObject { ["method"] = "password", ["password"] = GoodPassword, ["traits"] = new JsonObject { ["email"] = social } })).Json(HttpStatusCode.BadRequest);
            Assert.Equal(JsonNode.Parse($$$"""
                {"id":4000028,"text":"You tried signing in with {{{social}}} which is already in use by another account. You can sign in using social sign in. You can sign in using one of the following social sign in providers: Test-Idp.","type":"error",
                 "context":{"available_credential_types":["oidc"],"available_oidc_providers":["test-idp"],"credential_identifier_hint":"{{{social}}}"}}
                """), again["ui"]!["messages"]![0], JsonNode.DeepEquals);
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Two_concurrent_callbacks_with_the_same_state_cannot_both_succeed(string provider)
    {
        var s = await fixture.Get(provider);
        var idp = await fixture.Idp();
        var subject = "sub-" + Guid.NewGuid().ToString("N")[..10];
        using (var first = new Browser(s.PublicUrl))
        {
            var signUp = await ClickProvider(s, first, "registration");
            Assert.Equal(HttpStatusCode.SeeOther, (await Callback(first, signUp, idp.Claims(subject, fixture.Clock.GetUtcNow(), signUp.Nonce))).StatusCode);
        }

        // Both callbacks read the flow while it still waits for the state (each with a code of its own, so the provider
        // does not decide); only one may spend the state.
        using var browser = new Browser(s.PublicUrl);
        var up = await ClickProvider(s, browser, "login");
        browser.Client.DefaultRequestHeaders.Accept.Clear();
        browser.Client.DefaultRequestHeaders.Accept.ParseAdd("application/json");
        fixture.Gate.Arm(Guid.Parse(up.FlowId));
        var results = await Task.WhenAll(
            Callback(browser, up, idp.Claims(subject, fixture.Clock.GetUtcNow(), up.Nonce)),
            Callback(browser, up, idp.Claims(subject, fixture.Clock.GetUtcNow(), up.Nonce)));
        var statuses = results.Select(r => (int)r.StatusCode).Order().ToArray();
        Assert.Equal(1, statuses.Count(c => c == 400));
        Assert.Equal(1, statuses.Count(c => c != 400));
        var refused = results.Single(r => r.StatusCode == HttpStatusCode.BadRequest);
        Assert.Contains("already used", (string?)(await refused.Error(HttpStatusCode.BadRequest))["reason"], StringComparison.Ordinal);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_sessions_method_names_the_provider_after_sign_up_and_sign_in(string provider)
    {
        var s = await fixture.Get(provider);
        var idp = await fixture.Idp();
        var subject = "sub-" + Guid.NewGuid().ToString("N")[..10];
        foreach (var kind in new[] { "registration", "login" })
        {
            using var browser = new Browser(s.PublicUrl);
            var up = await ClickProvider(s, browser, kind);
            Assert.Equal(HttpStatusCode.SeeOther, (await Callback(browser, up, idp.Claims(subject, fixture.Clock.GetUtcNow(), up.Nonce))).StatusCode);
            var method = (await Whoami(s, browser))["authentication_methods"]!.AsArray().Single()!;
            Assert.Equal(("oidc", "aal1", "test-idp"), ((string?)method["method"], (string?)method["aal"], (string?)method["provider"]));
        }
    }

    /// <summary>
    /// <c>aal2_acr_values</c> / <c>aal2_amr_values</c>: the provider's ID token decides the session's level. A listed
    /// <c>acr</c> at sign-up, or one listed <c>amr</c> value at sign-in, gives an aal2 session from the social sign-in alone;
    /// other values an aal1 one. Each method entry carries the claims as sent (<c>upstream_acr</c>, <c>upstream_amr</c>).
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_providers_acr_and_amr_claims_are_recorded_and_listed_values_make_the_session_aal2(string provider)
    {
        var s = await fixture.Get(provider);
        var subject = "sub-" + Guid.NewGuid().ToString("N")[..10];
        async Task<JsonNode> SignIn(string kind, Action<JsonObject> claims)
        {
            using var browser = new Browser(s.PublicUrl);
            Assert.Equal(HttpStatusCode.SeeOther, (await SignInWith(s, browser, kind, subject, claims)).StatusCode);
            return await Whoami(s, browser);
        }

        var signedUp = await SignIn("registration", c => c["acr"] = "urn:test:loa:2");
        Assert.Equal("aal2", (string?)signedUp["authenticator_assurance_level"]);
        var method = signedUp["authentication_methods"]!.AsArray().Single()!;
        Assert.Equal(("oidc", "aal2", "test-idp", "urn:test:loa:2"), ((string?)method["method"], (string?)method["aal"], (string?)method["provider"], (string?)method["upstream_acr"]));
        Assert.Null(method["upstream_amr"]);

        var mfa = await SignIn("login", c => { c["acr"] = "urn:test:loa:1"; c["amr"] = new JsonArray("pwd", "hwk"); });
        Assert.Equal("aal2", (string?)mfa["authenticator_assurance_level"]);
        method = mfa["authentication_methods"]!.AsArray().Single()!;
        Assert.Equal(("aal2", "urn:test:loa:1"), ((string?)method["aal"], (string?)method["upstream_acr"]));
        Assert.Equal(["pwd", "hwk"], method["upstream_amr"]!.AsArray().Select(v => (string?)v));

        var single = await SignIn("login", c => { c["acr"] = "urn:test:loa:1"; c["amr"] = new JsonArray("pwd"); });
        Assert.Equal("aal1", (string?)single["authenticator_assurance_level"]);
        Assert.Equal("aal1", (string?)single["authentication_methods"]![0]!["aal"]);
        Assert.Equal(["pwd"], single["authentication_methods"]![0]!["upstream_amr"]!.AsArray().Select(v => (string?)v));

        // An empty acr never matches, whatever is listed; a provider without lists (native) never raises the level.
        var empty = await SignIn("login", c => c["acr"] = "");
        Assert.Equal("aal1", (string?)empty["authenticator_assurance_level"]);
        Assert.Null(empty["authentication_methods"]![0]!["upstream_acr"]);
    }

    /// <summary>
    /// <c>update_identity_on_login: automatic</c>: each sign-in runs the mapper again with the stored identity, merges its
    /// traits over the stored ones (a trait it leaves out stays), replaces the metadata it returns and verifies what the
    /// provider verified; traits that no longer fit the schema stop the sign-in and change nothing. Without the setting
    /// the identity stays as signed up.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task With_update_identity_on_login_each_sign_in_maps_the_claims_again_onto_the_identity(string provider)
    {
        var s = await fixture.Get(provider, updateOnLogin: true);
        var subject = "sub-" + Guid.NewGuid().ToString("N")[..10];
        async Task<HttpResponseMessage> SignIn(string kind, Action<JsonObject> claims)
        {
            using var browser = new Browser(s.PublicUrl);
            return await SignInWith(s, browser, kind, subject, claims);
        }
        async Task<JsonNode> Stored()
        {
            var list = await (await s.AdminWithKey.GetAsync($"/admin/identities?credentials_identifier={Uri.EscapeDataString("test-idp:" + subject)}")).Json(HttpStatusCode.OK);
            return await (await s.AdminWithKey.GetAsync($"/admin/identities/{list[0]!["id"]}")).Json(HttpStatusCode.OK);
        }

        // The sign-up's browser keeps its session; its whoami answer is cached on PostgreSQL and SQLite alike.
        using var first = new Browser(s.PublicUrl);
        Assert.Equal(HttpStatusCode.SeeOther, (await SignInWith(s, first, "registration", subject, c => { c["name"] = "Ada"; c["email_verified"] = false; })).StatusCode);
        Assert.False((bool)(await Whoami(s, first))["identity"]!["verifiable_addresses"]![0]!["verified"]!);
        var signedUp = await Stored();
        Assert.Equal("Ada", (string?)signedUp["traits"]!["name"]!["first"]);
        Assert.Equal(1, (int)signedUp["metadata_public"]!["logins"]!);
        Assert.False((bool)signedUp["verifiable_addresses"]![0]!["verified"]!);
        // A trait the person set since (the last name) is kept: the mapper's traits are merged over the stored ones.
        await (await s.AdminWithKey.PatchJson($"/admin/identities/{signedUp["id"]}",
            """[{"op":"add","path":"/traits/name/last","value":"Lovelace"}]""")).Json(HttpStatusCode.OK);

        Assert.Equal(HttpStatusCode.SeeOther, (await SignIn("login", c => c["name"] = "Augusta")).StatusCode);
        var updated = await Stored();
        Assert.Equal(("Augusta", "Lovelace"), ((string?)updated["traits"]!["name"]!["first"], (string?)updated["traits"]!["name"]!["last"]));
        Assert.Equal(2, (int)updated["metadata_public"]!["logins"]!);
        Assert.True((bool)updated["verifiable_addresses"]![0]!["verified"]!);
        // The identity's other session sees the address verified too: its cached answer was dropped.
        Assert.True((bool)(await Whoami(s, first))["identity"]!["verifiable_addresses"]![0]!["verified"]!);

        // Claims that make the traits invalid (an e-mail that is none) refuse the sign-in and write nothing: the browser
        // goes back to the login flow, which says why, and has no session.
        using (var browser = new Browser(s.PublicUrl))
        {
            var refused = await SignInWith(s, browser, "login", subject, c => c["email"] = "not-an-email");
            Assert.Equal(HttpStatusCode.SeeOther, refused.StatusCode);
            var flowId = QueryHelpers.ParseQuery(refused.Headers.Location!.Query)["flow"].ToString();
            var flow = await BrowserFlow(browser, "login", flowId);
            Assert.Contains("returned is not valid", (string?)flow["ui"]!["messages"]![0]!["text"], StringComparison.Ordinal);
            using var whoami = new HttpRequestMessage(HttpMethod.Get, "/sessions/whoami");
            whoami.Headers.Accept.ParseAdd("application/json");
            Assert.Equal(HttpStatusCode.Unauthorized, (await browser.Client.SendAsync(whoami)).StatusCode);
        }
        var after = await Stored();
        Assert.True(JsonNode.DeepEquals(updated["traits"], after["traits"]), after["traits"]!.ToJsonString());
        Assert.Equal(2, (int)after["metadata_public"]!["logins"]!);
    }

    /// <summary>An OAuth2 client of Gatehouse's own provider and a login challenge for it (what /oauth2/auth hands the login UI).</summary>
    private static async Task<string> LoginChallenge(TestServer s, Browser browser)
    {
        const string redirect = "https://app.example/callback";
        var client = await (await s.AdminWithKey.PostJson("/admin/clients",
            $$"""{"redirect_uris":["{{redirect}}"],"scope":"openid email","grant_types":["authorization_code"]}""")).Json(HttpStatusCode.Created);
        var verifier = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var challenge = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(System.Security.Cryptography.SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var auth = await browser.Client.GetAsync($"/oauth2/auth?response_type=code&client_id={client["client_id"]}&redirect_uri={Uri.EscapeDataString(redirect)}&scope=openid&state=state-123456&code_challenge={challenge}&code_challenge_method=S256");
        Assert.True(auth.StatusCode is HttpStatusCode.Found or HttpStatusCode.SeeOther, $"/oauth2/auth answered {(int)auth.StatusCode}");
        var loginChallenge = QueryHelpers.ParseQuery(auth.Headers.Location!.Query)["login_challenge"].ToString();
        Assert.NotEmpty(loginChallenge);
        return loginChallenge;
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_login_flow_for_an_oauth2_client_that_becomes_a_registration_still_answers_the_login_request(string provider)
    {
        var s = await fixture.Get(provider);
        var idp = await fixture.Idp();
        var subject = "sub-" + Guid.NewGuid().ToString("N")[..10];
        using var browser = new Browser(s.PublicUrl);
        var challenge = await LoginChallenge(s, browser);
        var up = await ClickProvider(s, browser, "login", query: "?login_challenge=" + Uri.EscapeDataString(challenge));
        var done = await Callback(browser, up, idp.Claims(subject, fixture.Clock.GetUtcNow(), up.Nonce));
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        Assert.StartsWith(s.PublicUrl + "/oauth2/auth?", done.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.Contains("login_verifier=", done.Headers.Location!.Query, StringComparison.Ordinal);
        Assert.Equal(1, await IdentitiesWith(s, $"{subject}@idp.test"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_registration_flow_for_an_oauth2_client_that_becomes_a_login_still_answers_the_login_request(string provider)
    {
        var s = await fixture.Get(provider);
        var idp = await fixture.Idp();
        var subject = "sub-" + Guid.NewGuid().ToString("N")[..10];
        using (var first = new Browser(s.PublicUrl))
        {
            var signUp = await ClickProvider(s, first, "registration");
            Assert.Equal(HttpStatusCode.SeeOther, (await Callback(first, signUp, idp.Claims(subject, fixture.Clock.GetUtcNow(), signUp.Nonce))).StatusCode);
        }
        using var browser = new Browser(s.PublicUrl);
        var challenge = await LoginChallenge(s, browser);
        var up = await ClickProvider(s, browser, "registration", query: "?login_challenge=" + Uri.EscapeDataString(challenge));
        var flow = await BrowserFlow(browser, "registration", up.FlowId);
        Assert.Equal(challenge, (string?)flow["oauth2_login_challenge"]);
        Assert.NotNull(flow["oauth2_login_request"]?["client"]);
        var done = await Callback(browser, up, idp.Claims(subject, fixture.Clock.GetUtcNow(), up.Nonce));
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        Assert.StartsWith(s.PublicUrl + "/oauth2/auth?", done.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.Contains("login_verifier=", done.Headers.Location!.Query, StringComparison.Ordinal);
    }

    /// <summary>A password account made by the admin API, its e-mail verified or not.</summary>
    private static async Task<(string Email, string Id)> ImportedAccount(TestServer s, bool verified)
    {
        var email = HttpAssertions.UniqueEmail("imported");
        var body = new JsonObject
        {
            ["schema_id"] = "default",
            ["traits"] = new JsonObject { ["email"] = email },
            ["credentials"] = new JsonObject { ["password"] = new JsonObject { ["config"] = new JsonObject { ["password"] = GoodPassword } } },
            ["verifiable_addresses"] = new JsonArray(new JsonObject { ["value"] = email, ["via"] = "email", ["verified"] = verified, ["status"] = verified ? "completed" : "pending" }),
        };
        var created = await (await s.AdminWithKey.PostJson("/admin/identities", body)).Json(HttpStatusCode.Created);
        return (email, (string)created["id"]!);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Automatic_linking_links_only_when_provider_and_account_both_verified_the_address(string provider)
    {
        var s = await fixture.Get(provider);
        var idp = await fixture.Idp();

        // Both verified: the sign-up signs in to the existing account, which now has the provider.
        var (email, existingId) = await ImportedAccount(s, verified: true);
        var subject = "sub-" + Guid.NewGuid().ToString("N")[..10];
        using (var browser = new Browser(s.PublicUrl))
        {
            var up = await ClickProvider(s, browser, "registration", provider: "auto");
            var done = await browser.Client.GetAsync($"/self-service/methods/oidc/callback/auto?state={Uri.EscapeDataString(up.State)}&code={idp.AddCode(new TestOpenIdProvider.Grant(idp.Claims(subject, fixture.Clock.GetUtcNow(), up.Nonce, email), up.Challenge, up.RedirectUri))}");
            Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
            Assert.Equal("http://app.example.com/welcome", done.Headers.Location!.ToString());
            Assert.Equal(existingId, (string?)(await Whoami(s, browser))["identity"]!["id"]);
        }
        var admin = await (await s.AdminWithKey.GetAsync($"/admin/identities/{existingId}")).Json(HttpStatusCode.OK);
        Assert.Equal($"auto:{subject}", (string?)admin["credentials"]!["oidc"]!["identifiers"]![0]);
        Assert.Equal(1, await IdentitiesWith(s, email));

        // The account never verified the address: the user proves the account first (1010016), nothing is linked yet.
        var (unverified, unverifiedId) = await ImportedAccount(s, verified: false);
        using (var browser = new Browser(s.PublicUrl))
        {
            var up = await ClickProvider(s, browser, "registration", provider: "auto");
            var res = await browser.Client.GetAsync($"/self-service/methods/oidc/callback/auto?state={Uri.EscapeDataString(up.State)}&code={idp.AddCode(new TestOpenIdProvider.Grant(idp.Claims("sub-" + Guid.NewGuid().ToString("N")[..10], fixture.Clock.GetUtcNow(), up.Nonce, unverified), up.Challenge, up.RedirectUri))}");
            Assert.Contains("/ui/login?flow=", res.Headers.Location!.ToString(), StringComparison.Ordinal);
            Assert.Null(browser.Cookie("ory_kratos_session"));
        }
        Assert.Null((await (await s.AdminWithKey.GetAsync($"/admin/identities/{unverifiedId}")).Json(HttpStatusCode.OK))["credentials"]!["oidc"]);

        // The provider does not vouch for the address (email_verified false): the same.
        var (other, otherId) = await ImportedAccount(s, verified: true);
        using (var browser = new Browser(s.PublicUrl))
        {
            var up = await ClickProvider(s, browser, "registration", provider: "auto");
            var claims = idp.Claims("sub-" + Guid.NewGuid().ToString("N")[..10], fixture.Clock.GetUtcNow(), up.Nonce, other);
            claims["email_verified"] = false;
            var res = await browser.Client.GetAsync($"/self-service/methods/oidc/callback/auto?state={Uri.EscapeDataString(up.State)}&code={idp.AddCode(new TestOpenIdProvider.Grant(claims, up.Challenge, up.RedirectUri))}");
            Assert.Contains("/ui/login?flow=", res.Headers.Location!.ToString(), StringComparison.Ordinal);
        }
        Assert.Null((await (await s.AdminWithKey.GetAsync($"/admin/identities/{otherId}")).Json(HttpStatusCode.OK))["credentials"]!["oidc"]);
    }
}
