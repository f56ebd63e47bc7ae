using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService.WebAuthn;

/// <summary>
/// Passkeys and passwordless security keys on the identifier-first login's screens (Kratos's passkey and webauthn
/// <c>PopulateLoginMethodIdentifierFirst*</c>): the first screen carries the passkey's discoverable login (autofill on the
/// identifier, no button); the second adds the passkey button and, for passwordless keys, the "Sign in with hardware key"
/// submit — for identities that have them, or for every identifier when account enumeration is mitigated.
/// </summary>
public sealed class IdentifierFirstPasskeyLoginTests(PasskeyServerFixture fixture) : IClassFixture<PasskeyServerFixture>
{
    private const string Origin = PasskeyServerFixture.Origin;

    /// <summary>Identifier first, with passkeys and passwordless security keys (the same RP and origin).</summary>
    private static void Configure(GatehouseOptions o, bool mitigate)
    {
        o.Selfservice.Flows.Login.Style = "identifier_first";
        o.Selfservice.Methods.Webauthn.Enabled = true;
        o.Selfservice.Methods.Webauthn.Config.Passwordless = true;
        o.Selfservice.Methods.Webauthn.Config.Rp = new WebAuthnRelyingPartyOptions { Id = "example.com", DisplayName = "Example", Origins = [Origin] };
        o.Selfservice.Flows.Registration.After.Webauthn = new FlowAfterMethodOptions { Hooks = [new HookConfig { Hook = "session" }] };
        o.Security.AccountEnumeration.Mitigate = mitigate;
    }

    private Task<TestServer> Server(string db) => fixture.Get(db, "idfirst", o => Configure(o, mitigate: false));

    private Task<TestServer> MitigatingServer(string db) => fixture.Get(db, "idfirst-mitigate", o => Configure(o, mitigate: true));

    private static string Snapshots()
    {
        var folder = Gatehouse.Tests.Config.ConfigFiles.KratosReference();
        var path = folder is null ? null : Path.Combine(folder, "snapshots", "selfservice", "strategy");
        Assert.SkipWhen(path is null || !Directory.Exists(Path.Combine(path, "idfirst")) || !Directory.Exists(Path.Combine(path, "passkey")),
            "The Kratos reference snapshots (shared/reference/kratos) are not available");
        return path!;
    }

    private static List<JsonObject> Snapshot(string strategy, string name) =>
        [.. (JsonNode.Parse(File.ReadAllText(Path.Combine(Snapshots(), strategy, $"TestFormHydration-method={name}.json"))) as JsonArray ?? []).Select(n => n!.AsObject())];

    private static string Name(JsonNode node) => node["attributes"]!["name"]?.GetValue<string>() ?? node["attributes"]!["id"]?.GetValue<string>() ?? "";

    /// <summary>
    /// A node as the snapshots can compare it: values that differ per run (CSRF token, identifier, challenge) and the
    /// script's URL and hash (Gatehouse serves its own script) left out; 1010008's text as Kratos's message table has it
    /// (its snapshots still show the older "Sign in with a hardware key").
    /// </summary>
    private static string Shape(JsonNode node)
    {
        var n = node.DeepClone().AsObject();
        var attributes = n["attributes"]!.AsObject();
        if (Name(n) is "csrf_token" or "identifier" or "passkey_challenge") attributes.Remove("value");
        if (n["type"]!.GetValue<string>() == "script")
        {
            attributes.Remove("src");
            attributes.Remove("integrity");
            attributes.Remove("nonce");
        }
        if (n["meta"]?["label"] is JsonObject label && label["id"]!.GetValue<long>() == 1010008) label["text"] = "Sign in with hardware key";
        return Canonical(n);
    }

    private static List<string> Shapes(IEnumerable<JsonNode> nodes) => [.. nodes.Select(Shape).Order(StringComparer.Ordinal)];

    private static string Canonical(JsonNode node) => node switch
    {
        JsonObject o => "{" + string.Join(",", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"\"{p.Key}\":{(p.Value is null ? "null" : Canonical(p.Value))}")) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(v => v is null ? "null" : Canonical(v))) + "]",
        _ => node.ToJsonString(),
    };

    /// <summary>
    /// Kratos's first screen with passkeys on: the identifier-first nodes (its identifier replaces the passkey method's, by
    /// name) and the passkey method's discoverable-login nodes.
    /// </summary>
    private static List<JsonObject> FirstScreen()
    {
        var nodes = Snapshot("idfirst", "PopulateLoginMethodIdentifierFirstIdentification");
        nodes.AddRange(Snapshot("passkey", "PopulateLoginMethodIdentifierFirstIdentification").Where(n => Name(n) is not ("csrf_token" or "identifier")));
        return nodes;
    }

    /// <summary>Kratos's second screen: the first without the continue button, the identifier hidden, then the methods' nodes.</summary>
    private static List<string> SecondScreen(IEnumerable<JsonObject> methodNodes)
    {
        var nodes = FirstScreen().Where(n => Name(n) != "method" || n["group"]!.GetValue<string>() != "identifier_first").ToList();
        nodes.Single(n => Name(n) == "identifier")["attributes"]!["type"] = "hidden";
        nodes.AddRange(methodNodes.Where(n => Name(n) != "csrf_token"));
        return Shapes(nodes);
    }

    private static IEnumerable<JsonNode> Nodes(JsonNode flow) => flow["ui"]!["nodes"]!.AsArray().Select(n => n!);

    private static string Value(JsonNode flow, string name) => Node(flow, name)!["attributes"]!["value"]!.GetValue<string>();

    private static JsonNode Challenge(JsonNode flow) => JsonNode.Parse(Value(flow, "passkey_challenge"))!;

    private static async Task<JsonObject> SpaFlow(Browser spa) => (await (await spa.Client.GetAsync("/self-service/login/browser")).Json(HttpStatusCode.OK)).AsObject();

    private static async Task<JsonNode> Identify(Browser spa, JsonNode flow, string identifier, HttpStatusCode expected = HttpStatusCode.BadRequest) =>
        await (await spa.Client.PostJson($"/self-service/login?flow={flow["id"]}",
            new JsonObject { ["method"] = "identifier_first", ["identifier"] = identifier, ["csrf_token"] = Csrf(flow) })).Json(expected);

    /// <summary>Registers with a passkey through an API flow: the email and the identity id.</summary>
    private static async Task<(string Email, string IdentityId)> RegisterWithPasskey(TestServer s, SoftwareAuthenticator authenticator)
    {
        var email = HttpAssertions.UniqueEmail("idfirst-passkey");
        var flow = await ApiFlow(s.Public, "registration");
        var createData = JsonNode.Parse(Value(flow, "passkey_create_data"))!;
        var body = await (await s.Public.PostJson($"/self-service/registration?flow={flow["id"]}", new JsonObject
        {
            ["method"] = "passkey",
            ["traits"] = new JsonObject { ["email"] = email },
            ["passkey_register"] = authenticator.Create(createData["credentialOptions"]!),
        })).Json(HttpStatusCode.OK);
        return (email, body["identity"]!["id"]!.GetValue<string>());
    }

    /// <summary>Registers with a passwordless security key through a browser flow (the webauthn method has no API flows).</summary>
    private static async Task<string> RegisterWithSecurityKey(TestServer s, SoftwareAuthenticator key)
    {
        var email = HttpAssertions.UniqueEmail("idfirst-key");
        using var b = new Browser(s.PublicUrl, acceptJson: true);
        var flow = await (await b.Client.GetAsync("/self-service/registration/browser")).Json(HttpStatusCode.OK);
        await (await b.Client.PostJson($"/self-service/registration?flow={flow["id"]}", new JsonObject
        {
            ["method"] = "webauthn",
            ["csrf_token"] = Csrf(flow),
            ["traits"] = new JsonObject { ["email"] = email },
            ["webauthn_register_displayname"] = "Desk key",
            ["webauthn_register"] = key.Create(JsonNode.Parse(Value(flow, "webauthn_register_trigger"))!),
        })).Json(HttpStatusCode.OK);
        return email;
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_first_screen_has_Kratos_passkey_autofill_nodes_and_an_answer_there_signs_in(string db)
    {
        var expected = Shapes(FirstScreen());
        var s = await Server(db);
        using var authenticator = new SoftwareAuthenticator(Origin);
        var (_, identityId) = await RegisterWithPasskey(s, authenticator);

        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        var flow = await SpaFlow(spa);
        Assert.Equal(expected, Shapes(Nodes(flow)));
        Assert.Null(Node(flow, "passkey_login_trigger"));
        Assert.Empty(Challenge(flow)["publicKey"]!["allowCredentials"]?.AsArray() ?? []);

        // An API flow: the same nodes without the CSRF token, the script and inline handlers (Kratos).
        var api = await ApiFlow(s.Public, "login");
        var apiExpected = FirstScreen().Where(n => Name(n) != "csrf_token" && n["type"]!.GetValue<string>() != "script").ToList();
        apiExpected.Single(n => Name(n) == "passkey_login")["attributes"]!.AsObject().Remove("onload");
        Assert.Equal(Shapes(apiExpected), Shapes(Nodes(api)));

        // Autofill (conditional mediation) answers the first screen's challenge: signed in without the second screen.
        var session = await (await spa.Client.PostJson($"/self-service/login?flow={flow["id"]}",
            new JsonObject { ["csrf_token"] = Csrf(flow), ["passkey_login"] = authenticator.Get(Challenge(flow)) })).Json(HttpStatusCode.OK);
        Assert.Equal(identityId, session["session"]!["identity"]!["id"]!.GetValue<string>());
        Assert.Equal("passkey", session["session"]!["authentication_methods"]![0]!["method"]!.GetValue<string>());
        Assert.NotNull(spa.Cookie("ory_kratos_session"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_second_screen_offers_the_passkey_button_to_identities_with_a_passkey_only(string db)
    {
        var s = await Server(db);
        using var authenticator = new SoftwareAuthenticator(Origin);
        var (email, identityId) = await RegisterWithPasskey(s, authenticator);

        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        var flow = await SpaFlow(spa);
        var second = await Identify(spa, flow, email);
        Assert.Equal(SecondScreen(Snapshot("passkey", "PopulateLoginMethodIdentifierFirstCredentials-case=WithIdentityHint-case=account_enumeration_mitigation_disabled-case=identity_has_passkey")),
            Shapes(Nodes(second)));
        Assert.Equal(email, Value(second, "identifier"));
        Assert.Empty(MessageIds(second));

        // The button answers the challenge the first screen showed (it stays, as Kratos keeps the first screen's nodes).
        Assert.Equal(Value(flow, "passkey_challenge"), Value(second, "passkey_challenge"));
        var session = await (await spa.Client.PostJson($"/self-service/login?flow={flow["id"]}",
            new JsonObject { ["csrf_token"] = Csrf(flow), ["method"] = "passkey", ["passkey_login"] = authenticator.Get(Challenge(second)) })).Json(HttpStatusCode.OK);
        Assert.Equal(identityId, session["session"]!["identity"]!["id"]!.GetValue<string>());

        // An identity with a password and no passkey: the password form, no passkey button (Kratos: identity_does_not_have_a_passkey is []).
        var (password, _, _) = await RegisterApi(s);
        using var other = new Browser(s.PublicUrl, acceptJson: true);
        var passwordOnly = await Identify(other, await SpaFlow(other), password);
        Assert.Equal(SecondScreen(Snapshot("password", "PopulateLoginMethodIdentifierFirstCredentials-case=WithIdentityHint-case=account_enumeration_mitigation_disabled-case=identity_has_password")),
            Shapes(Nodes(passwordOnly)));
        Assert.Null(Node(passwordOnly, "passkey_login_trigger"));

        // An unknown identifier: Kratos's 4000037 on the first screen, which keeps its autofill nodes and has no button.
        var unknown = await Identify(other, await SpaFlow(other), HttpAssertions.UniqueEmail("nobody"));
        Assert.Equal([4000037L], MessageIds(unknown, "identifier"));
        Assert.Equal(Shapes(FirstScreen()), Shapes(Nodes(unknown).Select(n => { var c = n.DeepClone(); c["messages"] = new JsonArray(); return c; })));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_second_screen_offers_passwordless_security_keys_to_identities_with_one_and_signs_in_with_the_key(string db)
    {
        var s = await Server(db);
        using var key = new SoftwareAuthenticator(Origin);
        var email = await RegisterWithSecurityKey(s, key);

        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        var flow = await SpaFlow(spa);
        var second = await Identify(spa, flow, email);
        Assert.Equal(SecondScreen(Snapshot("webauthn", "PopulateLoginMethodIdentifierFirstCredentials-case=WithIdentityHint-case=account_enumeration_mitigation_disabled-case=identity_has_webauthn-case=passwordless_enabled")),
            Shapes(Nodes(second)));
        Assert.Null(Node(second, "password"));

        // "Sign in with hardware key": the account's challenge (Kratos: 422 for a SPA, the form with 1010012 and "Continue").
        var next = await (await spa.Client.PostJson($"/self-service/login?flow={flow["id"]}",
            new JsonObject { ["csrf_token"] = Csrf(flow), ["method"] = "webauthn", ["identifier"] = email })).Error(HttpStatusCode.UnprocessableEntity);
        Assert.Equal("browser_location_change_required", next["id"]!.GetValue<string>());
        var prepared = await (await spa.Client.GetAsync($"/self-service/login/flows?id={flow["id"]}")).Json(HttpStatusCode.OK);
        Assert.Equal([1010012L], MessageIds(prepared));
        Assert.Equal(1010013, Node(prepared, "webauthn_login_trigger")!["meta"]!["label"]!["id"]!.GetValue<int>());
        Assert.Equal("hidden", Node(prepared, "identifier")!["attributes"]!["type"]!.GetValue<string>());
        var session = await (await spa.Client.PostJson($"/self-service/login?flow={flow["id"]}", new JsonObject
        {
            ["csrf_token"] = Csrf(flow), ["method"] = "webauthn", ["identifier"] = email,
            ["webauthn_login"] = key.Get(JsonNode.Parse(Value(prepared, "webauthn_login_trigger"))!),
        })).Json(HttpStatusCode.OK);
        Assert.Equal("webauthn", session["session"]!["authentication_methods"]![0]!["method"]!.GetValue<string>());
        Assert.Equal("aal1", session["session"]!["authenticator_assurance_level"]!.GetValue<string>());

        // API flows: the webauthn method takes no part (Kratos), so a key-only identity has nothing to sign in with there.
        var api = await ApiFlow(s.Public, "login");
        var refused = await (await s.Public.PostJson($"/self-service/login?flow={api["id"]}",
            new JsonObject { ["method"] = "identifier_first", ["identifier"] = email })).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4000037L], MessageIds(refused, "identifier"));

        // A password-only identity gets no security-key button (Kratos: identity_does_not_have_a_webauthn is []).
        var (password, _, _) = await RegisterApi(s);
        using var other = new Browser(s.PublicUrl, acceptJson: true);
        var passwordOnly = await Identify(other, await SpaFlow(other), password);
        Assert.DoesNotContain(Nodes(passwordOnly), n => n["group"]!.GetValue<string>() == "webauthn" && Name(n) == "method");
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task With_mitigation_every_identifier_gets_the_same_second_screen_with_passkey_and_security_key_buttons(string db)
    {
        var s = await MitigatingServer(db);
        var expected = SecondScreen([
            .. Snapshot("password", "PopulateLoginMethodIdentifierFirstCredentials-case=WithIdentifier-case=account_enumeration_mitigation_enabled"),
            .. Snapshot("passkey", "PopulateLoginMethodIdentifierFirstCredentials-case=WithIdentityHint-case=account_enumeration_mitigation_enabled"),
            .. Snapshot("webauthn", "PopulateLoginMethodIdentifierFirstCredentials-case=WithIdentityHint-case=account_enumeration_mitigation_enabled-case=passwordless_enabled"),
        ]);
        using var authenticator = new SoftwareAuthenticator(Origin);
        var (withPasskey, identityId) = await RegisterWithPasskey(s, authenticator);
        using var key = new SoftwareAuthenticator(Origin);
        var withKey = await RegisterWithSecurityKey(s, key);
        var (withPassword, _, _) = await RegisterApi(s);
        var nobody = HttpAssertions.UniqueEmail("nobody");

        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        var screens = new List<List<string>>();
        foreach (var identifier in new[] { withPasskey, withKey, withPassword, nobody })
        {
            var second = await Identify(spa, await SpaFlow(spa), identifier);
            Assert.Empty(Nodes(second).SelectMany(n => n["messages"]!.AsArray()));
            Assert.Empty(MessageIds(second));
            screens.Add(Shapes(Nodes(second)));
        }
        Assert.All(screens, screen => Assert.Equal(expected, screen));

        // Kratos: the security-key step tells "no such account or no key" alike (4000015) for the unknown identifier and
        // for an account without a key; the account with one gets its challenge.
        foreach (var identifier in new[] { nobody, withPassword })
        {
            var flow = await SpaFlow(spa);
            await Identify(spa, flow, identifier);
            var answer = await (await spa.Client.PostJson($"/self-service/login?flow={flow["id"]}",
                new JsonObject { ["csrf_token"] = Csrf(flow), ["method"] = "webauthn", ["identifier"] = identifier })).Json(HttpStatusCode.BadRequest);
            Assert.Equal([4000015L], MessageIds(answer));
        }

        // The passkey button works for the account that has one, whatever identifier was typed (a discoverable login).
        var viaPasskey = await SpaFlow(spa);
        var screen = await Identify(spa, viaPasskey, nobody);
        var session = await (await spa.Client.PostJson($"/self-service/login?flow={viaPasskey["id"]}",
            new JsonObject { ["csrf_token"] = Csrf(viaPasskey), ["method"] = "passkey", ["passkey_login"] = authenticator.Get(Challenge(screen)) })).Json(HttpStatusCode.OK);
        Assert.Equal(identityId, session["session"]!["identity"]!["id"]!.GetValue<string>());
    }
}
