using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.SelfService;

/// <summary>
/// The profile_first registration's forms against Kratos's own snapshots of them (<c>TestTwoStepRegistration</c>, in
/// <c>selfservice/strategy/profile</c>): the same identity schema and methods (password, a Google provider, passkeys,
/// passwordless codes), node for node — group, type, name, input type, value, label — in Kratos's order, across the
/// first step, the credentials step, going back, and choosing again with fewer traits. Values Kratos's snapshots leave
/// out (the CSRF token, the passkey options, the script's source and hash) are left out here too. Skips when the
/// reference data is absent.
/// </summary>
public sealed class ProfileFirstReferenceTests
{
    private const string Folder = "snapshots/selfservice/strategy/profile/TestTwoStepRegistration-initial_form_is_populated_with_identity_traits-type=browser-";

    /// <summary>
    /// Kratos's <c>selfservice/strategy/profile/stub/identity.schema.json</c>, with one addition: the e-mail address names
    /// passkeys (<c>passkey.display_name</c>). The stub marks no trait so, and Kratos v26.2 then still offers passkeys,
    /// naming them after whichever trait its map iteration meets first (a trait without a title matches the empty label);
    /// Kratos since skips the method with a warning (ory/kratos d560762), as Gatehouse does. Marking the trait gives the
    /// nodes of the snapshot without depending on either.
    /// </summary>
    private const string Schema = """
    {
      "$schema": "http://json-schema.org/draft-07/schema#",
      "type": "object",
      "properties": {
        "traits": {
          "type": "object",
          "properties": {
            "email": {
              "type": "string",
              "ory.sh/kratos": { "credentials": { "password": { "identifier": true }, "passkey": { "display_name": true } }, "verification": { "via": "email" } }
            },
            "stringy": { "type": "string" },
            "numby": { "type": "number" },
            "booly": { "type": "boolean" },
            "should_big_number": { "type": "number", "minimum": 1200 },
            "should_long_string": { "type": "string", "minLength": 25 }
          }
        }
      }
    }
    """;

    private static readonly (string, string)[] AllTraits =
    [
        ("traits.email", "browser-1@example.org"), ("traits.booly", "true"), ("traits.numby", "1"), ("traits.stringy", "string"),
        ("traits.should_big_number", "1000000"), ("traits.should_long_string", "1111111111111111111111111111111111111111111111111111111111"),
    ];

    private static Task<TestServer> StartAsync(string db) => TestServer.StartAsync(db, o =>
    {
        FlowServerFixture.Configure(o);
        o.Selfservice.Flows.Registration.Style = "profile_first";
        o.Identity.Schemas = [new IdentitySchemaEntry { Id = "default", Url = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(Schema)) }];
        o.Selfservice.Methods.Password.Enabled = true;
        o.Selfservice.Methods.Code.Enabled = true;
        o.Selfservice.Methods.Code.PasswordlessEnabled = true;
        o.Selfservice.Methods.Passkey.Enabled = true;
        o.Selfservice.Methods.Passkey.Config.Rp = new WebAuthnRelyingPartyOptions { Id = "localhost", DisplayName = "localhost", Origins = ["http://localhost"] };
        o.Selfservice.Methods.Oidc.Enabled = true;
        o.Selfservice.Methods.Oidc.Config.Providers =
        [
            new OidcProviderOptions
            {
                Id = "google", Provider = "generic", ClientId = "1234", ClientSecret = "1234", IssuerUrl = "https://google.idp.example.com",
                MapperUrl = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes("local claims = std.extVar('claims'); { identity: { traits: { email: claims.email } } }")),
            },
        ];
    });

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Each_step_has_the_nodes_of_Kratos_snapshot(string db)
    {
        var empty = Expected("empty_flow.json");
        var selectCredentials = Expected("select_credentials.json");
        // Kratos's snapshot of going back holds the profile step's submit twice (its returnToProfileForm appends the
        // button again to a form that kept it); one is what a form needs, and what Gatehouse shows.
        var returnToProfile = Expected("return_to_profile.json", distinct: true);
        var selectAgain = Expected("select_credentials_again.json");

        await using var s = await StartAsync(db);
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true }) { BaseAddress = s.Public.BaseAddress };
        browser.DefaultRequestHeaders.Accept.ParseAdd("application/json");
        var flow = await (await browser.GetAsync("/self-service/registration/browser")).Json(HttpStatusCode.OK);
        Assert.Equal(empty, Describe(flow));
        var (id, csrf) = (flow["id"]!.GetValue<string>(), Csrf(flow));

        async Task<JsonNode> Submit(params (string, string)[] fields) =>
            await (await browser.PostAsync($"/self-service/registration?flow={id}",
                new FormUrlEncodedContent([.. fields.Append(("csrf_token", csrf)).Select(f => new KeyValuePair<string, string>(f.Item1, f.Item2))]))).Json(HttpStatusCode.BadRequest);

        Assert.Equal(selectCredentials, Describe(await Submit([.. AllTraits, ("method", "profile")])));
        var back = await Submit([.. AllTraits.Select(t => t.Item1 == "traits.email" ? (t.Item1, "browser-1-1@example.org") : t), ("screen", "previous")]);
        Assert.Equal(returnToProfile, Describe(back));
        Assert.Equal(selectAgain, Describe(await Submit(("traits.email", "browser-1-1@example.org"), ("method", "profile"))));
    }

    private static string Csrf(JsonNode flow) =>
        flow["ui"]!["nodes"]!.AsArray().Single(n => (string?)n!["attributes"]!["name"] == "csrf_token")!["attributes"]!["value"]!.GetValue<string>();

    private static string Expected(string file, bool distinct = false)
    {
        var folder = Gatehouse.Tests.Config.ConfigFiles.KratosReference();
        var path = folder is null ? null : Path.Combine(folder, Folder + file);
        Assert.SkipWhen(path is null || !File.Exists(path), "The Kratos reference snapshots (shared/reference/kratos) are not available.");
        var lines = Lines(JsonNode.Parse(File.ReadAllText(path!))!);
        return string.Join("\n", distinct ? lines.Distinct() : lines);
    }

    /// <summary>
    /// Each node as group, node type, name (or id), input type, value, label id and text, and message ids — except the
    /// values that differ per flow and that Kratos's snapshots leave out: the CSRF token, the passkey creation options.
    /// </summary>
    private static string Describe(JsonNode flowOrNodes) => string.Join("\n", Lines(flowOrNodes));

    private static List<string> Lines(JsonNode flowOrNodes)
    {
        var nodes = flowOrNodes is JsonArray a ? a : flowOrNodes["ui"]!["nodes"]!.AsArray();
        return
        [
            .. nodes.Select(n =>
            {
                var attributes = n!["attributes"]!;
                var name = (string?)attributes["name"] ?? (string?)attributes["id"];
                var value = name is "csrf_token" or "passkey_create_data" ? null : attributes["value"]?.ToJsonString();
                var label = n["meta"]?["label"];
                var messages = string.Join(",", n["messages"]!.AsArray().Select(m => m!["id"]!.ToJsonString()));
                return $"{n["group"]} {n["type"]} {name} {(string?)attributes["type"]} value={value} label={label?["id"]}:{label?["text"]} messages=[{messages}]";
            }),
        ];
    }
}
