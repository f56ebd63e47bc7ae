using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.SelfService.Strategies.Password;
using Gatehouse.Tests.Hooks;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

/// <summary>Have I Been Pwned down: one warning line, and Kratos's <c>ignore_network_errors</c> decides.</summary>
public sealed class PasswordPolicyHibpTests
{
    private static async Task<(TestServer Server, LogCapture Logs)> Start(bool ignoreNetworkErrors, string address = "127.0.0.1")
    {
        var logs = new LogCapture();
        // A closed local port: the connection is refused at once.
        var host = $"{address}:{TestServer.FreePort()}";
        var server = await TestServer.StartAsync(Db.Sqlite, o =>
        {
            FlowServerFixture.Configure(o);
            o.Log.Level = "info";
            o.Selfservice.Methods.Password.Config.HaveibeenpwnedEnabled = true;
            o.Selfservice.Methods.Password.Config.HaveibeenpwnedHost = host;
            o.Selfservice.Methods.Password.Config.IgnoreNetworkErrors = ignoreNetworkErrors;
        }, services => services.AddSingleton<ILoggerProvider>(logs));
        return (server, logs);
    }

    [Fact]
    public async Task Unreachable_hibp_is_one_warning_line_per_check_without_a_stack_trace_and_registration_goes_on()
    {
        var (s, logs) = await Start(ignoreNetworkErrors: true);
        await using var _ = s;
        await RegisterApi(s);
        await RegisterApi(s);
        var warnings = logs.Lines.Where(l => l.Contains("Have I Been Pwned", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, warnings.Count);
        Assert.All(warnings, w => Assert.StartsWith("Warning ", w, StringComparison.Ordinal));
        // No exception anywhere in the log: no stack trace, no "HTTP request failed" with one.
        Assert.DoesNotContain(logs.Lines, l => l.Contains("   at ", StringComparison.Ordinal) || l.Contains("Exception:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unreachable_hibp_fails_the_submit_with_502_upstream_error_when_network_errors_are_not_ignored()
    {
        var (s, logs) = await Start(ignoreNetworkErrors: false);
        await using var _ = s;
        var flow = await ApiFlow(s.Public, "registration");
        var email = HttpAssertions.UniqueEmail("hibp");
        var answer = await (await s.Public.PostJson($"/self-service/registration?flow={flow["id"]}",
            new JsonObject { ["method"] = "password", ["password"] = GoodPassword, ["traits"] = new JsonObject { ["email"] = email } })).Json(HttpStatusCode.BadGateway);
        Assert.Equal("upstream_error", answer["error"]?["id"]?.GetValue<string>());
        Assert.DoesNotContain(logs.Lines, l => l.Contains("   at ", StringComparison.Ordinal));
        var identities = await (await s.AdminWithKey.GetAsync($"/admin/identities?credentials_identifier={Uri.EscapeDataString(email)}")).Json(HttpStatusCode.OK);
        Assert.Empty(identities.AsArray());
    }

    [Fact]
    public async Task Hibp_on_a_special_purpose_address_is_refused_before_connecting_as_by_ory_x_default_transport()
    {
        // Kratos's validator.go builds the HIBP client with httpx.NewResilientClient: ory/x's default transport, which
        // refuses 0.0.0.0/8 (reaching loopback on Linux) even with clients.http.disallow_private_ip_ranges off.
        var (s, logs) = await Start(ignoreNetworkErrors: true, address: "0.0.0.0");
        await using var _ = s;
        await RegisterApi(s);
        Assert.Contains(logs.Lines, l => l.Contains("Have I Been Pwned", StringComparison.Ordinal) && l.Contains("0.0.0.0 is not a permitted destination", StringComparison.Ordinal));
    }

    [Fact]
    public void The_breach_count_cache_is_bounded_in_size_and_time()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var cache = new BreachCountCache(3, TimeSpan.FromHours(1), time);
        for (var i = 0; i < 10; i++) cache.Set($"hash-{i}", i);
        Assert.Equal(3, cache.Count);
        Assert.False(cache.TryGet("hash-0", out _)); // the oldest went first
        Assert.True(cache.TryGet("hash-9", out var nine));
        Assert.Equal(9, nine);

        time.Advance(TimeSpan.FromMinutes(59));
        Assert.True(cache.TryGet("hash-9", out _));
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.False(cache.TryGet("hash-9", out _));
        Assert.Equal(10_000, PasswordPolicy.CacheEntries);
    }
}
