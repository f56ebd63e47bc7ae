using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Persistence;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

/// <summary>
/// A link token that cannot be used, as Kratos's link method answers it (<c>selfservice/strategy/link</c>:
/// <c>recoveryUseToken</c> / <c>verificationUseToken</c> and their <c>retry…FlowWithMessage</c>): a new browser flow made
/// from the submit request (so without the old flow's <c>return_to</c>) carries the message, and every client — JSON ones
/// too — is sent (303) to its UI.
/// </summary>
public sealed class LinkTokenRetryTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private readonly Dictionary<string, TestServer> _servers = [];

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _servers.Values) await s.DisposeAsync();
    }

    private async Task<TestServer> Server(string db)
    {
        if (_servers.TryGetValue(db, out var s)) return s;
        s = await TestServer.StartAsync(db, o =>
        {
            FlowServerFixture.Configure(o);
            o.Selfservice.Methods.Link.Enabled = true;
            o.Selfservice.Methods.Link.Config.Lifespan = TimeSpan.FromMinutes(10);
            o.Selfservice.Flows.Recovery.Enabled = true;
            o.Selfservice.Flows.Recovery.Use = "link";
            o.Selfservice.Flows.Verification.Enabled = true;
            o.Selfservice.Flows.Verification.Use = "link";
        }, services => services.AddSingleton<TimeProvider>(_clock));
        return _servers[db] = s;
    }

    /// <summary>The link mailed to an address for a flow (<paramref name="field"/> of the mail's template data), as a path and query.</summary>
    private static async Task<string> MailedLink(TestServer s, string to, JsonNode flow, string field)
    {
        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        var mails = await db.CourierMessages.AsNoTracking().Where(x => x.Recipient == to.ToLowerInvariant()).ToListAsync();
        var link = mails.Select(m => JsonNode.Parse(m.TemplateData ?? "{}")![field]?.GetValue<string>())
            .Single(l => l is not null && l.Contains($"flow={flow["id"]}", StringComparison.Ordinal))!;
        return new Uri(link).PathAndQuery;
    }

    /// <summary>Opens <paramref name="link"/> and follows the 303 to the new flow's UI by fetching that flow as the UI does.</summary>
    private static async Task<JsonNode> OpenAndFetchNewFlow(Browser browser, string kind, string link, string oldId)
    {
        var opened = await browser.Client.GetAsync(link);
        Assert.Equal(HttpStatusCode.SeeOther, opened.StatusCode);
        var location = opened.Headers.Location!.ToString();
        Assert.Contains($"/ui/{kind}?flow=", location);
        var newId = location[(location.IndexOf("flow=", StringComparison.Ordinal) + 5)..];
        Assert.NotEqual(oldId, newId);
        var next = await (await browser.Client.GetAsync($"/self-service/{kind}/flows?id={newId}")).Json(HttpStatusCode.OK);
        Assert.Equal("browser", next["type"]!.GetValue<string>());
        Assert.Equal("choose_method", next["state"]!.GetValue<string>());
        Assert.Null(next["return_to"]);
        return next;
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_bad_recovery_link_token_sends_even_a_json_client_to_a_new_browser_flow_with_4060004(string db)
    {
        var s = await Server(db);
        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        var flow = await (await spa.Client.GetAsync("/self-service/recovery/browser?return_to=http://app.example.com/after")).Json(HttpStatusCode.OK);
        Assert.Equal("http://app.example.com/after", flow["return_to"]!.GetValue<string>());
        var id = flow["id"]!.GetValue<string>();
        var next = await OpenAndFetchNewFlow(spa, "recovery", $"/self-service/recovery?flow={id}&token=not-a-token", id);
        Assert.Equal([4060004L], MessageIds(next));
        Assert.Null(spa.Cookie("ory_kratos_session"));

        // An API flow's bad link too: the new flow is a browser flow, bound to the browser that opened the link.
        var api = await ApiFlow(s.Public, "recovery");
        using var mailReader = new Browser(s.PublicUrl, acceptJson: true);
        var fromApi = await OpenAndFetchNewFlow(mailReader, "recovery", $"/self-service/recovery?flow={api["id"]}&token=not-a-token", api["id"]!.GetValue<string>());
        Assert.Equal([4060004L], MessageIds(fromApi));
        Assert.False(string.IsNullOrEmpty(Csrf(fromApi)));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_recovery_link_past_its_lifespan_is_spent_and_gives_a_new_flow_with_4060005(string db)
    {
        var s = await Server(db);
        var (email, _, _) = await RegisterApi(s);
        var flow = await ApiFlow(s.Public, "recovery");
        await (await s.Public.PostJson($"/self-service/recovery?flow={flow["id"]}", new JsonObject { ["method"] = "link", ["email"] = email })).Json(HttpStatusCode.OK);
        var link = await MailedLink(s, email, flow, "recovery_url");
        _clock.Advance(TimeSpan.FromMinutes(11));

        using var browser = new Browser(s.PublicUrl);
        var next = await OpenAndFetchNewFlow(browser, "recovery", link, flow["id"]!.GetValue<string>());
        Assert.Equal([4060005L], MessageIds(next));
        Assert.Equal("The recovery flow expired 1.00 minutes ago, please try again.", next["ui"]!["messages"]![0]!["text"]!.GetValue<string>());
        Assert.Null(browser.Cookie("ory_kratos_session"));
        // Kratos marks the token used before it looks at its expiry: opened again, it is unknown.
        var again = await OpenAndFetchNewFlow(browser, "recovery", link, flow["id"]!.GetValue<string>());
        Assert.Equal([4060004L], MessageIds(again));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_used_recovery_link_on_its_completed_flow_gives_a_new_flow_with_4060004(string db)
    {
        var s = await Server(db);
        var (email, _, _) = await RegisterApi(s);
        using var browser = new Browser(s.PublicUrl, acceptJson: true);
        var flow = await (await browser.Client.GetAsync("/self-service/recovery/browser")).Json(HttpStatusCode.OK);
        await (await browser.Client.PostJson($"/self-service/recovery?flow={flow["id"]}", new JsonObject { ["method"] = "link", ["email"] = email, ["csrf_token"] = Csrf(flow) })).Json(HttpStatusCode.OK);
        var link = await MailedLink(s, email, flow, "recovery_url");
        using var first = new Browser(s.PublicUrl);
        var done = await first.Client.GetAsync(link);
        Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
        Assert.Contains("/ui/settings?flow=", done.Headers.Location!.ToString());

        using var second = new Browser(s.PublicUrl);
        var next = await OpenAndFetchNewFlow(second, "recovery", link, flow["id"]!.GetValue<string>());
        Assert.Equal([4060004L], MessageIds(next));
        Assert.Null(second.Cookie("ory_kratos_session"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Bad_and_expired_verification_link_tokens_give_a_new_browser_flow_with_4070001_and_4070005(string db)
    {
        var s = await Server(db);
        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        var flow = await (await spa.Client.GetAsync("/self-service/verification/browser?return_to=http://app.example.com/after")).Json(HttpStatusCode.OK);
        var id = flow["id"]!.GetValue<string>();
        var bad = await OpenAndFetchNewFlow(spa, "verification", $"/self-service/verification?flow={id}&token=not-a-token", id);
        Assert.Equal([4070001L], MessageIds(bad));

        var (email, _, reg) = await RegisterApi(s);
        var api = await ApiFlow(s.Public, "verification");
        await (await s.Public.SubmitJson($"/self-service/verification?flow={api["id"]}", new JsonObject { ["method"] = "link", ["email"] = email })).Json(HttpStatusCode.OK);
        var link = await MailedLink(s, email, api, "verification_url");
        _clock.Advance(TimeSpan.FromMinutes(11));
        using var browser = new Browser(s.PublicUrl);
        var expired = await OpenAndFetchNewFlow(browser, "verification", link, api["id"]!.GetValue<string>());
        Assert.Equal([4070005L], MessageIds(expired));
        Assert.Equal("The verification flow expired 1.00 minutes ago, please try again.", expired["ui"]!["messages"]![0]!["text"]!.GetValue<string>());
        var identity = await (await s.AdminWithKey.GetAsync($"/admin/identities/{reg["identity"]!["id"]}")).Json(HttpStatusCode.OK);
        Assert.False(identity["verifiable_addresses"]![0]!["verified"]!.GetValue<bool>());
    }
}
