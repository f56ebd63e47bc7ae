using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Persistence;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.SelfService;

/// <summary>Servers configured like the Kratos quickstart: the session hook after password registration.</summary>
public sealed class FlowServerFixture : IAsyncDisposable
{
    private readonly Dictionary<string, Task<TestServer>> _servers = [];
    private readonly Lock _lock = new();

    public static void Configure(GatehouseOptions o)
    {
        o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions { Hooks = [new HookConfig { Hook = "session" }] };
        o.Selfservice.Flows.Registration.Style = "unified";
        o.Selfservice.DefaultBrowserReturnUrl = "http://app.example.com/welcome";
        o.Selfservice.AllowedReturnUrls = ["http://app.example.com/"];
        o.Selfservice.Methods.Password.Config.HaveibeenpwnedEnabled = false;
        o.Secrets.Cookie = ["a-test-cookie-secret-32-chars-!!"];
    }

    public Task<TestServer> Get(string provider, string key = "unified", Action<GatehouseOptions>? extra = null)
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

public static class FlowTestHelpers
{
    public const string GoodPassword = "correct-horse-battery-staple-42";

    /// <summary>How many courier messages were queued for <paramref name="to"/> (stored lower-cased).</summary>
    public static async Task<int> MailCount(TestServer s, string to)
    {
        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        return await db.CourierMessages.CountAsync(x => x.Recipient == to.ToLowerInvariant());
    }

    /// <summary>The template data of the newest courier message queued for <paramref name="to"/>.</summary>
    public static async Task<JsonObject> LastMailData(TestServer s, string to)
    {
        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        var m = await db.CourierMessages.AsNoTracking().Where(x => x.Recipient == to.ToLowerInvariant()).OrderByDescending(x => x.CreatedAt).FirstAsync();
        return JsonNode.Parse(m.TemplateData ?? "{}")!.AsObject();
    }

    /// <summary>The value of the browser's CSRF cookie.</summary>
    public static string CsrfCookie(Browser browser) =>
        browser.Cookies.GetAllCookies().Single(c => c.Name.StartsWith("csrf_token_", StringComparison.Ordinal)).Value;

    public static string Csrf(JsonNode flow) =>
        flow["ui"]!["nodes"]!.AsArray().First(n => n!["attributes"]!["name"]?.GetValue<string>() == "csrf_token")!["attributes"]!["value"]!.GetValue<string>();

    public static JsonObject? Node(JsonNode flow, string name) =>
        flow["ui"]!["nodes"]!.AsArray().FirstOrDefault(n => n!["attributes"]!["name"]?.GetValue<string>() == name)?.AsObject();

    public static IEnumerable<long> MessageIds(JsonNode flow, string? node = null) =>
        (node is null ? flow["ui"]!["messages"]?.AsArray() : Node(flow, node)?["messages"]?.AsArray())?.Select(m => m!["id"]!.GetValue<long>()) ?? [];

    public static async Task<JsonObject> ApiFlow(HttpClient client, string kind) =>
        (await (await client.GetAsync($"/self-service/{kind}/api")).Json(HttpStatusCode.OK)).AsObject();

    public static async Task<(string Email, string Token, JsonNode Body)> RegisterApi(TestServer s, string? email = null)
    {
        email ??= HttpAssertions.UniqueEmail("reg");
        var flow = await ApiFlow(s.Public, "registration");
        var body = await (await s.Public.PostJson($"/self-service/registration?flow={flow["id"]}",
            new JsonObject { ["method"] = "password", ["password"] = GoodPassword, ["traits"] = new JsonObject { ["email"] = email } })).Json(HttpStatusCode.OK);
        return (email, body["session_token"]!.GetValue<string>(), body);
    }
}
