using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http.Outbound;
using Gatehouse.Tests.Hooks;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.Hooks.HookFixture;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.Http;

/// <summary>
/// <c>clients.http.disallow_private_ip_ranges</c> and <c>private_ip_exception_urls</c> (Kratos's and Hydra's SSRF guard):
/// outgoing calls connect to public addresses only, checked on the address connected to; exception globs may reach
/// the private ranges.
/// </summary>
public sealed class PrivateNetworkGuardTests(HookFixture fixture) : IClassFixture<HookFixture>
{
    [Theory]
    [InlineData("8.8.8.8", true)]
    [InlineData("1.1.1.1", true)]
    [InlineData("2606:4700:4700::1111", true)]
    [InlineData("127.0.0.1", false)]
    [InlineData("10.1.2.3", false)]
    [InlineData("172.16.0.1", false)]
    [InlineData("172.31.255.255", false)]
    [InlineData("172.32.0.1", true)]
    [InlineData("192.168.1.1", false)]
    [InlineData("169.254.169.254", false)] // cloud metadata
    [InlineData("100.64.0.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("224.0.0.1", false)]
    [InlineData("255.255.255.255", false)]
    [InlineData("198.18.0.1", false)]
    [InlineData("::1", false)]
    [InlineData("::", false)]
    [InlineData("fc00::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("::ffff:127.0.0.1", false)]
    [InlineData("::ffff:8.8.8.8", true)]
    [InlineData("64:ff9b::7f00:1", false)]
    [InlineData("2001:db8::1", false)]
    [InlineData("2002:7f00:1::", false)]
    [InlineData("2620:4f:8000::1", false)]
    [InlineData("3fff::1", true)] // not in code.dny.dev/ssrf v0.2.0's list, which Kratos v26.2 uses
    [InlineData("2606:4700:4700::1111%2", false)] // Go's netip.Prefix.Contains never matches a zoned address
    public void Only_public_addresses_are_permitted(string address, bool permitted) =>
        Assert.Equal(permitted, PrivateNetworkGuard.Permitted(IPAddress.Parse(address)));

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.0.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("fd12::1", true)]
    [InlineData("8.8.8.8", true)]
    [InlineData("172.16.0.1", true)]
    [InlineData("172.31.255.255", true)]
    [InlineData("192.168.1.1", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("fc00::1", true)]
    [InlineData("2606:4700:4700::1111", true)]
    [InlineData("100.64.0.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("0.1.2.3", false)]
    [InlineData("192.0.0.8", false)]
    [InlineData("192.0.2.1", false)]
    [InlineData("192.88.99.1", false)]
    [InlineData("198.18.0.1", false)]
    [InlineData("198.19.255.255", false)]
    [InlineData("198.51.100.1", false)]
    [InlineData("203.0.113.1", false)]
    [InlineData("224.0.0.1", false)]
    [InlineData("239.255.255.250", false)]
    [InlineData("240.0.0.1", false)]
    [InlineData("255.255.255.255", false)]
    [InlineData("::ffff:100.64.0.1", false)]
    [InlineData("::", false)]
    [InlineData("fe80::1", false)]
    [InlineData("ff02::1", false)]
    [InlineData("64:ff9b::7f00:1", false)]
    [InlineData("2001:db8::1", false)]
    [InlineData("2002:7f00:1::", false)]
    [InlineData("fd00::1%2", false)]
    public void By_default_and_for_exceptions_the_private_ranges_are_reachable_but_no_other_special_purpose_address(string address, bool permitted) =>
        Assert.Equal(permitted, PrivateNetworkGuard.PermittedForExceptions(IPAddress.Parse(address)));

    [Theory]
    [InlineData("http://localhost/exception", "http://localhost/exception", true)]
    [InlineData("http://localhost/exception", "http://localhost/exception/more", false)]
    [InlineData("http://localhost/exception", "http://LOCALHOST/exception", false)]
    [InlineData("http://localhost:*/hooks/*", "http://localhost:8080/hooks/a", true)]
    [InlineData("http://localhost:*/hooks/*", "http://localhost:8080/hooks/a/b", false)]
    [InlineData("http://localhost:*/hooks/**", "http://localhost:8080/hooks/a/b", true)]
    [InlineData("http://*.internal/x", "http://api.internal/x", true)]
    [InlineData("http://*.internal/x", "http://a.b.internal/x", false)]
    [InlineData("http://{a,b}.internal/x", "http://b.internal/x", true)]
    [InlineData("http://[ab].internal/x", "http://c.internal/x", false)]
    [InlineData("http://[!ab].internal/x", "http://c.internal/x", true)]
    [InlineData("http://host/\\*", "http://host/*", true)]
    [InlineData("http://host/\\*", "http://host/a", false)]
    public void Exception_urls_are_ory_x_globs(string glob, string url, bool matches) =>
        Assert.Equal(matches, PrivateNetworkGuard.Glob(glob).IsMatch(url));

    [Fact]
    public void Exceptions_match_without_query_and_fragment() =>
        Assert.Equal("http://localhost:8080/hook", PrivateNetworkGuard.MatchedUrl(new Uri("http://localhost:8080/hook?a=1#f")));

    private static GatehouseOptions Options(bool disallow, params string[] exceptions) =>
        new() { Clients = new ClientsOptions { Http = new ClientsHttpOptions { DisallowPrivateIpRanges = disallow, PrivateIpExceptionUrls = [.. exceptions] } } };

    private static HttpClient Client(GatehouseOptions options) =>
        new(PrivateNetworkGuard.Handler(options, () => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }));

    [Fact]
    public async Task A_private_destination_is_refused_on_connect_unless_an_exception_matches()
    {
        var receiver = await fixture.Receiver;
        var open = receiver.On("/guard/open", 200, "{}");
        var allowed = receiver.On("/guard/allowed", 200, "{}");
        var port = new Uri(open).Port;

        using (var unguarded = Client(Options(false)))
            Assert.Equal(HttpStatusCode.OK, (await unguarded.GetAsync(open)).StatusCode);

        using var guarded = Client(Options(true, $"http://127.0.0.1:*/guard/allowed"));
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => guarded.GetAsync(open));
        Assert.Contains("127.0.0.1 is not a permitted destination", refused.Message);
        // A host name is resolved and its addresses checked: localhost is loopback.
        var byName = await Assert.ThrowsAsync<HttpRequestException>(() => guarded.GetAsync($"http://localhost:{port}/guard/open"));
        Assert.Contains("is not a permitted destination", byName.Message);
        // The exception, with a query the glob does not see; then the refused URL again, after the exception's pool
        // opened a connection to the same host and port: still refused.
        Assert.Equal(HttpStatusCode.OK, (await guarded.GetAsync(allowed + "?q=1")).StatusCode);
        await Assert.ThrowsAsync<HttpRequestException>(() => guarded.GetAsync(open));
        Assert.Single(receiver.Received("/guard/open"));
    }

    [Fact]
    public async Task With_private_ranges_allowed_a_special_purpose_address_is_still_refused_on_connect()
    {
        // ory/x's default transport (allowInternalAllowIPv6, httpx/ssrf.go): on Linux 0.0.0.0 reaches the loopback
        // listener, the classic way round a loopback-only check; Kratos refuses it, as 0.0.0.0/8 is special-purpose.
        var receiver = await fixture.Receiver;
        var open = receiver.On("/guard/default", 200, "{}");
        var port = new Uri(open).Port;
        using var client = Client(Options(false));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(open)).StatusCode);
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync($"http://0.0.0.0:{port}/guard/default"));
        Assert.Contains("0.0.0.0 is not a permitted destination (a special-purpose address", refused.Message);
        Assert.Single(receiver.Received("/guard/default"));

        // The exceptions' pool under the flag follows the same rule.
        using var guarded = Client(Options(true, "http://0.0.0.0:*/guard/default"));
        await Assert.ThrowsAsync<HttpRequestException>(() => guarded.GetAsync($"http://0.0.0.0:{port}/guard/default"));
        Assert.Single(receiver.Received("/guard/default"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_web_hook_to_a_private_address_is_refused_and_logged_and_an_exception_is_called(string db)
    {
        var refusedServer = await fixture.Get(db, "private-ip-refused", (o, r) =>
        {
            o.Clients.Http.DisallowPrivateIpRanges = true;
            o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions
            {
                Hooks = [WebHook(new JsonObject { ["url"] = r.On("/private-hook", 200, "{}"), ["body"] = Base64("function(ctx) { email: ctx.identity.traits.email }"), ["response"] = new JsonObject { ["parse"] = true } })],
            };
        });
        var flow = await ApiFlow(refusedServer.Public, "registration");
        var email = HttpAssertions.UniqueEmail("privateip");
        var body = new JsonObject { ["method"] = "password", ["password"] = GoodPassword, ["traits"] = new JsonObject { ["email"] = email } };
        var error = await (await refusedServer.Public.PostJson($"/self-service/registration?flow={flow["id"]}", body)).Error(HttpStatusCode.BadGateway);
        Assert.DoesNotContain("127.0.0.1", error.ToJsonString(), StringComparison.Ordinal);
        var receiver = await fixture.Receiver;
        Assert.Empty(receiver.Received("/private-hook"));
        Assert.Contains(fixture.Logs.Lines, l => l.Contains("is not a permitted destination", StringComparison.Ordinal) && l.Contains("/private-hook", StringComparison.Ordinal));
        // Nothing was registered.
        Assert.Empty((await (await refusedServer.AdminWithKey.GetAsync($"/admin/identities?credentials_identifier={Uri.EscapeDataString(email)}")).Json(HttpStatusCode.OK)).AsArray());

        var exempt = await fixture.Get(db, "private-ip-exempt", (o, r) =>
        {
            o.Clients.Http.DisallowPrivateIpRanges = true;
            o.Clients.Http.PrivateIpExceptionUrls = [r.BaseUrl + "/exempt-hook"];
            o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions
            {
                Hooks = [WebHook(new JsonObject { ["url"] = r.On("/exempt-hook", 200, "{}"), ["body"] = Base64("function(ctx) { email: ctx.identity.traits.email }"), ["response"] = new JsonObject { ["parse"] = true } })],
            };
        });
        var second = await ApiFlow(exempt.Public, "registration");
        body["traits"]!["email"] = HttpAssertions.UniqueEmail("exemptip");
        await (await exempt.Public.PostJson($"/self-service/registration?flow={second["id"]}", body)).Json(HttpStatusCode.OK);
        Assert.Contains(receiver.Received("/exempt-hook"), r => r.Body.Contains(body["traits"]!["email"]!.GetValue<string>(), StringComparison.Ordinal));
    }
}
