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
        FlowServerFixture.Configure(o);
        o.Identity.Schemas = [new IdentitySchemaEntry { Id = "default", Url = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(Schema)) }];
        o.Selfservice.Methods.Code.Enabled = false;
        o.Selfservice.Methods.Password.Enabled = methods.Contains("password", StringComparison.Ordinal);
        var rp = new WebAuthnRelyingPartyOptions { Id = "example.com", DisplayName = "Example", Origins = [Origin] };
        if (methods.Contains("passkey", StringComparison.Ordinal))
        {
            o.Selfservice.Methods.Passkey.Enabled = true;
            o.Selfservice.Methods.Passkey.Config.Rp = rp;
        }
        if (methods.Contains("webauthn", StringComparison.Ordinal))
        {
            o.Selfservice.Methods.Webauthn.Enabled = true;
            o.Selfservice.Methods.Webauthn.Config.Passwordless = true;
            o.Selfservice.Methods.Webauthn.Config.Rp = rp;
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
