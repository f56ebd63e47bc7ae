using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

/// <summary>
/// <c>selfservice.flows.login.style: identifier_first</c> (Kratos's <c>idfirst</c> strategy): the identifier first, then
/// the identity's methods; <c>security.account_enumeration.mitigate</c> makes every identifier's second screen the same.
/// </summary>
public sealed class IdentifierFirstLoginTests(FlowServerFixture fixture) : IClassFixture<FlowServerFixture>
{
    private static void IdentifierFirst(GatehouseOptions o) => o.Selfservice.Flows.Login.Style = "identifier_first";

    private Task<TestServer> Server(string db) => fixture.Get(db, "idfirst", IdentifierFirst);

    private Task<TestServer> MitigatingServer(string db) => fixture.Get(db, "idfirst-mitigate", o =>
    {
        IdentifierFirst(o);
        o.Security.AccountEnumeration.Mitigate = true;
    });

    private static string Snapshots()
    {
        var folder = Gatehouse.Tests.Config.ConfigFiles.KratosReference();
        var path = folder is null ? null : Path.Combine(folder, "snapshots", "selfservice", "strategy");
        Assert.SkipWhen(path is null || !Directory.Exists(Path.Combine(path, "idfirst")), "The Kratos reference snapshots (shared/reference/kratos) are not available");
        return path!;
    }

    private static List<JsonObject> Snapshot(string strategy, string name) =>
        [.. (JsonNode.Parse(File.ReadAllText(Path.Combine(Snapshots(), strategy, $"TestFormHydration-method={name}.json"))) as JsonArray ?? []).Select(n => n!.AsObject())];

    /// <summary>A node without its value (CSRF tokens and identifiers differ per run), keys in ordinal order.</summary>
    private static string Shape(JsonNode node)
    {
        var n = node.DeepClone().AsObject();
        if (n["attributes"]!["name"]?.GetValue<string>() is "csrf_token" or "identifier") n["attributes"]!.AsObject().Remove("value");
        return Canonical(n);
    }

    private static List<string> Shapes(IEnumerable<JsonNode> nodes) => [.. nodes.Select(Shape).Order(StringComparer.Ordinal)];

    private static string Canonical(JsonNode node) => node switch
    {
        JsonObject o => "{" + string.Join(",", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"\"{p.Key}\":{(p.Value is null ? "null" : Canonical(p.Value))}")) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(v => v is null ? "null" : Canonical(v))) + "]",
        _ => node.ToJsonString(),
    };

    /// <summary>Kratos's second screen: the first screen's nodes without the continue button, the identifier hidden, then the methods' nodes.</summary>
    private static List<string> SecondScreen(IEnumerable<JsonObject> methodNodes)
    {
        var nodes = Snapshot("idfirst", "PopulateLoginMethodIdentifierFirstIdentification")
            .Where(n => n["attributes"]!["name"]!.GetValue<string>() != "method").ToList();
        nodes.Single(n => n["attributes"]!["name"]!.GetValue<string>() == "identifier")["attributes"]!["type"] = "hidden";
        nodes.AddRange(methodNodes.Where(n => n["attributes"]!["name"]!.GetValue<string>() != "csrf_token"));
        return Shapes(nodes);
    }

    private static IEnumerable<JsonNode> Nodes(JsonNode flow) => flow["ui"]!["nodes"]!.AsArray().Select(n => n!);

    private static async Task<string> RegisterWithPassword(TestServer s) => (await RegisterApi(s)).Email;

    private static async Task<(JsonObject Flow, JsonNode Second)> FirstStepSpa(Browser spa, string identifier, HttpStatusCode expected = HttpStatusCode.BadRequest)
    {
        var flow = (await (await spa.Client.GetAsync("/self-service/login/browser")).Json(HttpStatusCode.OK)).AsObject();
        var second = await (await spa.Client.PostJson($"/self-service/login?flow={flow["id"]}",
            new JsonObject { ["method"] = "identifier_first", ["identifier"] = identifier, ["csrf_token"] = Csrf(flow) })).Json(expected);
        return (flow, second);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_first_screen_has_Kratos_identification_nodes(string db)
    {
        var expected = Shapes(Snapshot("idfirst", "PopulateLoginMethodIdentifierFirstIdentification"));
        var s = await Server(db);
        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        var flow = await (await spa.Client.GetAsync("/self-service/login/browser")).Json(HttpStatusCode.OK);
        Assert.Equal(expected, Shapes(Nodes(flow)));

        // An API flow has the same nodes but no CSRF token.
        var api = await ApiFlow(s.Public, "login");
        Assert.Equal(expected.Where(n => !n.Contains("\"csrf_token\"", StringComparison.Ordinal)), Shapes(Nodes(api)));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_second_screen_for_an_identity_with_a_password_has_Kratos_nodes_and_signs_in_over_the_api(string db)
    {
        var s = await Server(db);
        var email = await RegisterWithPassword(s);
        var flow = await ApiFlow(s.Public, "login");
        var second = await (await s.Public.PostJson($"/self-service/login?flow={flow["id"]}",
            new JsonObject { ["method"] = "identifier_first", ["identifier"] = email })).Json(HttpStatusCode.BadRequest);
        var expected = SecondScreen(Snapshot("password", "PopulateLoginMethodIdentifierFirstCredentials-case=WithIdentityHint-case=account_enumeration_mitigation_disabled-case=identity_has_password"));
        Assert.Equal(expected.Where(n => !n.Contains("\"csrf_token\"", StringComparison.Ordinal)), Shapes(Nodes(second)));
        Assert.Equal(email, Node(second, "identifier")!["attributes"]!["value"]!.GetValue<string>());
        Assert.Equal("identifier_first", second["active"]!.GetValue<string>());
        Assert.Equal("choose_method", second["state"]!.GetValue<string>());
        Assert.Empty(MessageIds(second));

        // The stored flow is the second screen too (a fetch shows it).
        var fetched = await (await s.Public.GetAsync($"/self-service/login/flows?id={flow["id"]}")).Json(HttpStatusCode.OK);
        Assert.Equal(Shapes(Nodes(second)), Shapes(Nodes(fetched)));

        var wrong = await (await s.Public.PostJson($"/self-service/login?flow={flow["id"]}",
            new JsonObject { ["method"] = "password", ["identifier"] = email, ["password"] = "not-the-password" })).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4000006L, MessageIds(wrong));
        var done = await (await s.Public.PostJson($"/self-service/login?flow={flow["id"]}",
            new JsonObject { ["method"] = "password", ["identifier"] = email, ["password"] = GoodPassword })).Json(HttpStatusCode.OK);
        Assert.False(string.IsNullOrEmpty(done["session_token"]?.GetValue<string>()));
        Assert.Equal("password", done["session"]!["authentication_methods"]![0]!["method"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_browser_signs_in_through_both_screens_of_the_built_in_ui_without_scripts(string db)
    {
        var s = await Server(db);
        var email = await RegisterWithPassword(s);
        using var browser = new Browser(s.PublicUrl);
        var init = await browser.Client.GetAsync("/self-service/login/browser");
        Assert.Equal(HttpStatusCode.SeeOther, init.StatusCode);
        var page = await (await browser.Client.GetAsync(init.Headers.Location)).Content.ReadAsStringAsync();
        Assert.Contains("name=\"identifier\"", page);
        Assert.Contains("value=\"identifier_first\"", page);
        Assert.Contains(">Continue<", page);
        Assert.DoesNotContain("name=\"password\"", page);
        Assert.DoesNotContain("<script", page);

        var location = init.Headers.Location!.ToString();
        var id = location[(location.IndexOf("flow=", StringComparison.Ordinal) + 5)..];
        var flow = await (await browser.Client.GetAsync($"/self-service/login/flows?id={id}")).Json(HttpStatusCode.OK);
        var step = await browser.PostForm($"/self-service/login?flow={id}",
            [new("csrf_token", Csrf(flow)), new("method", "identifier_first"), new("identifier", email)]);
        // Kratos: an HTML browser goes back to the login UI with the same flow.
        Assert.Equal(HttpStatusCode.SeeOther, step.StatusCode);
        Assert.Equal($"{s.PublicUrl}/ui/login?flow={id}", step.Headers.Location!.ToString());
        var second = await (await browser.Client.GetAsync(step.Headers.Location)).Content.ReadAsStringAsync();
        Assert.Contains("type=\"password\"", second);
        Assert.Contains("value=\"password\"", second);
        Assert.DoesNotContain("value=\"identifier_first\"", second);
        // The identifier goes with the password form, hidden, and is shown as text.
        Assert.Contains($"type=\"hidden\" name=\"identifier\" value=\"{email}\"", second.Replace("id=\"password-identifier\" ", "", StringComparison.Ordinal));
        Assert.Contains($"<p class=\"identifier-first\">{email}</p>", second);

        var done = await browser.PostForm($"/self-service/login?flow={id}",
            [new("csrf_token", Csrf(flow)), new("method", "password"), new("identifier", email), new("password", GoodPassword)]);
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        Assert.Equal("http://app.example.com/welcome", done.Headers.Location!.ToString());
        Assert.NotNull(browser.Cookie("ory_kratos_session"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_built_in_ui_shows_both_screens_in_German(string db)
    {
        var s = await Server(db);
        var email = await RegisterWithPassword(s);
        using var browser = new Browser(s.PublicUrl);
        browser.Client.DefaultRequestHeaders.AcceptLanguage.ParseAdd("de");
        var init = await browser.Client.GetAsync("/self-service/login/browser");
        var first = await (await browser.Client.GetAsync(init.Headers.Location)).Content.ReadAsStringAsync();
        Assert.Contains(">Weiter<", first);
        var location = init.Headers.Location!.ToString();
        var id = location[(location.IndexOf("flow=", StringComparison.Ordinal) + 5)..];
        var flow = await (await browser.Client.GetAsync($"/self-service/login/flows?id={id}")).Json(HttpStatusCode.OK);

        var unknown = await browser.PostForm($"/self-service/login?flow={id}",
            [new("csrf_token", Csrf(flow)), new("method", "identifier_first"), new("identifier", HttpAssertions.UniqueEmail("nobody"))]);
        var notFound = await (await browser.Client.GetAsync(unknown.Headers.Location)).Content.ReadAsStringAsync();
        Assert.Contains("Dieses Konto existiert nicht oder hat keine Anmeldemethode eingerichtet.", notFound);

        var step = await browser.PostForm($"/self-service/login?flow={id}",
            [new("csrf_token", Csrf(flow)), new("method", "identifier_first"), new("identifier", email)]);
        var second = await (await browser.Client.GetAsync(step.Headers.Location)).Content.ReadAsStringAsync();
        Assert.Contains(">Mit Passwort anmelden<", second);
        Assert.Contains(">Passwort<", second);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Without_mitigation_an_unknown_identifier_gets_Kratos_account_not_found_on_the_first_screen(string db)
    {
        var s = await Server(db);
        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        var (flow, answer) = await FirstStepSpa(spa, "nobody-" + Guid.NewGuid().ToString("N") + "@example.com");
        Assert.Equal([4000037L], MessageIds(answer, "identifier"));
        Assert.Equal("text", Node(answer, "identifier")!["attributes"]!["type"]!.GetValue<string>());
        Assert.Null(Node(answer, "password"));
        Assert.NotNull(Node(answer, "method"));
        // The first screen, with the identifier filled in and the message on it.
        Assert.Equal(Shapes(Nodes(flow)), Shapes(Nodes(answer).Select(n => { var c = n.DeepClone(); c["messages"] = new JsonArray(); return c; })));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task With_mitigation_known_and_unknown_identifiers_get_the_same_second_screen_of_Kratos_nodes(string db)
    {
        var s = await MitigatingServer(db);
        var email = await RegisterWithPassword(s);
        var expected = SecondScreen(Snapshot("password", "PopulateLoginMethodIdentifierFirstCredentials-case=WithIdentifier-case=account_enumeration_mitigation_enabled"));

        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        var (_, known) = await FirstStepSpa(spa, email);
        var (_, unknown) = await FirstStepSpa(spa, "nobody-" + Guid.NewGuid().ToString("N") + "@example.com");
        Assert.Equal(expected, Shapes(Nodes(known)));
        Assert.Equal(expected, Shapes(Nodes(unknown)));
        Assert.DoesNotContain(4000037L, Nodes(unknown).SelectMany(n => n["messages"]!.AsArray()).Select(m => m!["id"]!.GetValue<long>()));

        // The known identity signs in through that screen.
        var (flow, _) = await FirstStepSpa(spa, email);
        var signedIn = await (await spa.Client.PostJson($"/self-service/login?flow={flow["id"]}",
            new JsonObject { ["method"] = "password", ["identifier"] = email, ["password"] = GoodPassword, ["csrf_token"] = Csrf(flow) })).Json(HttpStatusCode.OK);
        Assert.Equal(email, signedIn["session"]!["identity"]!["traits"]!["email"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task With_passwordless_codes_the_second_screen_adds_Kratos_code_button_for_known_identifiers_only(string db)
    {
        var s = await fixture.Get(db, "idfirst-code", o => { IdentifierFirst(o); o.Selfservice.Methods.Code.PasswordlessEnabled = true; });
        var email = await RegisterWithPassword(s);
        var expected = SecondScreen([
            .. Snapshot("password", "PopulateLoginMethodIdentifierFirstCredentials-case=WithIdentityHint-case=account_enumeration_mitigation_disabled-case=identity_has_password"),
            .. Snapshot("code", "PopulateLoginMethodIdentifierFirstCredentials-case=WithIdentityHint-case=account_enumeration_mitigation_disabled-case=identity_has_code_method-case=code_is_used_for_passwordless_login"),
        ]);
        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        var (first, _) = await FirstStepSpa(spa, email);
        Assert.Equal(Shapes(Snapshot("idfirst", "PopulateLoginMethodIdentifierFirstIdentification")), Shapes(Nodes(first)));
        var (_, known) = await FirstStepSpa(spa, email);
        Assert.Equal(expected, Shapes(Nodes(known)));
        var (_, unknown) = await FirstStepSpa(spa, "nobody-" + Guid.NewGuid().ToString("N") + "@example.com");
        Assert.Equal([4000037L], MessageIds(unknown, "identifier"));
        Assert.Null(Node(unknown, "password"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Social_sign_in_buttons_show_on_the_first_screen_and_only_the_linked_ones_on_the_second(string db)
    {
        var s = await fixture.Get(db, "idfirst-oidc", o =>
        {
            IdentifierFirst(o);
            o.Selfservice.Methods.Oidc.Enabled = true;
            o.Selfservice.Methods.Oidc.Config.Providers =
            [
                new OidcProviderOptions { Id = "test-provider", Provider = "generic", ClientId = "invalid", ClientSecret = "invalid", IssuerUrl = "https://idp.example.com" },
                new OidcProviderOptions { Id = "other-provider", Provider = "generic", ClientId = "invalid", ClientSecret = "invalid", IssuerUrl = "https://other.example.com" },
            ];
        });
        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        var (first, _) = await FirstStepSpa(spa, "nobody@example.com");
        var providerNodes = Snapshot("oidc", "PopulateLoginMethodIdentifierFirstIdentification").Where(n => n["attributes"]!["name"]!.GetValue<string>() == "provider").ToList();
        Assert.Contains(Shapes(providerNodes).Single(), Shapes(Nodes(first)));
        Assert.Equal(2, Nodes(first).Count(n => n["group"]!.GetValue<string>() == "oidc"));

        // An identity with a password and no linked account: the buttons go (Kratos: identity_does_not_have_a_oidc is []).
        var email = await RegisterWithPassword(s);
        var (_, passwordOnly) = await FirstStepSpa(spa, email);
        Assert.Equal(SecondScreen(Snapshot("password", "PopulateLoginMethodIdentifierFirstCredentials-case=WithIdentityHint-case=account_enumeration_mitigation_disabled-case=identity_has_password")),
            Shapes(Nodes(passwordOnly)));

        // An identity linked to test-provider only: its button alone (Kratos: identity_has_oidc), and no password form.
        var social = HttpAssertions.UniqueEmail("social");
        await (await s.AdminWithKey.PostJson("/admin/identities", new JsonObject
        {
            ["schema_id"] = "default",
            ["traits"] = new JsonObject { ["email"] = social },
            ["credentials"] = new JsonObject { ["oidc"] = new JsonObject { ["config"] = new JsonObject { ["providers"] = new JsonArray(new JsonObject { ["provider"] = "test-provider", ["subject"] = "sub-" + Guid.NewGuid().ToString("N") }) } } },
        })).Json(HttpStatusCode.Created);
        var (_, linked) = await FirstStepSpa(spa, social);
        Assert.Equal(SecondScreen(Snapshot("oidc", "PopulateLoginMethodIdentifierFirstCredentials-case=WithIdentityHint-case=account_enumeration_mitigation_disabled-case=identity_has_oidc")),
            Shapes(Nodes(linked)));

        // An unknown identifier: 4000037, and the buttons stay (the person may still have an account there).
        var (_, unknown) = await FirstStepSpa(spa, "nobody-" + Guid.NewGuid().ToString("N") + "@example.com");
        Assert.Equal([4000037L], MessageIds(unknown, "identifier"));
        Assert.Equal(2, Nodes(unknown).Count(n => n["group"]!.GetValue<string>() == "oidc"));
    }

    /// <summary>
    /// The second screen is not sorted: the methods add their nodes in Kratos's registry order (driver/registry_default.go
    /// selfServiceStrategies: profile, password, oidc, code, …), so a linked provider's button comes before the code
    /// method's "send sign-in code" button.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Methods_fill_the_second_screen_in_Kratos_registry_order(string db)
    {
        var s = await fixture.Get(db, "idfirst-oidc-code", o =>
        {
            IdentifierFirst(o);
            o.Selfservice.Methods.Code.Enabled = true;
            o.Selfservice.Methods.Code.PasswordlessEnabled = true;
            o.Selfservice.Methods.Oidc.Enabled = true;
            o.Selfservice.Methods.Oidc.Config.Providers =
            [
                new OidcProviderOptions { Id = "test-provider", Provider = "generic", ClientId = "invalid", ClientSecret = "invalid", IssuerUrl = "https://idp.example.com" },
            ];
        });
        var social = HttpAssertions.UniqueEmail("order");
        await (await s.AdminWithKey.PostJson("/admin/identities", new JsonObject
        {
            ["schema_id"] = "default",
            ["traits"] = new JsonObject { ["email"] = social },
            ["credentials"] = new JsonObject { ["oidc"] = new JsonObject { ["config"] = new JsonObject { ["providers"] = new JsonArray(new JsonObject { ["provider"] = "test-provider", ["subject"] = "sub-" + Guid.NewGuid().ToString("N") }) } } },
        })).Json(HttpStatusCode.Created);
        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        var (_, second) = await FirstStepSpa(spa, social);
        var methods = Nodes(second).Where(n => n["group"]!.GetValue<string>() is "oidc" or "code")
            .Select(n => $"{n["group"]}:{n["attributes"]!["name"]}={n["attributes"]!["value"]}").ToList();
        Assert.Equal(["oidc:provider=test-provider", "code:method=code"], methods);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Bad_input_gets_Kratos_errors_and_changes_nothing(string db)
    {
        var s = await Server(db);
        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        var flow = (await (await spa.Client.GetAsync("/self-service/login/browser")).Json(HttpStatusCode.OK)).AsObject();
        var before = Shapes(Nodes(flow));

        var missing = await (await spa.Client.PostJson($"/self-service/login?flow={flow["id"]}",
            new JsonObject { ["method"] = "identifier_first", ["csrf_token"] = Csrf(flow) })).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4000002L], MessageIds(missing, "identifier"));
        Assert.Equal(before, Shapes(Nodes(missing).Select(n => { var c = n.DeepClone(); c["messages"] = new JsonArray(); return c; })));

        var email = await RegisterWithPassword(s);
        var forged = await (await spa.Client.PostJson($"/self-service/login?flow={flow["id"]}",
            new JsonObject { ["method"] = "identifier_first", ["identifier"] = email, ["csrf_token"] = "x" + Csrf(flow) })).Error(HttpStatusCode.Forbidden);
        Assert.Equal("security_csrf_violation", forged["id"]!.GetValue<string>());
        var fetched = await (await spa.Client.GetAsync($"/self-service/login/flows?id={flow["id"]}")).Json(HttpStatusCode.OK);
        Assert.Null(Node(fetched, "password"));
        Assert.Equal("text", Node(fetched, "identifier")!["attributes"]!["type"]!.GetValue<string>());
        Assert.Null(spa.Cookie("ory_kratos_session"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Refresh_flows_stay_unified_and_the_default_style_has_no_identifier_first_method(string db)
    {
        var s = await Server(db);
        var (_, token, _) = await RegisterApi(s);
        var refresh = new HttpRequestMessage(HttpMethod.Get, "/self-service/login/api?refresh=true");
        refresh.Headers.Add("X-Session-Token", token);
        var flow = await (await s.Public.SendAsync(refresh)).Json(HttpStatusCode.OK);
        Assert.DoesNotContain(Nodes(flow), n => n["group"]!.GetValue<string>() == "identifier_first");
        Assert.Equal("hidden", Node(flow, "identifier")!["attributes"]!["type"]!.GetValue<string>());
        Assert.NotNull(Node(flow, "password"));

        var unified = await fixture.Get(db);
        var plain = await ApiFlow(unified.Public, "login");
        Assert.DoesNotContain(Nodes(plain), n => n["group"]!.GetValue<string>() == "identifier_first");
        var refused = await (await unified.Public.PostJson($"/self-service/login?flow={plain["id"]}",
            """{"method":"identifier_first","identifier":"someone@example.com"}""")).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4010002L, MessageIds(refused));
    }
}
