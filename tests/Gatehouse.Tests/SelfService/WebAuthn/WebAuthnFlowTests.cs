using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService.WebAuthn;

/// <summary>Servers per provider with the webauthn method on: "mfa" (security keys as a second factor) and "passwordless".</summary>
public sealed class WebAuthnServerFixture : IAsyncDisposable
{
    public const string Origin = "https://auth.example.com";

    private readonly Dictionary<string, Task<TestServer>> _servers = [];
    private readonly Lock _lock = new();

    public Task<TestServer> Get(string provider, bool passwordless)
    {
        lock (_lock)
        {
            var key = provider + "/" + passwordless;
            if (!_servers.TryGetValue(key, out var server))
            {
                server = TestServer.StartAsync(provider, o =>
                {
                    PasskeyServerFixture.Configure(o);
                    o.Selfservice.Methods.Passkey.Enabled = false;
                    o.Selfservice.Methods.Webauthn.Enabled = true;
                    o.Selfservice.Methods.Webauthn.Config.Passwordless = passwordless;
                    o.Selfservice.Methods.Webauthn.Config.Rp = new WebAuthnRelyingPartyOptions { Id = "example.com", DisplayName = "Example", Origins = [Origin] };
                    o.Selfservice.Flows.Registration.After.Webauthn = new FlowAfterMethodOptions { Hooks = [new HookConfig { Hook = "session" }] };
                });
                _servers[key] = server;
            }
            return server;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _servers.Values)
        {
            if (s.IsCompletedSuccessfully) await s.Result.DisposeAsync();
        }
    }
}

/// <summary>
/// The webauthn method in browser flows (as Kratos, it offers nothing to API flows): a security key added in settings is
/// a second factor that an aal2 login steps up with; removed, the identity is back to one factor. With passwordless on,
/// a key registers an account and signs in by identifier then key (aal1).
/// </summary>
public sealed class WebAuthnFlowTests(WebAuthnServerFixture fixture) : IClassFixture<WebAuthnServerFixture>
{
    private const string Origin = WebAuthnServerFixture.Origin;

    private static string Value(JsonNode flow, string name) => Node(flow, name)!["attributes"]!["value"]!.GetValue<string>();

    private static async Task<JsonNode> Get(Browser b, string url) => await (await b.Client.GetAsync(url)).Json(HttpStatusCode.OK);

    private static Task<HttpResponseMessage> Post(Browser b, string kind, JsonNode flow, JsonObject body)
    {
        body["csrf_token"] = Csrf(flow);
        return b.Client.PostAsync($"/self-service/{kind}?flow={flow["id"]}", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
    }

    private static async Task<string> RegisterWithPassword(TestServer s, Browser b)
    {
        var email = HttpAssertions.UniqueEmail("key");
        var flow = await Get(b, "/self-service/registration/browser");
        await (await Post(b, "registration", flow, new JsonObject { ["method"] = "password", ["password"] = GoodPassword, ["traits"] = new JsonObject { ["email"] = email } })).Json(HttpStatusCode.OK);
        return email;
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_security_key_added_in_settings_is_a_second_factor_to_step_up_with_and_can_be_removed(string db)
    {
        var s = await fixture.Get(db, passwordless: false);
        using var key = new SoftwareAuthenticator(Origin);
        using var first = new Browser(s.PublicUrl, acceptJson: true);
        var email = await RegisterWithPassword(s, first);

        var settings = await Get(first, "/self-service/settings/browser");
        var trigger = Node(settings, "webauthn_register_trigger")!["attributes"]!;
        Assert.Equal("oryWebAuthnRegistration", trigger["onclickTrigger"]!.GetValue<string>());
        Assert.Equal($"window.oryWebAuthnRegistration({trigger["value"]})", trigger["onclick"]!.GetValue<string>());
        Assert.Equal(1050012, Node(settings, "webauthn_register_trigger")!["meta"]!["label"]!["id"]!.GetValue<int>());
        // User verification is discouraged for security keys (Kratos), so go-webauthn's default timeout is two minutes.
        Assert.Equal(120_000, JsonNode.Parse(trigger["value"]!.GetValue<string>())!["publicKey"]!["timeout"]!.GetValue<int>());
        var added = await (await Post(first, "settings", settings, new JsonObject
        {
            ["method"] = "webauthn",
            ["webauthn_register_displayname"] = "YubiKey 5",
            ["webauthn_register"] = key.Create(JsonNode.Parse(trigger["value"]!.GetValue<string>())!, ["usb", "nfc"]),
        })).Json(HttpStatusCode.OK);
        var remove = Node(added, "webauthn_remove")!;
        Assert.Equal("Remove security key \"YubiKey 5\"", remove["meta"]!["label"]!["text"]!.GetValue<string>());
        Assert.False(remove["attributes"]!["disabled"]!.GetValue<bool>()); // a second factor can always go

        // Another browser signs in with the password: an aal1 session of an identity with a second factor.
        using var second = new Browser(s.PublicUrl, acceptJson: true);
        var login = await Get(second, "/self-service/login/browser");
        var stepUp = await (await Post(second, "login", login, new JsonObject { ["method"] = "password", ["identifier"] = email, ["password"] = GoodPassword }))
            .Error(HttpStatusCode.UnprocessableEntity);
        Assert.Equal("browser_location_change_required", stepUp["id"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Forbidden, (await second.Client.GetAsync("/sessions/whoami")).StatusCode);

        var aal2 = await Get(second, "/self-service/login/browser?aal=aal2");
        var options = JsonNode.Parse(Value(aal2, "webauthn_login_trigger"))!;
        Assert.Equal(System.Buffers.Text.Base64Url.EncodeToString(key.CredentialId), options["publicKey"]!["allowCredentials"]![0]!["id"]!.GetValue<string>());
        Assert.Equal(120_000, options["publicKey"]!["timeout"]!.GetValue<int>());
        Assert.Equal(email, Value(aal2, "identifier"));
        var answer = key.Get(options);
        var session = await (await Post(second, "login", aal2, new JsonObject { ["method"] = "webauthn", ["webauthn_login"] = answer })).Json(HttpStatusCode.OK);
        Assert.Equal("aal2", session["session"]!["authenticator_assurance_level"]!.GetValue<string>());
        Assert.Equal(["password", "webauthn"], session["session"]!["authentication_methods"]!.AsArray().Select(m => m!["method"]!.GetValue<string>()));
        await (await second.Client.GetAsync("/sessions/whoami")).Json(HttpStatusCode.OK);

        // The same answer, replayed in a third browser's aal2 flow, is refused.
        using var third = new Browser(s.PublicUrl, acceptJson: true);
        var login3 = await Get(third, "/self-service/login/browser");
        await (await Post(third, "login", login3, new JsonObject { ["method"] = "password", ["identifier"] = email, ["password"] = GoodPassword })).Error(HttpStatusCode.UnprocessableEntity);
        var aal2Third = await Get(third, "/self-service/login/browser?aal=aal2");
        var replayed = await (await Post(third, "login", aal2Third, new JsonObject { ["webauthn_login"] = answer })).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4000008L, MessageIds(replayed));

        // API flows get no webauthn nodes (browser only, as Kratos).
        var api = await ApiFlow(s.Public, "login");
        Assert.Null(Node(api, "webauthn_login_trigger"));

        // Removed (from the stepped-up session), the identity is back to one factor.
        var settings2 = await Get(second, "/self-service/settings/browser");
        await (await Post(second, "settings", settings2, new JsonObject { ["webauthn_remove"] = Convert.ToHexStringLower(key.CredentialId) })).Json(HttpStatusCode.OK);
        using var fourth = new Browser(s.PublicUrl, acceptJson: true);
        var login4 = await Get(fourth, "/self-service/login/browser");
        await (await Post(fourth, "login", login4, new JsonObject { ["method"] = "password", ["identifier"] = email, ["password"] = GoodPassword })).Json(HttpStatusCode.OK);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Passwordless_keys_register_an_account_and_sign_in_by_identifier_then_key(string db)
    {
        var s = await fixture.Get(db, passwordless: true);
        // A known authenticator (Google Password Manager): the name typed at registration still wins, as in Kratos.
        using var key = new SoftwareAuthenticator(Origin) { Aaguid = Guid.Parse("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4").ToByteArray(bigEndian: true) };
        using var b = new Browser(s.PublicUrl, acceptJson: true);
        var email = HttpAssertions.UniqueEmail("pwless");
        var registration = await Get(b, "/self-service/registration/browser");
        Assert.Equal(1040004, Node(registration, "webauthn_register_trigger")!["meta"]!["label"]!["id"]!.GetValue<int>());
        var created = await (await Post(b, "registration", registration, new JsonObject
        {
            ["method"] = "webauthn",
            ["traits"] = new JsonObject { ["email"] = email },
            ["webauthn_register_displayname"] = "Laptop key",
            ["webauthn_register"] = key.Create(JsonNode.Parse(Value(registration, "webauthn_register_trigger"))!),
        })).Json(HttpStatusCode.OK);
        var identityId = created["identity"]!["id"]!.GetValue<string>();
        var identity = await (await s.AdminWithKey.GetAsync($"/admin/identities/{identityId}?include_credential=webauthn")).Json(HttpStatusCode.OK);
        var credential = identity["credentials"]!["webauthn"]!;
        Assert.Equal(email, credential["identifiers"]![0]!.GetValue<string>());
        Assert.True(credential["config"]!["credentials"]![0]!["is_passwordless"]!.GetValue<bool>());
        Assert.Equal("Laptop key", credential["config"]!["credentials"]![0]!["display_name"]!.GetValue<string>());

        using var other = new Browser(s.PublicUrl, acceptJson: true);
        var login = await Get(other, "/self-service/login/browser");
        Assert.Equal("username webauthn", Node(login, "identifier")!["attributes"]!["autocomplete"]!.GetValue<string>());
        var unknown = await (await Post(other, "login", login, new JsonObject { ["method"] = "webauthn", ["identifier"] = "nobody@example.com" })).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4000015L, MessageIds(unknown));
        var next = await (await Post(other, "login", unknown, new JsonObject { ["method"] = "webauthn", ["identifier"] = email })).Error(HttpStatusCode.UnprocessableEntity);
        Assert.Equal("browser_location_change_required", next["id"]!.GetValue<string>());
        var prepared = await Get(other, $"/self-service/login/flows?id={login["id"]}");
        Assert.Contains(1010012L, MessageIds(prepared));
        var session = await (await Post(other, "login", prepared, new JsonObject
        {
            ["method"] = "webauthn", ["identifier"] = email, ["webauthn_login"] = key.Get(JsonNode.Parse(Value(prepared, "webauthn_login_trigger"))!),
        })).Json(HttpStatusCode.OK);
        Assert.Equal("aal1", session["session"]!["authenticator_assurance_level"]!.GetValue<string>());
        Assert.Equal("webauthn", session["session"]!["authentication_methods"]![0]!["method"]!.GetValue<string>());

        // The only first factor cannot be removed.
        var settings = await Get(other, "/self-service/settings/browser");
        Assert.True(Node(settings, "webauthn_remove")!["attributes"]!["disabled"]!.GetValue<bool>());
        var refused = await (await Post(other, "settings", settings, new JsonObject { ["webauthn_remove"] = Convert.ToHexStringLower(key.CredentialId) })).Json(HttpStatusCode.BadRequest);
        // On the webauthn_remove node, not the form (Kratos's snapshot "fails to remove security key if it is passwordless
        // and the last credential available": ErrNotEnoughCredentials points at #/webauthn_remove).
        Assert.Empty(MessageIds(refused));
        var lockout = Assert.Single(Node(refused, "webauthn_remove")!["messages"]!.AsArray())!;
        Assert.Equal(4000001, lockout["id"]!.GetValue<long>());
        Assert.Equal("unable to remove this security key because it would lock you out of your account", lockout["text"]!.GetValue<string>());
        Assert.Equal("unable to remove this security key because it would lock you out of your account", lockout["context"]!["reason"]!.GetValue<string>());
        Assert.True(Node(refused, "webauthn_remove")!["attributes"]!["disabled"]!.GetValue<bool>());
    }

    /// <summary>
    /// Kratos turns the webauthn strategy's bad requests into the flow (400 with 4000001; HTML browsers 303 to the form):
    /// an answer that is not an assertion (which spends nothing: the same challenge still works), a key to remove the
    /// account does not have, and a registration answer that does not parse (with the parser's detail).
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Unparsable_answers_and_unknown_keys_to_remove_come_back_on_the_form_with_4000001(string db)
    {
        var s = await fixture.Get(db, passwordless: false);
        using var key = new SoftwareAuthenticator(Origin);
        using var b = new Browser(s.PublicUrl, acceptJson: true);
        var email = await RegisterWithPassword(s, b);
        var settings = await Get(b, "/self-service/settings/browser");
        var unparsable = await (await Post(b, "settings", settings, new JsonObject { ["method"] = "webauthn", ["webauthn_register"] = "{" })).Json(HttpStatusCode.BadRequest);
        Assert.Equal("Unable to parse WebAuthn response: Parse error for Registration", Assert.Single(unparsable["ui"]!["messages"]!.AsArray())!["text"]!.GetValue<string>());
        await (await Post(b, "settings", settings, new JsonObject
        {
            ["method"] = "webauthn", ["webauthn_register"] = key.Create(JsonNode.Parse(Value(settings, "webauthn_register_trigger"))!),
        })).Json(HttpStatusCode.OK);
        var missing = await (await Post(b, "settings", await Get(b, "/self-service/settings/browser"), new JsonObject { ["webauthn_remove"] = "00" })).Json(HttpStatusCode.BadRequest);
        var removeMessage = Assert.Single(missing["ui"]!["messages"]!.AsArray())!;
        Assert.Equal(4000001, removeMessage["id"]!.GetValue<long>());
        Assert.Equal("You tried to remove a WebAuthn credential which does not exist.", removeMessage["text"]!.GetValue<string>());

        using var second = new Browser(s.PublicUrl, acceptJson: true);
        var login = await Get(second, "/self-service/login/browser");
        await (await Post(second, "login", login, new JsonObject { ["method"] = "password", ["identifier"] = email, ["password"] = GoodPassword })).Error(HttpStatusCode.UnprocessableEntity);
        var aal2 = await Get(second, "/self-service/login/browser?aal=aal2");
        const string shaped = """{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"authenticatorData":"AAAA","clientDataJSON":"e30","signature":"AAAA"}}""";
        foreach (var answer in (string[])["{not json", "[]", "{}", shaped])
        {
            var refused = await (await Post(second, "login", aal2, new JsonObject { ["method"] = "webauthn", ["webauthn_login"] = answer })).Json(HttpStatusCode.BadRequest);
            var message = Assert.Single(refused["ui"]!["messages"]!.AsArray())!;
            Assert.Equal(4000001, message["id"]!.GetValue<long>());
            Assert.Equal("Unable to parse WebAuthn response.", message["text"]!.GetValue<string>());
        }
        var session = await (await Post(second, "login", aal2, new JsonObject
        {
            ["method"] = "webauthn", ["webauthn_login"] = key.Get(JsonNode.Parse(Value(aal2, "webauthn_login_trigger"))!),
        })).Json(HttpStatusCode.OK);
        Assert.Equal("aal2", session["session"]!["authenticator_assurance_level"]!.GetValue<string>());

        // An HTML form post goes back to the settings UI with the flow.
        using var html = new Browser(s.PublicUrl);
        html.Cookies.Add(b.Cookies.GetAllCookies());
        var init = await html.Client.GetAsync("/self-service/settings/browser");
        var id = init.Headers.Location!.ToString().Split("flow=")[1];
        var form = await (await html.Client.GetAsync($"/self-service/settings/flows?id={id}")).Json(HttpStatusCode.OK);
        var posted = await html.PostForm($"/self-service/settings?flow={id}", [new("csrf_token", Csrf(form)), new("method", "webauthn"), new("webauthn_remove", "00")]);
        Assert.Equal(HttpStatusCode.SeeOther, posted.StatusCode);
        Assert.EndsWith($"/ui/settings?flow={id}", posted.Headers.Location!.ToString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// A refresh offers (and takes) only keys of the level it refreshes (Kratos's <c>ToWebAuthnFiltered</c>; snapshots
    /// "flow=refresh-case=no_webauth_credentials-passwordless=true" and "…passwordless_enabled=true-case=mfa_v1_credentials":
    /// nothing but the CSRF token): passwordless keys for an aal1 refresh with passwordless on.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_passwordless_refresh_offers_only_passwordless_keys_and_nothing_without_one(string db)
    {
        var s = await fixture.Get(db, passwordless: true);
        using var b = new Browser(s.PublicUrl, acceptJson: true);
        await RegisterWithPassword(s, b);
        var noKeys = await Get(b, "/self-service/login/browser?refresh=true");
        Assert.DoesNotContain(noKeys["ui"]!["nodes"]!.AsArray(), n => n!["group"]!.GetValue<string>() == "webauthn");

        // An identity with a second-factor key only (imported): nothing offered, and an answer with that key is refused.
        using var mfaKey = new SoftwareAuthenticator(Origin);
        var email = HttpAssertions.UniqueEmail("mfa-only");
        await (await s.AdminWithKey.PostJson("/admin/identities", new JsonObject
        {
            ["schema_id"] = "default",
            ["traits"] = new JsonObject { ["email"] = email },
            ["credentials"] = new JsonObject
            {
                ["password"] = new JsonObject { ["config"] = new JsonObject { ["password"] = GoodPassword } },
                ["webauthn"] = new JsonObject
                {
                    ["config"] = new JsonObject
                    {
                        ["user_handle"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)),
                        ["credentials"] = new JsonArray(new JsonObject
                        {
                            ["id"] = Convert.ToBase64String(mfaKey.CredentialId),
                            ["public_key"] = Convert.ToBase64String(mfaKey.CosePublicKey()),
                            ["authenticator"] = new JsonObject { ["aaguid"] = Convert.ToBase64String(mfaKey.Aaguid), ["sign_count"] = 1 },
                            ["display_name"] = "MFA key",
                            ["is_passwordless"] = false,
                        }),
                    },
                },
            },
        })).Json(HttpStatusCode.Created);
        using var m = new Browser(s.PublicUrl, acceptJson: true);
        var login = await Get(m, "/self-service/login/browser");
        // Signed in at aal1 (the second-factor key asks for a step-up this test does not take).
        await (await Post(m, "login", login, new JsonObject { ["method"] = "password", ["identifier"] = email, ["password"] = GoodPassword })).Error(HttpStatusCode.UnprocessableEntity);
        var refresh = await Get(m, "/self-service/login/browser?refresh=true");
        Assert.DoesNotContain(refresh["ui"]!["nodes"]!.AsArray(), n => n!["group"]!.GetValue<string>() == "webauthn");
        var challenge = new JsonObject { ["publicKey"] = new JsonObject { ["challenge"] = System.Buffers.Text.Base64Url.EncodeToString(new byte[32]), ["rpId"] = "example.com" } };
        var refused = await (await Post(m, "login", refresh, new JsonObject { ["method"] = "webauthn", ["webauthn_login"] = mfaKey.Get(challenge) })).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4000013L, MessageIds(refused));

        // With a passwordless key: the refresh asks for it, and it refreshes the session.
        using var key = new SoftwareAuthenticator(Origin);
        using var p = new Browser(s.PublicUrl, acceptJson: true);
        var registration = await Get(p, "/self-service/registration/browser");
        var keyEmail = HttpAssertions.UniqueEmail("pwless-refresh");
        await (await Post(p, "registration", registration, new JsonObject
        {
            ["method"] = "webauthn", ["traits"] = new JsonObject { ["email"] = keyEmail },
            ["webauthn_register"] = key.Create(JsonNode.Parse(Value(registration, "webauthn_register_trigger"))!),
        })).Json(HttpStatusCode.OK);
        var withKey = await Get(p, "/self-service/login/browser?refresh=true");
        var options = JsonNode.Parse(Value(withKey, "webauthn_login_trigger"))!;
        Assert.Equal(System.Buffers.Text.Base64Url.EncodeToString(key.CredentialId), Assert.Single(options["publicKey"]!["allowCredentials"]!.AsArray())!["id"]!.GetValue<string>());
        Assert.Equal(keyEmail, Value(withKey, "identifier"));
        await (await Post(p, "login", withKey, new JsonObject { ["method"] = "webauthn", ["webauthn_login"] = key.Get(options) })).Json(HttpStatusCode.OK);
    }
}
