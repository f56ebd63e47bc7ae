using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.SelfService.Hooks.WebHooks;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using static Gatehouse.Tests.Hooks.HookFixture;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.Hooks;

/// <summary>
/// What a failing web hook tells the end user (a generic reason and a stable id, no host names or template errors) and
/// what it tells the operator (the log, without secrets).
/// </summary>
public sealed class WebHookErrorTests(HookFixture fixture) : IClassFixture<HookFixture>
{
    private static async Task<JsonObject> RegisterExpecting(TestServer s, HttpStatusCode status)
    {
        var flow = await ApiFlow(s.Public, "registration");
        var body = new JsonObject { ["method"] = "password", ["password"] = GoodPassword, ["traits"] = new JsonObject { ["email"] = HttpAssertions.UniqueEmail("hookerr") } };
        return await (await s.Public.PostJson($"/self-service/registration?flow={flow["id"]}", body)).Error(status);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_unreachable_hook_shows_no_host_to_the_user_and_logs_it_under_the_request_id(string db)
    {
        var port = TestServer.FreePort();
        var s = await fixture.Get(db, "unreachable-internal", (o, _) => o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions
        {
            Hooks = [WebHook(new JsonObject { ["url"] = $"http://127.0.0.1:{port}/internal", ["body"] = Base64("function(ctx) { email: ctx.identity.traits.email }"), ["response"] = new JsonObject { ["parse"] = true } })],
        });
        var error = await RegisterExpecting(s, HttpStatusCode.BadGateway);
        var text = error.ToJsonString();
        Assert.DoesNotContain("127.0.0.1", text, StringComparison.Ordinal);
        Assert.DoesNotContain(port.ToString(System.Globalization.CultureInfo.InvariantCulture), text, StringComparison.Ordinal);
        Assert.DoesNotContain("refused", text, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(Gatehouse.SelfService.Hooks.WebHooks.WebHook.ErrorId, error["id"]!.GetValue<string>());
        Assert.Contains("could not be reached", error["reason"]!.GetValue<string>());
        var requestId = error["details"]!["web_hook_request_id"]!.GetValue<string>();
        Assert.Contains(fixture.Logs.Lines, l => l.Contains(requestId, StringComparison.Ordinal) && l.Contains($"127.0.0.1:{port}", StringComparison.Ordinal));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_failing_body_template_shows_no_template_error_to_the_user(string db)
    {
        var s = await fixture.Get(db, "template-error", (o, r) => o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions
        {
            Hooks = [WebHook(new JsonObject { ["url"] = r.On("/never-called", 200), ["body"] = Base64("function(ctx) error 'internal detail ' + ctx.identity.traits.email") })],
        });
        var error = await RegisterExpecting(s, HttpStatusCode.InternalServerError);
        var text = error.ToJsonString();
        Assert.DoesNotContain("internal detail", text, StringComparison.Ordinal);
        Assert.DoesNotContain("RUNTIME ERROR", text, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(Gatehouse.SelfService.Hooks.WebHooks.WebHook.ErrorId, error["id"]!.GetValue<string>());
        var requestId = error["details"]!["web_hook_request_id"]!.GetValue<string>();
        Assert.Contains(fixture.Logs.Lines, l => l.Contains(requestId, StringComparison.Ordinal) && l.Contains("internal detail", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_ignored_hook_that_fails_unexpectedly_is_logged_with_its_url_and_no_secret()
    {
        var s = await fixture.Get(Db.Sqlite, "ignored-unexpected", (_, _) => { });
        var logs = new LogCapture();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));
        var dispatcher = new WebHookDispatcher(s.Services.GetRequiredService<WebHookQueue>(), s.Services.GetRequiredService<WebHookSender>(), factory.CreateLogger<WebHookDispatcher>());
        // A Content-Type that is not a media type fails while the request is built, outside the network errors.
        var config = WebHookConfig.Read(new JsonObject
        {
            ["url"] = "http://127.0.0.1:9/ignored-hook",
            ["method"] = "POST",
            ["headers"] = new JsonObject { ["Content-Type"] = "not a media type" },
            ["auth"] = new JsonObject { ["type"] = "api_key", ["config"] = new JsonObject { ["name"] = "X-Key", ["value"] = "hook-secret-value", ["in"] = "header" } },
            ["response"] = new JsonObject { ["ignore"] = true },
        }, "test");
        await dispatcher.DeliverAsync(new WebHookDelivery(config, "{\"password\":\"body-secret\"}", "request-1", "trigger-1"), CancellationToken.None);
        var line = Assert.Single(logs.Lines, l => l.Contains("http://127.0.0.1:9/ignored-hook", StringComparison.Ordinal));
        Assert.StartsWith("Warning ", line, StringComparison.Ordinal);
        Assert.Contains("request-1", line, StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Lines, l => l.Contains("hook-secret-value", StringComparison.Ordinal) || l.Contains("body-secret", StringComparison.Ordinal));
    }
}
