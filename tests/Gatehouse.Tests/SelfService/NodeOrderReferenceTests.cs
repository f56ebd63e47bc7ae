using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.SelfService;

/// <summary>Servers per provider and method set, with the identity schema of Kratos's passkey and webauthn tests (foobar, then username).</summary>
public sealed class NodeOrderServerFixture : IAsyncDisposable
{
    public const string Origin = "https://auth.example.com";

    private const string Schema = """
    {
      "$schema": "http://json-schema.org/draft-07/schema#",
      "type": "object",
      "properties": {
        "traits": {
          "type": "object",
          "properties": {
            "foobar": { "type": "string", "minLength": 2 },
            "username": {
              "type": "string",
              "ory.sh/kratos": {
                "credentials": { "password": { "identifier": true }, "webauthn": { "identifier": true }, "passkey": { "display_name": true } }
              }
            }
          },
          "required": ["foobar", "username"]
        }
      },
      "additionalProperties": false
    }
    """;

    /// <summary>The schema of Kratos's oidc settings tests: an e-mail address and a name.</summary>
    private const string EmailNameSchema = """
    {
      "$schema": "http://json-schema.org/draft-07/schema#",
      "type": "object",
      "properties": {
        "traits": {
          "type": "object",
          "properties": {
            "email": {
              "type": "string", "format": "email",
              "ory.sh/kratos": { "credentials": { "password": { "identifier": true } } }
            },
            "name": { "type": "string" }
          },
          "required": ["email"]
        }
      },
      "additionalProperties": false
    }
    """;

    /// <summary>
    /// For the code method as a second factor: a password identifier that is also a code address, and two more code addresses
    /// (an e-mail address and a phone number), as Kratos's code login tests have.
    /// </summary>
    private const string CodeSchema = """
    {
      "$schema": "http://json-schema.org/draft-07/schema#",
      "type": "object",
      "properties": {
        "traits": {
          "type": "object",
          "properties": {
            "email": {
              "type": "string", "format": "email",
              "ory.sh/kratos": { "credentials": { "password": { "identifier": true }, "code": { "identifier": true, "via": "email" } } }
            },
            "email_1": {
              "type": "string", "format": "email",
              "ory.sh/kratos": { "credentials": { "code": { "identifier": true, "via": "email" } } }
            },
            "phone_1": {
              "type": "string", "format": "tel",
              "ory.sh/kratos": { "credentials": { "code": { "identifier": true, "via": "sms" } } }
            }
          },
          "required": ["email"]
        }
      },
      "additionalProperties": false
    }
    """;

    private readonly Dictionary<string, Task<TestServer>> _servers = [];
    private readonly Lock _lock = new();

    public Task<TestServer> Get(string provider, string methods)
    {
        lock (_lock)
        {
            if (!_servers.TryGetValue(provider + "/" + methods, out var server))
            {
                server = TestServer.StartAsync(provider, o => Configure(o, methods));
                _servers[provider + "/" + methods] = server;
            }
            return server;
        }
    }

    private static void Configure(GatehouseOptions o, string methods)
    {
        var on = methods.Split('+').ToHashSet(StringComparer.Ordinal);
        FlowServerFixture.Configure(o);
        o.Identity.Schemas = [new IdentitySchemaEntry { Id = "default", Url = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(on.Contains("email-name") ? EmailNameSchema : on.Contains("code-mfa") ? CodeSchema : Schema)) }];
        o.Selfservice.Methods.Code.Enabled = on.Contains("code-mfa");
        o.Selfservice.Methods.Code.MfaEnabled = on.Contains("code-mfa");
        // As Kratos's settings tests: an aal1 session may change its second factors.
        o.Selfservice.Flows.Settings.RequiredAal = "aal1";
        o.Session.Whoami.RequiredAal = "aal1";
        o.Selfservice.Methods.Password.Enabled = on.Contains("password");
        o.Selfservice.Methods.Profile.Enabled = !on.Contains("no-profile");
        o.Selfservice.Methods.Totp.Enabled = on.Contains("totp");
        o.Selfservice.Methods.LookupSecret.Enabled = on.Contains("lookup_secret");
        var rp = new WebAuthnRelyingPartyOptions { Id = "example.com", DisplayName = "Example", Origins = [Origin] };
        if (on.Contains("passkey"))
        {
            o.Selfservice.Methods.Passkey.Enabled = true;
            o.Selfservice.Methods.Passkey.Config.Rp = rp;
        }
        if (on.Contains("webauthn") || on.Contains("webauthn-mfa"))
        {
            o.Selfservice.Methods.Webauthn.Enabled = true;
            o.Selfservice.Methods.Webauthn.Config.Passwordless = on.Contains("webauthn");
            o.Selfservice.Methods.Webauthn.Config.Rp = rp;
        }
        if (on.Contains("oidc"))
        {
            o.Selfservice.Methods.Oidc.Enabled = true;
            // Kratos's settings test providers (selfservice/strategy/oidc/strategy_settings_test.go), in its order.
            o.Selfservice.Methods.Oidc.Config.Providers = [.. new[] { "ory", "google", "github" }.Select(id => new OidcProviderOptions
            {
                Id = id, Provider = "generic", ClientId = "client", ClientSecret = "secret", IssuerUrl = $"https://{id}.idp.example.com",
                MapperUrl = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes("local claims = std.extVar('claims'); { identity: { traits: { email: claims.email } } }")),
            })];
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
/// The order of <c>ui.nodes</c> (name and group, node for node) against Kratos's own snapshots of the same forms: a new
/// flow, and the form a failed submit answers (Kratos sorts both). Skips when the reference data is absent.
/// </summary>
public sealed class NodeOrderReferenceTests(NodeOrderServerFixture fixture) : IClassFixture<NodeOrderServerFixture>
{
    public static TheoryData<string, string, string, string> Cases
    {
        get
        {
            var data = new TheoryData<string, string, string, string>();
            foreach (var db in Db.Providers)
            {
                data.Add(db, "password+passkey", "registration", "methods/snapshots/passkey/TestRegistration-case=passkey_button_exists-spa.json");
                data.Add(db, "password+webauthn", "registration", "methods/snapshots/webauthn/TestRegistration-case=webauthn_button_exists-spa.json");
                data.Add(db, "passkey", "login", "methods/snapshots/passkey/TestCompleteLogin-flow=passwordless-case=passkey_button_exists.json");
                data.Add(db, "webauthn", "login", "methods/snapshots/webauthn/TestCompleteLogin-flow=passwordless-case=webauthn_button_exists.json");
            }
            return data;
        }
    }

    [Theory, MemberData(nameof(Cases))]
    public async Task A_new_browser_flow_has_the_node_order_of_Kratos_snapshot(string db, string methods, string kind, string snapshot)
    {
        var expected = await ExpectedOrder(snapshot);
        using var browser = await Browser(db, methods);
        var flow = await (await browser.GetAsync($"/self-service/{kind}/browser")).Json(HttpStatusCode.OK);
        Assert.Equal(expected, Order(flow));
    }

    [Theory, MemberData(nameof(Cases))]
    public async Task A_failed_submit_answers_the_form_in_the_node_order_of_Kratos_snapshot(string db, string methods, string kind, string snapshot)
    {
        var expected = await ExpectedOrder(snapshot);
        using var browser = await Browser(db, methods);
        var flow = await (await browser.GetAsync($"/self-service/{kind}/browser")).Json(HttpStatusCode.OK);
        var csrf = flow["ui"]!["nodes"]!.AsArray().Single(n => (string?)n!["attributes"]!["name"] == "csrf_token")!["attributes"]!["value"]!.GetValue<string>();
        // A method no form offers: Kratos's "could not find a strategy" on the form, as every failed submit is answered.
        var failed = await (await browser.PostJson($"/self-service/{kind}?flow={flow["id"]}", new JsonObject { ["csrf_token"] = csrf, ["method"] = "no-such-method" }))
            .Json(HttpStatusCode.BadRequest);
        Assert.Equal(expected, Order(failed));
    }

    public static TheoryData<string, string, string, string> SecondFactorCases
    {
        get
        {
            var data = new TheoryData<string, string, string, string>();
            foreach (var db in Db.Providers)
            {
                data.Add(db, "password+totp", "totp", "methods/snapshots/totp/TestCompleteLogin-case=totp_payload_is_set_when_identity_has_totp.json");
                data.Add(db, "password+lookup_secret", "lookup_secret", "methods/snapshots/lookup/TestCompleteLogin-case=lookup_payload_is_set_when_identity_has_lookup.json");
                data.Add(db, "password+webauthn-mfa", "webauthn", "methods/snapshots/webauthn/TestCompleteLogin-flow=mfa-case=webauthn_payload_is_set_when_identity_has_webauthn.json");
            }
            return data;
        }
    }

    /// <summary>The aal2 login of an identity with a second factor (signed in with its password) has Kratos's nodes in its order.</summary>
    [Theory, MemberData(nameof(SecondFactorCases))]
    public async Task An_aal2_login_has_the_nodes_of_Kratos_snapshot(string db, string methods, string credentials, string snapshot)
    {
        var expected = await ExpectedNodes(snapshot);
        using var browser = await SignedIn(db, methods, credentials);
        var flow = await (await browser.GetAsync("/self-service/login/browser?aal=aal2")).Json(HttpStatusCode.OK);
        Assert.Equal(expected, Describe(flow["ui"]!["nodes"]!.AsArray()));
    }

    public static TheoryData<string, string, string, string, string> CodeSecondFactorCases
    {
        get
        {
            const string folder = "methods/snapshots/code/TestLoginCodeStrategy-test=Browser_client-suite=mfa-case=";
            var data = new TheoryData<string, string, string, string, string>();
            foreach (var db in Db.Providers)
            {
                data.Add(db, "totp", "", "phone_1", folder + "without_via_parameter_all_options_are_shown-field=identifier-email.json");
                data.Add(db, "totp", "email_1", "", folder + "verify_initial_payload_without_fast_login.json");
                data.Add(db, "", "email_1", "", folder + "verify_initial_payload_with_fast_login.json");
            }
            return data;
        }
    }

    /// <summary>
    /// The aal2 login offering codes (<c>code.mfa_enabled</c>) to an identity signed in with its password: every code address
    /// (sorted by address), the one <c>?via=</c> picks beside the identity's TOTP app, and the one <c>?via=</c> picks when it
    /// is the only second factor (the code is sent at once; Kratos shows that step as the method made it, unsorted). The
    /// identity's addresses stand for those of Kratos's test (same order), and are renamed to them before comparing.
    /// Where the snapshot holds only the code group, only that group is compared.
    /// </summary>
    [Theory, MemberData(nameof(CodeSecondFactorCases))]
    public async Task An_aal2_login_with_codes_has_the_nodes_of_Kratos_snapshot(string db, string credentials, string via, string phone, string snapshot)
    {
        var expected = await ExpectedNodes(snapshot);
        var groups = SnapshotGroups(snapshot);
        var unique = Guid.NewGuid().ToString("N")[..10];
        var traits = new JsonObject { ["email"] = $"code-mfa-1-{unique}@example.com", ["email_1"] = $"code-mfa-2-{unique}@example.com" };
        if (phone.Length > 0) traits["phone_1"] = "+49176" + Random.Shared.Next(1_000_000, 9_999_999);
        var kratosValue = new Dictionary<string, string>
        {
            [(string)traits["email"]!] = "code-mfa-1browser@ory.sh",
            [(string)traits["email_1"]!] = snapshot.Contains("with_fast_login", StringComparison.Ordinal) ? "fixed_mfa_test_fast_browser@ory.sh"
                : snapshot.Contains("without_fast_login", StringComparison.Ordinal) ? "fixed_mfa_test_browser@ory.sh" : "code-mfa-2browser@ory.sh",
        };
        if (traits["phone_1"] is { } p) kratosValue[(string)p!] = "+4917613213110";
        using var browser = await SignedIn(db, "password+totp+code-mfa", credentials, traits);
        var flow = await (await browser.GetAsync("/self-service/login/browser?aal=aal2" + (via.Length > 0 ? "&via=" + via : ""))).Json(HttpStatusCode.OK);
        var nodes = flow["ui"]!["nodes"]!.AsArray().Where(n => groups.Contains((string)n!["group"]!)).Select(n => n!.DeepClone()).ToList();
        foreach (var n in nodes)
        {
            if (n["attributes"]!["value"] is JsonValue v && v.TryGetValue<string>(out var value) && kratosValue.TryGetValue(value, out var theirs)) n["attributes"]!["value"] = theirs;
        }
        Assert.Equal(expected, Describe(new JsonArray([.. nodes])));
    }

    public static TheoryData<string, string, string, string> SettingsCases
    {
        get
        {
            var data = new TheoryData<string, string, string, string>();
            foreach (var db in Db.Providers)
            {
                data.Add(db, "password+no-profile+totp", "", "methods/snapshots/totp/TestCompleteSettings-case=device_setup_is_available_when_identity_has_no_totp_yet.json");
                data.Add(db, "password+no-profile+totp", "totp", "methods/snapshots/totp/TestCompleteSettings-case=device_unlinking_is_available_when_identity_has_totp.json");
                data.Add(db, "password+no-profile+lookup_secret", "", "methods/snapshots/lookup/TestCompleteSettings-case=button_for_regeneration_is_displayed_when_identity_has_no_recovery_codes_yet-case=browser.json");
                data.Add(db, "password+no-profile+lookup_secret", "lookup_secret", "methods/snapshots/lookup/TestCompleteSettings-case=hide_recovery_codes_behind_reveal_button_and_show_disable_button-case=browser.json");
                data.Add(db, "password+no-profile+webauthn-mfa", "", "methods/snapshots/webauthn/TestCompleteSettings-case=one_activation_element_is_shown.json");
                data.Add(db, "password+no-profile+webauthn-mfa", "webauthn", "methods/snapshots/webauthn/TestCompleteSettings-case=a_device_is_shown_which_can_be_unlinked.json");
                data.Add(db, "password+no-profile+passkey", "", "methods/snapshots/passkey/TestCompleteSettings-case=one_activation_element_is_shown.json");
                data.Add(db, "password+no-profile+passkey", "passkey", "methods/snapshots/passkey/TestCompleteSettings-case=a_device_is_shown_which_can_be_unlinked.json");
                data.Add(db, "password+oidc+email-name", "", "methods/snapshots/oidc/TestSettingsStrategy-case=should_adjust_linkable_providers_based_on_linked_credentials-agent=password.json");
                data.Add(db, "password+oidc+email-name", "oidc", "methods/snapshots/oidc/TestSettingsStrategy-case=should_adjust_linkable_providers_based_on_linked_credentials-agent=multiuser.json");
            }
            return data;
        }
    }

    /// <summary>
    /// A settings flow has Kratos's nodes in its order. Kratos's settings tests turn the password method off (their sessions
    /// are made directly); here the session comes from a password login, so the password group is compared only where the
    /// snapshot has it: the nodes of the snapshot's groups are compared, in order.
    /// </summary>
    [Theory, MemberData(nameof(SettingsCases))]
    public async Task A_settings_flow_has_the_nodes_of_Kratos_snapshot(string db, string methods, string credentials, string snapshot)
    {
        var expected = await ExpectedNodes(snapshot);
        var groups = SnapshotGroups(snapshot);
        using var browser = await SignedIn(db, methods, credentials);
        var flow = await (await browser.GetAsync("/self-service/settings/browser")).Json(HttpStatusCode.OK);
        Assert.Equal(expected, Describe(new JsonArray([.. flow["ui"]!["nodes"]!.AsArray().Where(n => groups.Contains((string)n!["group"]!)).Select(n => n!.DeepClone())])));
    }

    /// <summary>
    /// A browser signed in (aal1, by password) as a new identity holding a password and, per <paramref name="credentials"/>,
    /// Kratos's test credentials: a TOTP app, recovery codes, two security keys or passkeys (ids <c>barbar</c> and
    /// <c>foofoo</c>), two linked providers (google, ory).
    /// </summary>
    private async Task<HttpClient> SignedIn(string db, string methods, string credentials, JsonObject? traits = null)
    {
        var s = await fixture.Get(db, methods);
        var login = "user-" + Guid.NewGuid().ToString("N")[..12];
        var emailSchema = methods.Contains("email-name", StringComparison.Ordinal);
        if (emailSchema) login += "@example.com";
        if (traits?["email"] is { } email) login = (string)email!;
        var creds = new JsonObject { ["password"] = new JsonObject { ["config"] = new JsonObject { ["password"] = FlowTestHelpers.GoodPassword } } };
        JsonArray Keys(bool passwordless) =>
        [
            .. new[] { "YmFyYmFy", "Zm9vZm9v" }.Select(id => (JsonNode)new JsonObject
            {
                ["id"] = id, ["public_key"] = "cHVibGljLWtleQ==", ["attestation_type"] = "none", ["display_name"] = id,
                ["authenticator"] = new JsonObject { ["aaguid"] = "", ["sign_count"] = 0, ["clone_warning"] = false },
                ["is_passwordless"] = passwordless, ["added_at"] = "2024-01-01T00:00:00Z",
            }),
        ];
        var handle = Convert.ToBase64String(Guid.NewGuid().ToByteArray());
        switch (credentials)
        {
            case "totp":
                creds["totp"] = new JsonObject { ["config"] = new JsonObject { ["totp_url"] = "otpauth://totp/Example:" + login + "?secret=JBSWY3DPEHPK3PXP&issuer=Example" } };
                break;
            case "lookup_secret":
                creds["lookup_secret"] = new JsonObject { ["config"] = new JsonObject { ["codes"] = new JsonArray(new JsonObject { ["code"] = "aaaa1111" }, new JsonObject { ["code"] = "bbbb2222" }) } };
                break;
            case "webauthn":
                creds["webauthn"] = new JsonObject { ["config"] = new JsonObject { ["credentials"] = Keys(false), ["user_handle"] = handle } };
                break;
            case "passkey":
                creds["passkey"] = new JsonObject { ["config"] = new JsonObject { ["credentials"] = Keys(true), ["user_handle"] = handle } };
                break;
            case "oidc":
                creds["oidc"] = new JsonObject
                {
                    ["config"] = new JsonObject
                    {
                        ["providers"] = new JsonArray(
                            new JsonObject { ["provider"] = "google", ["subject"] = login },
                            new JsonObject { ["provider"] = "ory", ["subject"] = login }),
                    },
                };
                break;
        }
        traits ??= emailSchema ? new JsonObject { ["email"] = login } : new JsonObject { ["foobar"] = "foobar", ["username"] = login };
        await (await s.AdminWithKey.PostJson("/admin/identities", new JsonObject { ["schema_id"] = "default", ["traits"] = traits, ["credentials"] = creds })).Json(HttpStatusCode.Created);

        var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true }) { BaseAddress = s.Public.BaseAddress };
        browser.DefaultRequestHeaders.Accept.ParseAdd("application/json");
        var flow = await (await browser.GetAsync("/self-service/login/browser")).Json(HttpStatusCode.OK);
        var csrf = flow["ui"]!["nodes"]!.AsArray().Single(n => (string?)n!["attributes"]!["name"] == "csrf_token")!["attributes"]!["value"]!.GetValue<string>();
        await (await browser.PostJson($"/self-service/login?flow={flow["id"]}",
            new JsonObject { ["csrf_token"] = csrf, ["method"] = "password", ["identifier"] = login, ["password"] = FlowTestHelpers.GoodPassword })).Json(HttpStatusCode.OK);
        return browser;
    }

    private static HashSet<string> SnapshotGroups(string snapshot)
    {
        var nodes = JsonNode.Parse(File.ReadAllText(SnapshotPath(snapshot)))!;
        return [.. (nodes is JsonArray a ? a : nodes["ui"]!["nodes"]!.AsArray()).Select(n => (string)n!["group"]!)];
    }

    private static string SnapshotPath(string snapshot)
    {
        var folder = Gatehouse.Tests.Config.ConfigFiles.KratosReference();
        var path = folder is null ? null : Path.Combine(folder, snapshot);
        Assert.SkipWhen(path is null || !File.Exists(path), "The Kratos reference snapshots (shared/reference/kratos) are not available.");
        return path!;
    }

    private static async Task<List<string>> ExpectedNodes(string snapshot)
    {
        var nodes = JsonNode.Parse(await File.ReadAllTextAsync(SnapshotPath(snapshot)))!;
        return Describe(nodes is JsonArray a ? a : nodes["ui"]!["nodes"]!.AsArray());
    }

    /// <summary>
    /// Each node as its group, node type, name (or id), input type and, for submit buttons, the value they send (a method,
    /// a provider, a key's id): what sets a node's place and what it does. Other values (CSRF token, WebAuthn options on
    /// hidden fields and triggers) and texts vary per flow and are left out, as Kratos's snapshots leave them out.
    /// </summary>
    private static List<string> Describe(JsonArray nodes) =>
    [
        .. nodes.Select(n =>
        {
            var a = n!["attributes"]!;
            var type = (string?)a["type"];
            var value = type is "submit" && a["value"] is JsonValue v ? " = " + (v.TryGetValue<string>(out var sv) ? sv : v.ToJsonString()) : "";
            return $"{n["group"]} {n["type"]} {(string?)a["name"] ?? (string?)a["id"]} {type}{value}";
        }),
    ];

    private async Task<HttpClient> Browser(string db, string methods)
    {
        var s = await fixture.Get(db, methods);
        var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true }) { BaseAddress = s.Public.BaseAddress };
        browser.DefaultRequestHeaders.Accept.ParseAdd("application/json");
        return browser;
    }

    private static async Task<List<string>> ExpectedOrder(string snapshot)
    {
        var folder = Gatehouse.Tests.Config.ConfigFiles.KratosReference();
        var path = folder is null ? null : Path.Combine(folder, snapshot);
        Assert.SkipWhen(path is null || !File.Exists(path), "The Kratos reference snapshots (shared/reference/kratos) are not available.");
        var nodes = JsonNode.Parse(await File.ReadAllTextAsync(path!))!;
        return Order(nodes is JsonArray ? nodes : nodes["ui"]!["nodes"]!);
    }

    private static List<string> Order(JsonNode flowOrNodes)
    {
        var nodes = flowOrNodes is JsonArray a ? a : flowOrNodes["ui"]!["nodes"]!.AsArray();
        return [.. nodes.Select(n => $"{(string?)n!["attributes"]!["name"] ?? (string?)n["attributes"]!["id"]} ({n["group"]})")];
    }
}
