using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.SelfService;
using Microsoft.Extensions.Time.Testing;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.RateLimiting;

/// <summary>
/// gatehouse.rate_limits through HTTP on each provider: failed logins per identifier and per client address, mails per
/// recipient, flow creation and admin-key failures per client address; 429 with Retry-After in the Kratos envelope.
/// Client addresses other than loopback come from X-Forwarded-For, with 127.0.0.1 configured as a trusted proxy.
/// </summary>
public sealed class BruteForceTests
{
    private static async Task<(TestServer Server, FakeTimeProvider Clock)> StartAsync(string db, Action<RateLimitsOptions> limits)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var server = await TestServer.StartAsync(db, o =>
        {
            FlowServerFixture.Configure(o);
            o.Selfservice.Flows.Recovery.Enabled = true;
            o.Selfservice.Flows.Recovery.NotifyUnknownRecipients = true;
            o.Gatehouse.TrustedProxies = ["127.0.0.1"];
            limits(o.Gatehouse.RateLimits);
        }, s => s.AddSingleton<TimeProvider>(clock));
        return (server, clock);
    }

    private static async Task<string> CreateIdentity(TestServer s)
    {
        var email = HttpAssertions.UniqueEmail("bf");
        await (await s.AdminWithKey.PostJson("/admin/identities", new JsonObject
        {
            ["schema_id"] = "default",
            ["traits"] = new JsonObject { ["email"] = email },
            ["credentials"] = new JsonObject { ["password"] = new JsonObject { ["config"] = new JsonObject { ["password"] = GoodPassword } } },
        })).Json(HttpStatusCode.Created);
        return email;
    }

    private static async Task<HttpResponseMessage> Login(TestServer s, string identifier, string password, string? from = null)
    {
        using var init = new HttpRequestMessage(HttpMethod.Get, "/self-service/login/api");
        var flow = await (await s.Public.SendAsync(init)).Json(HttpStatusCode.OK);
        using var submit = new HttpRequestMessage(HttpMethod.Post, $"/self-service/login?flow={flow["id"]}")
        {
            Content = JsonContent(new JsonObject { ["method"] = "password", ["identifier"] = identifier, ["password"] = password }),
        };
        if (from is not null) submit.Headers.Add("X-Forwarded-For", from);
        return await s.Public.SendAsync(submit);
    }

    private static StringContent JsonContent(JsonNode body) => new(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");

    private static async Task<JsonObject> AssertTooManyRequests(HttpResponseMessage response, long messageId, string limit)
    {
        var error = await response.Error(HttpStatusCode.TooManyRequests);
        Assert.Equal("rate_limit_exceeded", error["id"]!.GetValue<string>());
        Assert.Equal(limit, error["details"]!["limit"]!.GetValue<string>());
        Assert.Equal(messageId, error["details"]!["message"]!["id"]!.GetValue<long>());
        var seconds = error["details"]!["retry_after_seconds"]!.GetValue<int>();
        Assert.True(seconds >= 1);
        Assert.Equal(seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), response.Headers.GetValues("Retry-After").Single());
        return error;
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task After_n_wrong_passwords_an_account_answers_429_with_retry_after_and_others_still_sign_in(string db)
    {
        var (s, clock) = await StartAsync(db, l => l.LoginPerIdentifier = new RateLimitRule { Limit = 3, Window = TimeSpan.FromMinutes(15) });
        await using var _ = s;
        var victim = await CreateIdentity(s);
        var other = await CreateIdentity(s);
        for (var i = 0; i < 3; i++) await (await Login(s, victim, "wrong-password-" + i)).Json(HttpStatusCode.BadRequest);

        var error = await AssertTooManyRequests(await Login(s, victim, GoodPassword), 4290001, "login_per_identifier");
        Assert.Equal(900, error["details"]!["retry_after_seconds"]!.GetValue<int>());
        // The identifier is matched as the login matches it (case-insensitively for e-mail addresses).
        await AssertTooManyRequests(await Login(s, victim.ToUpperInvariant(), GoodPassword), 4290001, "login_per_identifier");
        // Unknown identifiers are limited the same way, so a 429 tells nothing about which accounts exist.
        var unknown = HttpAssertions.UniqueEmail("nobody");
        for (var i = 0; i < 3; i++) await (await Login(s, unknown, "x-" + i)).Json(HttpStatusCode.BadRequest);
        await AssertTooManyRequests(await Login(s, unknown, "x"), 4290001, "login_per_identifier");

        await (await Login(s, other, GoodPassword)).Json(HttpStatusCode.OK);

        clock.Advance(TimeSpan.FromMinutes(15));
        await (await Login(s, victim, GoodPassword)).Json(HttpStatusCode.OK);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task During_a_flood_a_throttled_identifier_is_refused_before_the_flow_is_read(string db)
    {
        var (s, clock) = await StartAsync(db, l => l.LoginPerIdentifier = new RateLimitRule { Limit = 2, Window = TimeSpan.FromMinutes(15) });
        await using var _ = s;
        var victim = await CreateIdentity(s);
        var other = await CreateIdentity(s);
        var missingFlow = $"/self-service/login?flow={Guid.NewGuid()}";
        HttpRequestMessage Submit(string identifier, HttpContent? content = null) => new(HttpMethod.Post, missingFlow)
        {
            Content = content ?? JsonContent(new JsonObject { ["method"] = "password", ["identifier"] = identifier, ["password"] = "whatever" }),
        };

        // Nothing refused yet: a missing flow is a 404 as always.
        await (await s.Public.SendAsync(Submit(victim))).Error(HttpStatusCode.NotFound);
        for (var i = 0; i < 2; i++) await (await Login(s, victim, "wrong-" + i)).Json(HttpStatusCode.BadRequest);
        await AssertTooManyRequests(await Login(s, victim, GoodPassword), 4290001, "login_per_identifier");

        // Now the refusal is remembered: a JSON submit naming the identifier is refused from memory, before the flow is read
        // (the flow does not even exist), with the same 429 the counters gave.
        await AssertTooManyRequests(await s.Public.SendAsync(Submit(victim)), 4290001, "login_per_identifier");
        await AssertTooManyRequests(await s.Public.SendAsync(Submit(victim.ToUpperInvariant())), 4290001, "login_per_identifier");
        // Anything else keeps its usual answer and order of checks: other identifiers, no password, an unparsable body.
        await (await s.Public.SendAsync(Submit(other))).Error(HttpStatusCode.NotFound);
        await (await s.Public.SendAsync(Submit(victim, JsonContent(new JsonObject { ["method"] = "password", ["identifier"] = victim })))).Error(HttpStatusCode.NotFound);
        await (await s.Public.SendAsync(Submit(victim, new StringContent("{not json", System.Text.Encoding.UTF8, "application/json")))).Error(HttpStatusCode.NotFound);
        // A real flow with the bad body still gets the body's error once the flow is known.
        using var init = new HttpRequestMessage(HttpMethod.Get, "/self-service/login/api");
        var flow = await (await s.Public.SendAsync(init)).Json(HttpStatusCode.OK);
        using var garbled = new HttpRequestMessage(HttpMethod.Post, $"/self-service/login?flow={flow["id"]}") { Content = new StringContent("{not json", System.Text.Encoding.UTF8, "application/json") };
        await (await s.Public.SendAsync(garbled)).Error(HttpStatusCode.BadRequest);

        // The memory holds only as long as the counters' refusal.
        clock.Advance(TimeSpan.FromMinutes(15));
        await (await s.Public.SendAsync(Submit(victim))).Error(HttpStatusCode.NotFound);
        await (await Login(s, victim, GoodPassword)).Json(HttpStatusCode.OK);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_successful_login_clears_the_identifiers_failures(string db)
    {
        var (s, _) = await StartAsync(db, l => l.LoginPerIdentifier = new RateLimitRule { Limit = 3, Window = TimeSpan.FromMinutes(15) });
        await using var server = s;
        var user = await CreateIdentity(s);
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 2; i++) await (await Login(s, user, "wrong")).Json(HttpStatusCode.BadRequest);
            await (await Login(s, user, GoodPassword)).Json(HttpStatusCode.OK);
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Concurrent_wrong_passwords_are_compared_at_most_limit_times(string db)
    {
        var (s, _) = await StartAsync(db, l => l.LoginPerIdentifier = new RateLimitRule { Limit = 4, Window = TimeSpan.FromMinutes(15) });
        await using var server = s;
        var user = await CreateIdentity(s);
        var responses = await Task.WhenAll(Enumerable.Range(0, 24).Select(i => Task.Run(() => Login(s, user, "wrong-" + i))));
        Assert.Equal(4, responses.Count(r => r.StatusCode == HttpStatusCode.BadRequest));
        Assert.Equal(20, responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests));
        await AssertTooManyRequests(await Login(s, user, GoodPassword), 4290001, "login_per_identifier");
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Failed_logins_are_limited_per_client_address_behind_a_trusted_proxy(string db)
    {
        var (s, _) = await StartAsync(db, l => l.LoginPerAddress = new RateLimitRule { Limit = 3, Window = TimeSpan.FromMinutes(10) });
        await using var server = s;
        var user = await CreateIdentity(s);
        for (var i = 0; i < 3; i++) await (await Login(s, HttpAssertions.UniqueEmail("spray"), "wrong", from: "203.0.113.7")).Json(HttpStatusCode.BadRequest);
        await AssertTooManyRequests(await Login(s, user, GoodPassword, from: "203.0.113.7"), 4290002, "login_per_address");
        // A client-written hop left of the real client changes nothing; another client is not affected.
        await AssertTooManyRequests(await Login(s, user, GoodPassword, from: "198.51.100.1, 203.0.113.7"), 4290002, "login_per_address");
        await (await Login(s, user, GoodPassword, from: "203.0.113.8")).Json(HttpStatusCode.OK);
        // Loopback clients (a local proxy or tool) are not limited per address.
        for (var i = 0; i < 4; i++) await (await Login(s, HttpAssertions.UniqueEmail("local"), "wrong")).Json(HttpStatusCode.BadRequest);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Recovery_mails_are_limited_per_recipient_known_or_not(string db)
    {
        var (s, _) = await StartAsync(db, l => l.MailsPerRecipient = new RateLimitRule { Limit = 2, Window = TimeSpan.FromHours(1) });
        await using var server = s;
        foreach (var email in new[] { await CreateIdentity(s), HttpAssertions.UniqueEmail("unknown") })
        {
            for (var i = 0; i < 2; i++)
            {
                var flow = await ApiFlow(s.Public, "recovery");
                await (await s.Public.PostJson($"/self-service/recovery?flow={flow["id"]}", new JsonObject { ["method"] = "code", ["email"] = email })).Json(HttpStatusCode.OK);
            }
            var third = await ApiFlow(s.Public, "recovery");
            await AssertTooManyRequests(await s.Public.PostJson($"/self-service/recovery?flow={third["id"]}", new JsonObject { ["method"] = "code", ["email"] = email.ToUpperInvariant() }), 4290004, "mails_per_recipient");
            var unchanged = await (await s.Public.GetAsync($"/self-service/recovery/flows?id={third["id"]}")).Json(HttpStatusCode.OK);
            Assert.Equal("choose_method", unchanged["state"]!.GetValue<string>());
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Flow_creation_is_limited_per_client_address_and_browsers_go_to_the_error_page(string db)
    {
        var (s, _) = await StartAsync(db, l => l.FlowsPerAddress = new RateLimitRule { Limit = 2, Window = TimeSpan.FromMinutes(1) });
        await using var server = s;
        async Task<HttpResponseMessage> Init(string path, string from, bool browser = false)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Add("X-Forwarded-For", from);
            if (browser) request.Headers.Accept.ParseAdd("text/html");
            using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(s.PublicUrl) };
            return await client.SendAsync(request);
        }
        await (await Init("/self-service/login/api", "192.0.2.10")).Json(HttpStatusCode.OK);
        await (await Init("/self-service/registration/api", "192.0.2.10")).Json(HttpStatusCode.OK);
        await AssertTooManyRequests(await Init("/self-service/recovery/api", "192.0.2.10"), 4290005, "flows_per_address");
        var browser = await Init("/self-service/login/browser", "192.0.2.10", browser: true);
        Assert.Equal(HttpStatusCode.SeeOther, browser.StatusCode);
        var errorId = System.Web.HttpUtility.ParseQueryString(browser.Headers.Location!.Query)["id"];
        var stored = await (await s.Public.GetAsync($"/self-service/errors?id={errorId}")).Json(HttpStatusCode.OK);
        Assert.Equal(429, stored["error"]!["code"]!.GetValue<int>());
        Assert.Equal(4290005, stored["error"]!["details"]!["message"]!["id"]!.GetValue<long>());
        await (await Init("/self-service/login/api", "2001:db8::1")).Json(HttpStatusCode.OK);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Fedcm_parameters_and_token_submits_count_as_flow_creation(string db)
    {
        var (s, _) = await StartAsync(db, l => l.FlowsPerAddress = new RateLimitRule { Limit = 2, Window = TimeSpan.FromMinutes(1) });
        await using var server = s;
        HttpRequestMessage From(HttpRequestMessage request, string address)
        {
            request.Headers.Add("X-Forwarded-For", address);
            return request;
        }
        await (await s.Public.SendAsync(From(new HttpRequestMessage(HttpMethod.Get, "/self-service/fed-cm/parameters"), "192.0.2.30"))).Json(HttpStatusCode.OK);
        // Counted before anything of the submit is looked at (here it would be a CSRF refusal).
        await (await s.Public.SendAsync(From(new HttpRequestMessage(HttpMethod.Post, "/self-service/fed-cm/token") { Content = JsonContent(new JsonObject()) }, "192.0.2.30"))).Error(HttpStatusCode.Forbidden);
        await AssertTooManyRequests(await s.Public.SendAsync(From(new HttpRequestMessage(HttpMethod.Get, "/self-service/fed-cm/parameters"), "192.0.2.30")), 4290005, "flows_per_address");
        await AssertTooManyRequests(await s.Public.SendAsync(From(new HttpRequestMessage(HttpMethod.Post, "/self-service/fed-cm/token") { Content = JsonContent(new JsonObject()) }, "192.0.2.30")), 4290005, "flows_per_address");
        await (await s.Public.SendAsync(From(new HttpRequestMessage(HttpMethod.Get, "/self-service/fed-cm/parameters"), "192.0.2.31"))).Json(HttpStatusCode.OK);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Wrong_admin_keys_are_limited_per_client_address(string db)
    {
        var (s, _) = await StartAsync(db, l => l.AdminKeyFailuresPerAddress = new RateLimitRule { Limit = 2, Window = TimeSpan.FromMinutes(10) });
        await using var server = s;
        async Task<HttpResponseMessage> List(string? key, string from)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/identities");
            request.Headers.Add("X-Forwarded-For", from);
            if (key is not null) request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
            return await s.Public.SendAsync(request);
        }
        await (await List("ory_apikey_wrong", "198.51.100.20")).Error(HttpStatusCode.Unauthorized);
        await (await List(null, "198.51.100.20")).Error(HttpStatusCode.Unauthorized);
        await AssertTooManyRequests(await List(s.ApiKey, "198.51.100.20"), 4290006, "admin_key_failures_per_address");
        await (await List(s.ApiKey, "198.51.100.21")).Json(HttpStatusCode.OK);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Disabled_rate_limits_count_nothing(string db)
    {
        var (s, _) = await StartAsync(db, l =>
        {
            l.Enabled = false;
            l.LoginPerIdentifier = new RateLimitRule { Limit = 1, Window = TimeSpan.FromMinutes(15) };
        });
        await using var server = s;
        var user = await CreateIdentity(s);
        for (var i = 0; i < 3; i++) await (await Login(s, user, "wrong")).Json(HttpStatusCode.BadRequest);
        await (await Login(s, user, GoodPassword)).Json(HttpStatusCode.OK);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Dev_mode_multiplies_every_limit_by_ten(string db)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var s = await TestServer.StartAsync(db, o =>
        {
            FlowServerFixture.Configure(o);
            o.Dev = true;
            o.Gatehouse.RateLimits.LoginPerIdentifier = new RateLimitRule { Limit = 1, Window = TimeSpan.FromMinutes(15) };
        }, services => services.AddSingleton<TimeProvider>(clock));
        var user = await CreateIdentity(s);
        for (var i = 0; i < 10; i++) await (await Login(s, user, "wrong-" + i)).Json(HttpStatusCode.BadRequest);
        await AssertTooManyRequests(await Login(s, user, GoodPassword), 4290001, "login_per_identifier");
    }
}
