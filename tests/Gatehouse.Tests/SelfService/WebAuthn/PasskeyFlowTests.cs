using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService.WebAuthn;

/// <summary>Servers per provider with the passkey method on (RP example.com, origin https://auth.example.com).</summary>
public sealed class PasskeyServerFixture : IAsyncDisposable
{
    public const string Origin = "https://auth.example.com";

    /// <summary>The email is the password identifier, the webauthn identifier and the passkey display name.</summary>
    public const string Schema = """
    {
      "$schema": "http://json-schema.org/draft-07/schema#",
      "type": "object",
      "properties": {
        "traits": {
          "type": "object",
          "properties": {
            "email": {
              "type": "string", "format": "email", "title": "E-Mail",
              "ory.sh/kratos": {
                "credentials": { "password": { "identifier": true }, "webauthn": { "identifier": true }, "passkey": { "display_name": true } }
              }
            }
          },
          "required": ["email"],
          "additionalProperties": false
        }
      }
    }
    """;

    private readonly Dictionary<string, Task<TestServer>> _servers = [];
    private readonly Lock _lock = new();

    public static void Configure(GatehouseOptions o)
    {
        FlowServerFixture.Configure(o);
        o.Selfservice.Methods.Passkey.Enabled = true;
        o.Selfservice.Methods.Passkey.Config.Rp = new WebAuthnRelyingPartyOptions { Id = "example.com", DisplayName = "Example", Origins = [Origin] };
        o.Selfservice.Flows.Registration.After.Passkey = new FlowAfterMethodOptions { Hooks = [new HookConfig { Hook = "session" }] };
        o.Identity.Schemas = [new IdentitySchemaEntry { Id = "default", Url = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(Schema)) }];
    }

    public Task<TestServer> Get(string provider, string key = "default", Action<GatehouseOptions>? extra = null)
    {
        lock (_lock)
        {
            if (!_servers.TryGetValue(provider + "/" + key, out var server))
            {
                server = TestServer.StartAsync(provider, o => { Configure(o); extra?.Invoke(o); });
                _servers[provider + "/" + key] = server;
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
/// The passkey method through the public API: registration (traits, then a passkey), sign-in with no identifier typed,
/// settings add/remove, the admin view; each challenge bound to its flow and spent once; wrong origin and sign-count
/// regression refused; the served webauthn.js matching the script node's integrity.
/// </summary>
public sealed class PasskeyFlowTests(PasskeyServerFixture fixture) : IClassFixture<PasskeyServerFixture>
{
    private const string Origin = PasskeyServerFixture.Origin;

    private static string Value(JsonNode flow, string name) => Node(flow, name)!["attributes"]!["value"]!.GetValue<string>();

    private static HttpRequestMessage WithToken(HttpMethod method, string url, string token, JsonNode? body = null)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Add("X-Session-Token", token);
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        return request;
    }

    /// <summary>Registers with a passkey through an API flow: the email, the session token and the identity id.</summary>
    private static async Task<(string Email, string Token, string IdentityId)> RegisterWithPasskey(TestServer s, SoftwareAuthenticator authenticator)
    {
        var email = HttpAssertions.UniqueEmail("passkey");
        var flow = await ApiFlow(s.Public, "registration");
        var createData = JsonNode.Parse(Value(flow, "passkey_create_data"))!;
        Assert.Equal("traits.email", createData["displayNameFieldName"]!.GetValue<string>());
        var body = await (await s.Public.PostJson($"/self-service/registration?flow={flow["id"]}", new JsonObject
        {
            ["method"] = "passkey",
            ["traits"] = new JsonObject { ["email"] = email },
            ["passkey_register"] = authenticator.Create(createData["credentialOptions"]!),
        })).Json(HttpStatusCode.OK);
        return (email, body["session_token"]!.GetValue<string>(), body["identity"]!["id"]!.GetValue<string>());
    }

    private static async Task<HttpResponseMessage> PasskeyLogin(TestServer s, JsonNode flow, string answer) =>
        await s.Public.PostJson($"/self-service/login?flow={flow["id"]}", new JsonObject { ["method"] = "passkey", ["passkey_login"] = answer });

    private static JsonNode Challenge(JsonNode flow) => JsonNode.Parse(Value(flow, "passkey_challenge"))!;

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Register_with_a_passkey_then_sign_in_without_typing_an_identifier(string db)
    {
        var s = await fixture.Get(db);
        using var authenticator = new SoftwareAuthenticator(Origin);
        var registration = await ApiFlow(s.Public, "registration");
        // API flows: the options and the trigger's function name, no script and no inline handler (Kratos).
        Assert.Null(Node(registration, "passkey_register_trigger")!["attributes"]!["onclick"]);
        Assert.Equal("oryPasskeyRegistration", Node(registration, "passkey_register_trigger")!["attributes"]!["onclickTrigger"]!.GetValue<string>());
        Assert.DoesNotContain(registration["ui"]!["nodes"]!.AsArray(), n => n!["type"]!.GetValue<string>() == "script");

        var (_, token, identityId) = await RegisterWithPasskey(s, authenticator);
        var whoami = await (await s.Public.SendAsync(WithToken(HttpMethod.Get, "/sessions/whoami", token))).Json(HttpStatusCode.OK);
        Assert.Equal("passkey", whoami["authentication_methods"]![0]!["method"]!.GetValue<string>());

        var login = await ApiFlow(s.Public, "login");
        Assert.Equal("username webauthn", Node(login, "identifier")!["attributes"]!["autocomplete"]!.GetValue<string>());
        Assert.Empty(Challenge(login)["publicKey"]!["allowCredentials"]?.AsArray() ?? []);
        var session = await (await PasskeyLogin(s, login, authenticator.Get(Challenge(login)))).Json(HttpStatusCode.OK);
        Assert.Equal(identityId, session["session"]!["identity"]!["id"]!.GetValue<string>());
        Assert.Equal("passkey", session["session"]!["authentication_methods"]![0]!["method"]!.GetValue<string>());
        Assert.Equal("aal1", session["session"]!["authenticator_assurance_level"]!.GetValue<string>());

        // The stored key: Kratos's shape, sign count and last use updated, nothing secret.
        var identity = await (await s.AdminWithKey.GetAsync($"/admin/identities/{identityId}?include_credential=passkey")).Json(HttpStatusCode.OK);
        var passkey = identity["credentials"]!["passkey"]!;
        Assert.Equal(Encoding.ASCII.GetString(authenticator.UserHandle!), passkey["identifiers"]![0]!.GetValue<string>());
        Assert.Equal(Convert.ToBase64String(authenticator.UserHandle!), passkey["config"]!["user_handle"]!.GetValue<string>());
        var key = passkey["config"]!["credentials"]![0]!;
        Assert.Equal(Convert.ToBase64String(authenticator.CredentialId), key["id"]!.GetValue<string>());
        Assert.Equal(Convert.ToBase64String(authenticator.Aaguid), key["authenticator"]!["aaguid"]!.GetValue<string>());
        Assert.Equal(2, key["authenticator"]!["sign_count"]!.GetValue<int>());
        Assert.True(key["is_passwordless"]!.GetValue<bool>());
        Assert.Equal(["internal", "hybrid"], key["transport"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.NotNull(key["public_key"]);
        Assert.NotNull(key["added_at"]);
        Assert.NotNull(key["last_used_at"]);
        // The admin API does not remove passkeys (Kratos).
        await (await s.AdminWithKey.DeleteAsync($"/admin/identities/{identityId}/credentials/passkey")).Error(HttpStatusCode.BadRequest);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Config_attestation_and_timeouts_shape_the_ceremony_options(string db)
    {
        static JsonNode Creation(JsonNode flow) => JsonNode.Parse(Value(flow, "passkey_create_data"))!["credentialOptions"]!["publicKey"]!;

        // Kratos's defaults: no attestation asked for; go-webauthn's five minutes (user verification preferred).
        var defaults = await fixture.Get(db);
        var creation = Creation(await ApiFlow(defaults.Public, "registration"));
        Assert.Equal("none", creation["attestation"]!.GetValue<string>());
        Assert.Equal(300_000, creation["timeout"]!.GetValue<int>());
        Assert.Equal(300_000, Challenge(await ApiFlow(defaults.Public, "login"))["publicKey"]!["timeout"]!.GetValue<int>());

        var s = await fixture.Get(db, "attestation-timeouts", o =>
        {
            o.Selfservice.Methods.Passkey.Config.Attestation.Preference = "direct";
            o.Selfservice.Methods.Passkey.Config.Timeouts.Registration = TimeSpan.FromSeconds(60);
            o.Selfservice.Methods.Passkey.Config.Timeouts.Login = TimeSpan.FromSeconds(90);
        });
        creation = Creation(await ApiFlow(s.Public, "registration"));
        Assert.Equal("direct", creation["attestation"]!.GetValue<string>());
        Assert.Equal(60_000, creation["timeout"]!.GetValue<int>());
        Assert.Equal(90_000, Challenge(await ApiFlow(s.Public, "login"))["publicKey"]!["timeout"]!.GetValue<int>());
        // An authenticator may still answer without an attestation statement; the passkey is registered and signs in.
        using var authenticator = new SoftwareAuthenticator(Origin);
        var (_, _, identityId) = await RegisterWithPasskey(s, authenticator);
        var login = await ApiFlow(s.Public, "login");
        var session = await (await PasskeyLogin(s, login, authenticator.Get(Challenge(login)))).Json(HttpStatusCode.OK);
        Assert.Equal(identityId, session["session"]!["identity"]!["id"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_challenge_is_spent_once_and_a_replayed_or_refused_answer_gets_a_fresh_one(string db)
    {
        var s = await fixture.Get(db);
        using var authenticator = new SoftwareAuthenticator(Origin);
        await RegisterWithPasskey(s, authenticator);
        var first = await ApiFlow(s.Public, "login");
        var answer = authenticator.Get(Challenge(first));
        await (await PasskeyLogin(s, first, answer)).Json(HttpStatusCode.OK);

        // The recorded answer, replayed on a new flow: its challenge is not this flow's.
        var second = await ApiFlow(s.Public, "login");
        var refused = await (await PasskeyLogin(s, second, answer)).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4000008L, MessageIds(refused));
        // The spent challenge was replaced: the form carries a new one, and the old one no longer works either.
        Assert.NotEqual(Value(second, "passkey_challenge"), Value(refused, "passkey_challenge"));
        var late = await (await PasskeyLogin(s, second, authenticator.Get(Challenge(second)))).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4000008L, MessageIds(late));
        // The fresh one does.
        await (await PasskeyLogin(s, late, authenticator.Get(Challenge(late)))).Json(HttpStatusCode.OK);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_passkey_submit_without_an_answer_sends_the_browser_to_the_form_and_signs_nobody_in(string db)
    {
        var s = await fixture.Get(db);
        var flow = await ApiFlow(s.Public, "login");
        // Kratos: 422 browser_location_change_required with the login UI for this flow (303 for an HTML browser).
        var answer = await (await s.Public.PostJson($"/self-service/login?flow={flow["id"]}", new JsonObject { ["method"] = "passkey" })).Json((HttpStatusCode)422);
        Assert.Equal("browser_location_change_required", answer["error"]!["id"]!.GetValue<string>());
        var to = answer["redirect_browser_to"]!.GetValue<string>();
        Assert.Contains("/ui/login?flow=" + flow["id"]!.GetValue<string>(), to, StringComparison.Ordinal);
        // The flow still takes an answer to its challenge.
        using var authenticator = new SoftwareAuthenticator(Origin);
        await RegisterWithPasskey(s, authenticator);
        var again = await (await s.Public.GetAsync($"/self-service/login/flows?id={flow["id"]}")).Json(HttpStatusCode.OK);
        Assert.Equal(Value(flow, "passkey_challenge"), Value(again, "passkey_challenge"));
        await (await PasskeyLogin(s, again, authenticator.Get(Challenge(again)))).Json(HttpStatusCode.OK);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Wrong_origin_unknown_user_and_sign_count_regression_are_refused(string db)
    {
        var s = await fixture.Get(db);
        using var authenticator = new SoftwareAuthenticator(Origin);
        var (_, _, identityId) = await RegisterWithPasskey(s, authenticator);

        var flow = await ApiFlow(s.Public, "login");
        authenticator.Origin = "https://evil.example.net";
        var wrongOrigin = await (await PasskeyLogin(s, flow, authenticator.Get(Challenge(flow)))).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4000008L, MessageIds(wrongOrigin));
        authenticator.Origin = Origin;

        using var stranger = new SoftwareAuthenticator(Origin);
        stranger.Create(JsonNode.Parse(Value(await ApiFlow(s.Public, "registration"), "passkey_create_data"))!["credentialOptions"]!); // never submitted
        var unknown = await (await PasskeyLogin(s, wrongOrigin, stranger.Get(Challenge(wrongOrigin)))).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4000015L, MessageIds(unknown));

        await (await PasskeyLogin(s, unknown, authenticator.Get(Challenge(unknown)))).Json(HttpStatusCode.OK); // count 2… now stored
        var again = await ApiFlow(s.Public, "login");
        authenticator.SignCount = 1; // a copy of the authenticator, behind the stored count
        var cloned = await (await PasskeyLogin(s, again, authenticator.Get(Challenge(again)))).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4000008L, MessageIds(cloned));
        var identity = await (await s.AdminWithKey.GetAsync($"/admin/identities/{identityId}?include_credential=passkey")).Json(HttpStatusCode.OK);
        Assert.True(identity["credentials"]!["passkey"]!["config"]!["credentials"]![0]!["authenticator"]!["clone_warning"]!.GetValue<bool>());

        // Not a WebAuthn answer at all: 400 with the form and 4000001, as Kratos (passkey_login_test.go "should fail if passkey login is invalid").
        var garbage = await (await PasskeyLogin(s, cloned, "{\"id\":1}")).Json(HttpStatusCode.BadRequest);
        Assert.Equal("Unable to parse WebAuthn response.", Assert.Single(garbage["ui"]!["messages"]!.AsArray())!["text"]!.GetValue<string>());
    }

    /// <summary>
    /// Kratos turns the bad requests of passkey login and settings into the flow (400 with 4000001; HTML browsers 303 to
    /// the form), and a malformed answer changes nothing: the same challenge still signs in.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Unparsable_answers_and_unknown_keys_to_remove_come_back_on_the_form_with_4000001(string db)
    {
        var s = await fixture.Get(db);
        using var authenticator = new SoftwareAuthenticator(Origin);
        var (_, token, _) = await RegisterWithPasskey(s, authenticator);

        var flow = await ApiFlow(s.Public, "login");
        // Well shaped, but Kratos's parser rejects 3 bytes of authenticator data: a parse error, not an unknown account.
        const string shaped = """{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"authenticatorData":"AAAA","clientDataJSON":"e30","signature":"AAAA","userHandle":"AAAA"}}""";
        foreach (var answer in (string[])["{not json", "[]", "null", "\"x\"", "{\"response\":\"x\"}", shaped])
        {
            var refused = await (await PasskeyLogin(s, flow, answer)).Json(HttpStatusCode.BadRequest);
            Assert.Equal(flow["id"]!.GetValue<string>(), refused["id"]!.GetValue<string>());
            var message = Assert.Single(refused["ui"]!["messages"]!.AsArray())!;
            Assert.Equal(4000001, message["id"]!.GetValue<long>());
            Assert.Equal("Unable to parse WebAuthn response.", message["text"]!.GetValue<string>());
            Assert.Equal(Value(flow, "passkey_challenge"), Value(refused, "passkey_challenge"));
        }
        await (await PasskeyLogin(s, flow, authenticator.Get(Challenge(flow)))).Json(HttpStatusCode.OK);

        // An HTML form post goes back to the login UI with the flow.
        using var browser = new Browser(s.PublicUrl);
        var init = await browser.Client.GetAsync("/self-service/login/browser");
        var id = init.Headers.Location!.ToString().Split("flow=")[1];
        var form = await (await browser.Client.GetAsync($"/self-service/login/flows?id={id}")).Json(HttpStatusCode.OK);
        var posted = await browser.PostForm($"/self-service/login?flow={id}", [new("csrf_token", Csrf(form)), new("method", "passkey"), new("passkey_login", "{not json")]);
        Assert.Equal(HttpStatusCode.SeeOther, posted.StatusCode);
        Assert.EndsWith($"/ui/login?flow={id}", posted.Headers.Location!.ToString(), StringComparison.Ordinal);
        var shown = await (await browser.Client.GetAsync($"/self-service/login/flows?id={id}")).Json(HttpStatusCode.OK);
        Assert.Equal([4000001L], MessageIds(shown));

        // Settings: a passkey the account does not have.
        var settings = await (await s.Public.SendAsync(WithToken(HttpMethod.Get, "/self-service/settings/api", token))).Json(HttpStatusCode.OK);
        var missing = await (await s.Public.SendAsync(WithToken(HttpMethod.Post, $"/self-service/settings?flow={settings["id"]}", token,
            new JsonObject { ["method"] = "passkey", ["passkey_remove"] = "00" }))).Json(HttpStatusCode.BadRequest);
        Assert.Equal("show_form", missing["state"]!.GetValue<string>());
        var removeMessage = Assert.Single(missing["ui"]!["messages"]!.AsArray())!;
        Assert.Equal(4000001, removeMessage["id"]!.GetValue<long>());
        Assert.Equal("You tried to remove a passkey which does not exist.", removeMessage["text"]!.GetValue<string>());
    }

    /// <summary>Kratos's text for a registration answer its parser rejects: "Unable to parse WebAuthn response: &lt;parser detail&gt;"; the options stay valid.</summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_unparsable_registration_answer_gets_Kratos_text_and_keeps_the_options(string db)
    {
        var s = await fixture.Get(db);
        using var authenticator = new SoftwareAuthenticator(Origin);
        var flow = await ApiFlow(s.Public, "registration");
        var email = HttpAssertions.UniqueEmail("unparsable");
        async Task<JsonNode> Submit(string answer) => await (await s.Public.PostJson($"/self-service/registration?flow={flow["id"]}", new JsonObject
        {
            ["method"] = "passkey", ["traits"] = new JsonObject { ["email"] = email }, ["passkey_register"] = answer,
        })).Json(HttpStatusCode.BadRequest);
        foreach (var answer in (string[])["{", "[]", "null", "{}"])
        {
            var refused = await Submit(answer);
            Assert.Equal("Unable to parse WebAuthn response: Parse error for Registration", Assert.Single(refused["ui"]!["messages"]!.AsArray())!["text"]!.GetValue<string>());
        }
        var options = JsonNode.Parse(Value(flow, "passkey_create_data"))!["credentialOptions"]!;
        var broken = JsonNode.Parse(authenticator.Create(options))!;
        broken["response"]!["attestationObject"] = "AAAA";
        var attestation = await Submit(broken.ToJsonString());
        Assert.Equal("Unable to parse WebAuthn response: Error parsing attestation response", Assert.Single(attestation["ui"]!["messages"]!.AsArray())!["text"]!.GetValue<string>());
        Assert.Equal(4000001, attestation["ui"]!["messages"]![0]!["id"]!.GetValue<long>());
        // Nothing was spent: the options first shown still register.
        Assert.Equal(Value(flow, "passkey_create_data"), Value(attestation, "passkey_create_data"));
        await (await s.Public.PostJson($"/self-service/registration?flow={flow["id"]}", new JsonObject
        {
            ["method"] = "passkey", ["traits"] = new JsonObject { ["email"] = email }, ["passkey_register"] = authenticator.Create(options),
        })).Json(HttpStatusCode.OK);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Settings_add_a_second_passkey_and_remove_one_but_never_the_last_first_factor(string db)
    {
        var s = await fixture.Get(db);
        using var phone = new SoftwareAuthenticator(Origin);
        using var laptop = new SoftwareAuthenticator(Origin);
        var (_, token, identityId) = await RegisterWithPasskey(s, phone);

        var flow = await (await s.Public.SendAsync(WithToken(HttpMethod.Get, "/self-service/settings/api", token))).Json(HttpStatusCode.OK);
        var remove = Node(flow, "passkey_remove")!;
        Assert.Equal(Convert.ToHexStringLower(phone.CredentialId), remove["attributes"]!["value"]!.GetValue<string>());
        Assert.True(remove["attributes"]!["disabled"]!.GetValue<bool>()); // the only first factor
        Assert.Equal(1050020, remove["meta"]!["label"]!["id"]!.GetValue<int>());
        var refused = await (await s.Public.SendAsync(WithToken(HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}", token,
            new JsonObject { ["method"] = "passkey", ["passkey_remove"] = Convert.ToHexStringLower(phone.CredentialId) }))).Json(HttpStatusCode.BadRequest);
        // Kratos reports ErrNotEnoughCredentials for the field webauthn_remove, passkeys too: with no such node on the form
        // (no security keys), on a default-group text node of that name; the passkey's own node has no message (snapshot).
        Assert.Empty(MessageIds(refused));
        Assert.Empty(MessageIds(refused, "passkey_remove"));
        Assert.Equal([4000001L], MessageIds(refused, "webauthn_remove"));
        Assert.Equal("default", Node(refused, "webauthn_remove")!["group"]!.GetValue<string>());
        Assert.Equal("text", Node(refused, "webauthn_remove")!["attributes"]!["type"]!.GetValue<string>());
        Assert.Equal("unable to remove this security key because it would lock you out of your account", Node(refused, "webauthn_remove")!["messages"]![0]!["text"]!.GetValue<string>());

        // The options exclude the key the account has; the phone is refused by its own exclusion list in a browser,
        // and by the server if it answered anyway.
        var options = JsonNode.Parse(Value(refused, "passkey_create_data"))!;
        Assert.Equal(System.Buffers.Text.Base64Url.EncodeToString(phone.CredentialId), options["publicKey"]!["excludeCredentials"]![0]!["id"]!.GetValue<string>());
        var added = await (await s.Public.SendAsync(WithToken(HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}", token,
            new JsonObject { ["method"] = "passkey", ["passkey_settings_register"] = laptop.Create(options) }))).Json(HttpStatusCode.OK);
        Assert.Equal("success", added["state"]!.GetValue<string>());
        var removes = added["ui"]!["nodes"]!.AsArray().Where(n => n!["attributes"]!["name"]?.GetValue<string>() == "passkey_remove").ToList();
        Assert.Equal(2, removes.Count);
        Assert.All(removes, r => Assert.False(r!["attributes"]!["disabled"]!.GetValue<bool>()));

        // As Kratos, the laptop's key got a new user handle: the credential's user_handle now, and one more identifier
        // beside the phone's, so both sign in.
        Assert.False(phone.UserHandle!.AsSpan().SequenceEqual(laptop.UserHandle));
        var both = (await (await s.AdminWithKey.GetAsync($"/admin/identities/{identityId}?include_credential=passkey")).Json(HttpStatusCode.OK))["credentials"]!["passkey"]!;
        Assert.Equal(new[] { Encoding.ASCII.GetString(phone.UserHandle!), Encoding.ASCII.GetString(laptop.UserHandle!) }.Order(StringComparer.Ordinal),
            both["identifiers"]!.AsArray().Select(i => i!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.Equal(Convert.ToBase64String(laptop.UserHandle!), both["config"]!["user_handle"]!.GetValue<string>());
        var login = await ApiFlow(s.Public, "login");
        await (await PasskeyLogin(s, login, laptop.Get(Challenge(login)))).Json(HttpStatusCode.OK);
        var byPhone = await ApiFlow(s.Public, "login");
        await (await PasskeyLogin(s, byPhone, phone.Get(Challenge(byPhone)))).Json(HttpStatusCode.OK);

        // Removing by the button's name alone (no method), as a form's named submit button sends it.
        var next = await (await s.Public.SendAsync(WithToken(HttpMethod.Get, "/self-service/settings/api", token))).Json(HttpStatusCode.OK);
        await (await s.Public.SendAsync(WithToken(HttpMethod.Post, $"/self-service/settings?flow={next["id"]}", token,
            new JsonObject { ["passkey_remove"] = Convert.ToHexStringLower(phone.CredentialId) }))).Json(HttpStatusCode.OK);
        var identity = await (await s.AdminWithKey.GetAsync($"/admin/identities/{identityId}?include_credential=passkey")).Json(HttpStatusCode.OK);
        var keys = identity["credentials"]!["passkey"]!["config"]!["credentials"]!.AsArray();
        Assert.Equal(Convert.ToBase64String(laptop.CredentialId), Assert.Single(keys)!["id"]!.GetValue<string>());
        var gone = await ApiFlow(s.Public, "login");
        var phoneRefused = await (await PasskeyLogin(s, gone, phone.Get(Challenge(gone)))).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4000008L, MessageIds(phoneRefused));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_passkey_is_named_after_its_authenticator_and_one_the_list_does_not_know_is_unnamed(string db)
    {
        var s = await fixture.Get(db);
        using var google = new SoftwareAuthenticator(Origin) { Aaguid = Guid.Parse("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4").ToByteArray(bigEndian: true) };
        using var unknown = new SoftwareAuthenticator(Origin);
        var (_, token, identityId) = await RegisterWithPasskey(s, google);

        // Kratos names a new passkey by its AAGUID (identity.CredentialFromWebAuthn) and labels its remove button with it.
        var flow = await (await s.Public.SendAsync(WithToken(HttpMethod.Get, "/self-service/settings/api", token))).Json(HttpStatusCode.OK);
        var label = Node(flow, "passkey_remove")!["meta"]!["label"]!;
        Assert.Equal("Remove passkey \"Google Password Manager\"", label["text"]!.GetValue<string>());
        Assert.Equal("Google Password Manager", label["context"]!["display_name"]!.GetValue<string>());

        // One added in settings from an authenticator the list does not know has no name, and its button says "unnamed".
        var options = JsonNode.Parse(Value(flow, "passkey_create_data"))!;
        var added = await (await s.Public.SendAsync(WithToken(HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}", token,
            new JsonObject { ["method"] = "passkey", ["passkey_settings_register"] = unknown.Create(options) }))).Json(HttpStatusCode.OK);
        var labels = added["ui"]!["nodes"]!.AsArray().Where(n => n!["attributes"]!["name"]?.GetValue<string>() == "passkey_remove")
            .ToDictionary(n => n!["attributes"]!["value"]!.GetValue<string>(), n => n!["meta"]!["label"]!["text"]!.GetValue<string>());
        Assert.Equal("Remove passkey \"Google Password Manager\"", labels[Convert.ToHexStringLower(google.CredentialId)]);
        Assert.Equal("Remove passkey \"unnamed\"", labels[Convert.ToHexStringLower(unknown.CredentialId)]);

        var identity = await (await s.AdminWithKey.GetAsync($"/admin/identities/{identityId}?include_credential=passkey")).Json(HttpStatusCode.OK);
        var names = identity["credentials"]!["passkey"]!["config"]!["credentials"]!.AsArray()
            .ToDictionary(c => c!["id"]!.GetValue<string>(), c => c!["display_name"]!.GetValue<string>());
        Assert.Equal("Google Password Manager", names[Convert.ToBase64String(google.CredentialId)]);
        Assert.Equal("", names[Convert.ToBase64String(unknown.CredentialId)]);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_passkey_imported_in_Kratos_shape_signs_in_and_a_malformed_one_is_refused(string db)
    {
        var s = await fixture.Get(db);
        using var authenticator = new SoftwareAuthenticator(Origin);
        var handle = Encoding.ASCII.GetBytes("imported-" + Guid.NewGuid().ToString("N"));
        authenticator.Holds(handle);
        var email = HttpAssertions.UniqueEmail("import");
        // Kratos's CredentialsWebAuthnConfig as exported from Kratos: []byte fields in standard base64.
        var body = new JsonObject
        {
            ["schema_id"] = "default",
            ["traits"] = new JsonObject { ["email"] = email },
            ["credentials"] = new JsonObject
            {
                ["passkey"] = new JsonObject
                {
                    ["config"] = new JsonObject
                    {
                        ["user_handle"] = Convert.ToBase64String(handle),
                        ["credentials"] = new JsonArray(new JsonObject
                        {
                            ["id"] = Convert.ToBase64String(authenticator.CredentialId),
                            ["public_key"] = Convert.ToBase64String(authenticator.CosePublicKey()),
                            ["attestation_type"] = "none",
                            ["authenticator"] = new JsonObject { ["aaguid"] = Convert.ToBase64String(authenticator.Aaguid), ["sign_count"] = 1, ["clone_warning"] = false },
                            ["display_name"] = "iCloud Keychain",
                            ["added_at"] = "2025-01-02T03:04:05Z",
                            ["is_passwordless"] = true,
                            ["flags"] = new JsonObject { ["user_present"] = true, ["user_verified"] = true, ["backup_eligible"] = true, ["backup_state"] = true },
                            ["attestation"] = new JsonObject { ["client_dataJSON"] = "e30=", ["public_key_algorithm"] = -7 },
                        }),
                    },
                },
            },
        };
        var created = await (await s.AdminWithKey.PostJson("/admin/identities", body)).Json(HttpStatusCode.Created);
        Assert.Equal(Encoding.ASCII.GetString(handle), created["credentials"]!["passkey"]!["identifiers"]![0]!.GetValue<string>());

        var login = await ApiFlow(s.Public, "login");
        var session = await (await PasskeyLogin(s, login, authenticator.Get(Challenge(login)))).Json(HttpStatusCode.OK);
        Assert.Equal(created["id"]!.GetValue<string>(), session["session"]!["identity"]!["id"]!.GetValue<string>());
        // The sign-in updated the count and kept what Kratos exported (the attestation block) as it was.
        var stored = (await (await s.AdminWithKey.GetAsync($"/admin/identities/{created["id"]}?include_credential=passkey")).Json(HttpStatusCode.OK))
            ["credentials"]!["passkey"]!["config"]!["credentials"]![0]!;
        Assert.Equal(2, stored["authenticator"]!["sign_count"]!.GetValue<int>());
        Assert.Equal(-7, stored["attestation"]!["public_key_algorithm"]!.GetValue<int>());

        body["traits"]!["email"] = HttpAssertions.UniqueEmail("import-bad");
        body["credentials"]!["passkey"]!["config"]!["credentials"]![0]!["public_key"] = "not base64!";
        var refused = await (await s.AdminWithKey.PostJson("/admin/identities", body)).Error(HttpStatusCode.BadRequest);
        Assert.Contains("public_key must be standard base64", refused["reason"]!.GetValue<string>());
        Assert.Empty((await (await s.AdminWithKey.GetAsync($"/admin/identities?credentials_identifier={body["traits"]!["email"]}")).Json(HttpStatusCode.OK)).AsArray());

        // Kratos (ory/kratos#4561): a passkey with no user handle, or with no keys, could never sign in: refused, nothing stored.
        body["credentials"]!["passkey"]!["config"]!["credentials"]![0]!["public_key"] = Convert.ToBase64String(authenticator.CosePublicKey());
        body["credentials"]!["passkey"]!["config"]!["credentials"]![0]!["id"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        body["credentials"]!["passkey"]!["config"]!["user_handle"] = "";
        var noHandle = await (await s.AdminWithKey.PostJson("/admin/identities", body)).Error(HttpStatusCode.BadRequest);
        Assert.Contains("requires a non-empty user_handle", noHandle["reason"]!.GetValue<string>());
        body["credentials"]!["passkey"]!["config"]!["user_handle"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        body["credentials"]!["passkey"]!["config"]!["credentials"] = new JsonArray();
        var noKeys = await (await s.AdminWithKey.PostJson("/admin/identities", body)).Error(HttpStatusCode.BadRequest);
        Assert.Contains("requires at least one entry in credentials.passkey.config.credentials", noKeys["reason"]!.GetValue<string>());
        Assert.Empty((await (await s.AdminWithKey.GetAsync($"/admin/identities?credentials_identifier={body["traits"]!["email"]}")).Json(HttpStatusCode.OK)).AsArray());
    }

    /// <summary>An identity imported with one webauthn key in Kratos's shape (standard base64, a user handle).</summary>
    private static async Task<string> ImportWithSecurityKey(TestServer s, SoftwareAuthenticator key, byte[] handle, bool passwordless)
    {
        var body = new JsonObject
        {
            ["schema_id"] = "default",
            ["traits"] = new JsonObject { ["email"] = HttpAssertions.UniqueEmail("seckey") },
            ["credentials"] = new JsonObject
            {
                ["password"] = new JsonObject { ["config"] = new JsonObject { ["password"] = GoodPassword } },
                ["webauthn"] = new JsonObject
                {
                    ["config"] = new JsonObject
                    {
                        ["user_handle"] = Convert.ToBase64String(handle),
                        ["credentials"] = new JsonArray(new JsonObject
                        {
                            ["id"] = Convert.ToBase64String(key.CredentialId),
                            ["public_key"] = Convert.ToBase64String(key.CosePublicKey()),
                            ["attestation_type"] = "none",
                            ["authenticator"] = new JsonObject { ["aaguid"] = Convert.ToBase64String(key.Aaguid), ["sign_count"] = 1, ["clone_warning"] = false },
                            ["display_name"] = "Desk key",
                            ["added_at"] = "2025-01-02T03:04:05Z",
                            ["is_passwordless"] = passwordless,
                        }),
                    },
                },
            },
        };
        key.Holds(handle);
        return (await (await s.AdminWithKey.PostJson("/admin/identities", body)).Json(HttpStatusCode.Created))["id"]!.GetValue<string>();
    }

    /// <summary>
    /// Kratos's migration path (passkey_login.go): a user handle no passkey has is looked up among the webauthn
    /// credentials' user handles, and that credential's passwordless keys sign in at the passkey login — imported keys
    /// and keys registered with the webauthn method alike; a second-factor key does not, and the sign count is kept.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_passwordless_security_key_signs_in_at_the_passkey_login_by_its_webauthn_user_handle(string db)
    {
        var s = await fixture.Get(db, "with-webauthn", o =>
        {
            o.Selfservice.Methods.Webauthn.Enabled = true;
            o.Selfservice.Methods.Webauthn.Config.Passwordless = true;
            o.Selfservice.Methods.Webauthn.Config.Rp = new WebAuthnRelyingPartyOptions { Id = "example.com", DisplayName = "Example", Origins = [Origin] };
            o.Selfservice.Flows.Registration.After.Webauthn = new FlowAfterMethodOptions { Hooks = [new HookConfig { Hook = "session" }] };
        });

        // Imported in Kratos's webauthn shape.
        using var imported = new SoftwareAuthenticator(Origin);
        var importedId = await ImportWithSecurityKey(s, imported, RandomNumberGenerator.GetBytes(16), passwordless: true);
        var login = await ApiFlow(s.Public, "login");
        var session = await (await PasskeyLogin(s, login, imported.Get(Challenge(login)))).Json(HttpStatusCode.OK);
        Assert.Equal(importedId, session["session"]!["identity"]!["id"]!.GetValue<string>());
        Assert.Equal("passkey", session["session"]!["authentication_methods"]![0]!["method"]!.GetValue<string>());
        Assert.Equal("aal1", session["session"]!["authenticator_assurance_level"]!.GetValue<string>());
        var stored = (await (await s.AdminWithKey.GetAsync($"/admin/identities/{importedId}?include_credential=webauthn")).Json(HttpStatusCode.OK))
            ["credentials"]!["webauthn"]!["config"]!["credentials"]![0]!;
        Assert.Equal(2, stored["authenticator"]!["sign_count"]!.GetValue<int>());
        // The same checks as for a passkey: a count that did not grow is refused and flagged.
        var again = await ApiFlow(s.Public, "login");
        imported.SignCount = 1;
        var cloned = await (await PasskeyLogin(s, again, imported.Get(Challenge(again)))).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4000008L, MessageIds(cloned));

        // Registered with the webauthn method (passwordless), in a browser.
        using var registered = new SoftwareAuthenticator(Origin);
        using var browser = new Browser(s.PublicUrl, acceptJson: true);
        var registration = await (await browser.Client.GetAsync("/self-service/registration/browser")).Json(HttpStatusCode.OK);
        var created = await (await browser.Client.PostJson($"/self-service/registration?flow={registration["id"]}", new JsonObject
        {
            ["method"] = "webauthn",
            ["csrf_token"] = Csrf(registration),
            ["traits"] = new JsonObject { ["email"] = HttpAssertions.UniqueEmail("webauthn-reg") },
            ["webauthn_register_displayname"] = "Desk key",
            ["webauthn_register"] = registered.Create(JsonNode.Parse(Value(registration, "webauthn_register_trigger"))!),
        })).Json(HttpStatusCode.OK);
        var byWebAuthn = await ApiFlow(s.Public, "login");
        var signedIn = await (await PasskeyLogin(s, byWebAuthn, registered.Get(Challenge(byWebAuthn)))).Json(HttpStatusCode.OK);
        Assert.Equal(created["identity"]!["id"]!.GetValue<string>(), signedIn["session"]!["identity"]!["id"]!.GetValue<string>());

        // A second-factor key with a user handle is not a first factor: no sign-in.
        using var secondFactor = new SoftwareAuthenticator(Origin);
        await ImportWithSecurityKey(s, secondFactor, RandomNumberGenerator.GetBytes(16), passwordless: false);
        var mfa = await ApiFlow(s.Public, "login");
        var refused = await (await PasskeyLogin(s, mfa, secondFactor.Get(Challenge(mfa)))).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4000008L, MessageIds(refused));
        Assert.Null(refused["session"]);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Browser_forms_load_the_served_script_whose_integrity_matches(string db)
    {
        var s = await fixture.Get(db);
        var script = await s.Public.GetAsync("/.well-known/ory/webauthn.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Equal("*", script.Headers.GetValues("Access-Control-Allow-Origin").Single());
        var bytes = await script.Content.ReadAsByteArrayAsync();
        var text = Encoding.UTF8.GetString(bytes);
        foreach (var name in new[] { "oryWebAuthnLogin", "oryWebAuthnRegistration", "oryPasskeyLogin", "oryPasskeyLoginAutocompleteInit", "oryPasskeyRegistration", "oryPasskeySettingsRegistration" })
            Assert.Contains(name, text, StringComparison.Ordinal);

        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true }) { BaseAddress = s.Public.BaseAddress };
        browser.DefaultRequestHeaders.Accept.ParseAdd("application/json");
        var login = await (await browser.GetAsync("/self-service/login/browser")).Json(HttpStatusCode.OK);
        var node = login["ui"]!["nodes"]!.AsArray().Single(n => n!["type"]!.GetValue<string>() == "script")!;
        Assert.Equal("sha512-" + Convert.ToBase64String(SHA512.HashData(bytes)), node["attributes"]!["integrity"]!.GetValue<string>());
        Assert.Equal(s.PublicUrl.TrimEnd('/') + "/.well-known/ory/webauthn.js", node["attributes"]!["src"]!.GetValue<string>());
        Assert.Equal("window.oryPasskeyLoginAutocompleteInit()", Node(login, "passkey_login")!["attributes"]!["onload"]!.GetValue<string>());
        Assert.Equal("window.oryPasskeyLogin()", Node(login, "passkey_login_trigger")!["attributes"]!["onclick"]!.GetValue<string>());
        var registration = await (await browser.GetAsync("/self-service/registration/browser")).Json(HttpStatusCode.OK);
        Assert.Equal("window.oryPasskeyRegistration()", Node(registration, "passkey_register_trigger")!["attributes"]!["onclick"]!.GetValue<string>());
        Assert.Single(registration["ui"]!["nodes"]!.AsArray(), n => n!["type"]!.GetValue<string>() == "script");
    }

    /// <summary>Kratos's passkey-only login form (its snapshot), node for node, values and volatile attributes aside.</summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Passkey_only_browser_login_form_has_Kratos_nodes(string db)
    {
        var folder = Gatehouse.Tests.Config.ConfigFiles.KratosReference();
        var path = folder is null ? null : Path.Combine(folder, "methods/snapshots/passkey/TestCompleteLogin-flow=passwordless-case=succeeds_with_passwordless_login-passkey_display_name-type=browser.json");
        Assert.SkipWhen(path is null || !File.Exists(path), "The Kratos reference snapshots (shared/reference/kratos) are not available");
        var s = await fixture.Get(db, "passkey-only", o => { o.Selfservice.Methods.Password.Enabled = false; o.Selfservice.Methods.Code.Enabled = false; });
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true }) { BaseAddress = s.Public.BaseAddress };
        browser.DefaultRequestHeaders.Accept.ParseAdd("application/json");
        var login = await (await browser.GetAsync("/self-service/login/browser")).Json(HttpStatusCode.OK);
        static string Shape(JsonNode node)
        {
            var n = node.DeepClone().AsObject();
            var attributes = n["attributes"]!.AsObject();
            foreach (var volatileKey in new[] { "value", "src", "nonce" }) attributes.Remove(volatileKey);
            return Canonical(n);
        }
        var expected = JsonNode.Parse(await File.ReadAllTextAsync(path!))!.AsArray().Select(n => Shape(n!)).Order().ToList();
        var actual = login["ui"]!["nodes"]!.AsArray().Select(n => Shape(n!)).Order().ToList();
        // Kratos's snapshot carries its own script's integrity; Gatehouse's is the hash of its own script.
        static string WithoutIntegrity(string shape) => System.Text.RegularExpressions.Regex.Replace(shape, "\"integrity\":\"[^\"]*\"", "\"integrity\":\"…\"");
        Assert.Equal(expected.Select(WithoutIntegrity), actual.Select(WithoutIntegrity));
    }

    private static string Canonical(JsonNode node) => node switch
    {
        JsonObject o => "{" + string.Join(",", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"\"{p.Key}\":{(p.Value is null ? "null" : Canonical(p.Value))}")) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(v => v is null ? "null" : Canonical(v))) + "]",
        _ => node.ToJsonString(),
    };
}
