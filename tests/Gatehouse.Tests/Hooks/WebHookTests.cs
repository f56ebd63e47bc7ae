using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.Hooks.HookFixture;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.Hooks;

public sealed class WebHookTests(HookFixture fixture) : IClassFixture<HookFixture>
{
    internal const string EmailBody = "function(ctx) { email: ctx.identity.traits.email }";

    internal static async Task<HttpResponseMessage> Register(TestServer s, JsonObject traits, JsonObject? transientPayload = null, Action<HttpRequestMessage>? headers = null)
    {
        var flow = await ApiFlow(s.Public, "registration");
        var body = new JsonObject { ["method"] = "password", ["password"] = GoodPassword, ["traits"] = traits };
        if (transientPayload is not null) body["transient_payload"] = transientPayload;
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/self-service/registration?flow={flow["id"]}")
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        headers?.Invoke(request);
        return await s.Public.SendAsync(request);
    }

    internal static async Task<JsonArray> IdentitiesWith(TestServer s, string identifier) =>
        (await (await s.AdminWithKey.GetAsync($"/admin/identities?credentials_identifier={Uri.EscapeDataString(identifier)}")).Json(HttpStatusCode.OK)).AsArray();

    private static string EmailOf(ReceivedHook r) => JsonNode.Parse(r.Body)?["email"]?.GetValue<string>() ?? "";

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Request_headers_follow_the_global_allowlist_under_go_canonical_names(string db)
    {
        const string template = "function(ctx) { email: ctx.identity.traits.email, headers: ctx.request_headers, has_cookies: std.objectHas(ctx, 'request_cookies') }";
        var s = await fixture.Get(db, "global-allowlist", (o, r) =>
        {
            // Kratos's clients.web_hook.header_allowlist, in any spelling; a hook with its own list keeps it.
            o.Clients.WebHook.HeaderAllowlist = ["user-agent", "SEC-CH-UA", "X-Forwarded-For", "Sec-Ch-Ua"];
            o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions
            {
                Hooks =
                [
                    WebHook(new JsonObject { ["url"] = r.On("/global/list", 200), ["body"] = Base64(template) }),
                    WebHook(new JsonObject { ["url"] = r.On("/global/own", 200), ["body"] = Base64(template), ["header_allowlist"] = new JsonArray("Accept-Language") }),
                ],
            };
        });
        var receiver = await fixture.Receiver;
        var email = HttpAssertions.UniqueEmail("global");
        using var response = await Register(s, new JsonObject { ["email"] = email }, headers: r =>
        {
            r.Headers.UserAgent.ParseAdd("gatehouse-tests/2.0");
            r.Headers.TryAddWithoutValidation("sec-ch-ua", "\"Chromium\";v=\"142\"");
            r.Headers.TryAddWithoutValidation("X-Forwarded-For", "203.0.113.9");
            r.Headers.TryAddWithoutValidation("Accept-Language", "de");
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var global = JsonNode.Parse(receiver.Received("/global/list").Single(h => EmailOf(h) == email).Body)!;
        var expected = new JsonObject
        {
            ["Sec-Ch-Ua"] = new JsonArray("\"Chromium\";v=\"142\""),
            ["User-Agent"] = new JsonArray("gatehouse-tests/2.0"),
            ["X-Forwarded-For"] = new JsonArray("203.0.113.9"),
        };
        Assert.True(JsonNode.DeepEquals(expected, global["headers"]), global["headers"]!.ToJsonString());
        Assert.Equal(["Sec-Ch-Ua", "User-Agent", "X-Forwarded-For"], global["headers"]!.AsObject().Select(p => p.Key));
        Assert.False(global["has_cookies"]!.GetValue<bool>());
        var own = JsonNode.Parse(receiver.Received("/global/own").Single(h => EmailOf(h) == email).Body)!;
        Assert.Equal("""{"Accept-Language":["de"]}""", own["headers"]!.ToJsonString());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Kratos_default_allowlist_hands_on_no_forwarding_headers(string db)
    {
        const string template = "function(ctx) { email: ctx.identity.traits.email, names: std.objectFields(ctx.request_headers) }";
        var s = await fixture.Get(db, "default-allowlist", (o, r) => o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions
        {
            Hooks = [WebHook(new JsonObject { ["url"] = r.On("/default/list", 200), ["body"] = Base64(template) })],
        });
        var receiver = await fixture.Receiver;
        var email = HttpAssertions.UniqueEmail("default");
        using var response = await Register(s, new JsonObject { ["email"] = email }, headers: r =>
        {
            r.Headers.UserAgent.ParseAdd("gatehouse-tests/3.0");
            r.Headers.TryAddWithoutValidation("true-client-ip", "198.51.100.7");
            r.Headers.TryAddWithoutValidation("X-Forwarded-For", "203.0.113.9");
            r.Headers.TryAddWithoutValidation("X-Forwarded-Host", "evil.example");
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var names = JsonNode.Parse(receiver.Received("/default/list").Single(h => EmailOf(h) == email).Body)!["names"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        Assert.Contains("User-Agent", names);
        Assert.Contains("True-Client-Ip", names);
        Assert.Contains("Content-Type", names);
        Assert.DoesNotContain("X-Forwarded-For", names);
        Assert.DoesNotContain("X-Forwarded-Host", names);
        Assert.All(names, n => Assert.Equal(Gatehouse.Http.Outbound.GoHeaderKey.Canonical(n), n));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Without_tracing_a_web_hook_carries_no_trace_header_even_when_the_caller_sent_one(string db)
    {
        // Kratos without `tracing` injects nothing (Go's default propagator is a no-op); .NET would send traceparent.
        var s = await fixture.Get(db, "untraced", (o, r) => o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions
        {
            Hooks = [WebHook(new JsonObject { ["url"] = r.On("/untraced", 200), ["body"] = Base64(EmailBody) })],
        });
        var receiver = await fixture.Receiver;
        var email = HttpAssertions.UniqueEmail("untraced");
        using var response = await Register(s, new JsonObject { ["email"] = email }, headers: r =>
        {
            r.Headers.TryAddWithoutValidation("traceparent", $"00-{ActivityTraceId.CreateRandom().ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
            r.Headers.TryAddWithoutValidation("baggage", "tenant=acme");
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(s.Options.Tracing.Enabled);
        Assert.All(Gatehouse.Tests.Http.Tracing.OutgoingClients.Names, name => Assert.False(Gatehouse.Tests.Http.Tracing.OutgoingClients.Traced(s.Services, name), name));
        var hook = receiver.Received("/untraced").Single(h => EmailOf(h) == email);
        Assert.DoesNotContain(hook.Headers.Keys, h => h.ToLowerInvariant() is "traceparent" or "tracestate" or "uber-trace-id" or "b3" or "baggage" or "request-id" or "correlation-context" || h.StartsWith("X-B3-", StringComparison.OrdinalIgnoreCase));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Body_template_gets_ctx_and_the_receiver_gets_the_configured_auth_and_headers(string db)
    {
        const string template = """
            function(ctx) {
              email: ctx.identity.traits.email,
              identity_id: ctx.identity.id,
              flow_id: ctx.flow.id,
              flow_type: ctx.flow.type,
              method: ctx.request_method,
              url: ctx.request_url,
              user_agent: ctx.request_headers['User-Agent'][0],
              sees_cookies: std.objectHas(ctx.request_headers, 'Cookie'),
              plan: ctx.flow.transient_payload.plan,
              top_level_plan: ctx.transient_payload.plan,
            }
            """;
        var s = await fixture.Get(db, "auth", (o, r) =>
        {
            // Everything is logged here (HTTP client traces included), to check that no auth secret shows up.
            o.Log.Level = "trace";
            o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions
            {
            Hooks =
            [
                WebHook(new JsonObject
                {
                    ["url"] = r.On("/auth/header", 200, "{}"),
                    ["body"] = Base64(template),
                    ["headers"] = new JsonObject { ["X-Custom"] = "yes" },
                    ["auth"] = new JsonObject { ["type"] = "api_key", ["config"] = new JsonObject { ["name"] = "X-Api-Key", ["value"] = "header-secret", ["in"] = "header" } },
                }),
                WebHook(new JsonObject
                {
                    ["url"] = r.On("/auth/cookie", 204),
                    ["method"] = "PUT",
                    ["body"] = Base64(EmailBody),
                    ["auth"] = new JsonObject { ["type"] = "api_key", ["config"] = new JsonObject { ["name"] = "hook_key", ["value"] = "cookie-secret", ["in"] = "cookie" } },
                }),
                WebHook(new JsonObject
                {
                    ["url"] = r.On("/auth/basic", 200),
                    ["body"] = Base64(EmailBody),
                    ["auth"] = new JsonObject { ["type"] = "basic_auth", ["config"] = new JsonObject { ["user"] = "hook-user", ["password"] = "basic-secret" } },
                }),
                WebHook(new JsonObject
                {
                    ["url"] = r.On("/auth/form", 200),
                    ["body"] = Base64("function(ctx) { email: ctx.identity.traits.email, plan: ctx.transient_payload.plan, n: 1 }"),
                    ["headers"] = new JsonObject { ["Content-Type"] = "application/x-www-form-urlencoded" },
                }),
                Hook("session"),
            ],
            };
        });
        var receiver = await fixture.Receiver;
        var email = HttpAssertions.UniqueEmail("auth");
        var response = await Register(s, new JsonObject { ["email"] = email }, new JsonObject { ["plan"] = "pro" }, r =>
        {
            r.Headers.UserAgent.ParseAdd("gatehouse-tests/1.0");
            // An API flow refuses browser cookies (Kratos's EnsureCSRF); a proxy's cookie such as Cloudflare's passes, and
            // still must not reach the hook.
            r.Headers.Add("Cookie", "cf_private=do-not-forward");
        });
        var done = await response.Json(HttpStatusCode.OK);
        Assert.StartsWith("ory_st_", done["session_token"]!.GetValue<string>());

        var header = receiver.Received("/auth/header").Single(h => EmailOf(h) == email);
        Assert.Equal("POST", header.Method);
        Assert.Equal("header-secret", header.Headers["X-Api-Key"]);
        Assert.Equal("yes", header.Headers["X-Custom"]);
        Assert.StartsWith("application/json", header.Headers["Content-Type"]);
        Assert.True(Guid.TryParse(header.Headers["Ory-Webhook-Request-ID"], out _));
        var body = JsonNode.Parse(header.Body)!;
        Assert.Equal(done["identity"]!["id"]!.GetValue<string>(), body["identity_id"]!.GetValue<string>());
        Assert.Equal("api", body["flow_type"]!.GetValue<string>());
        Assert.Equal("POST", body["method"]!.GetValue<string>());
        Assert.Contains("/self-service/registration?flow=" + body["flow_id"]!.GetValue<string>(), body["url"]!.GetValue<string>());
        Assert.Equal("gatehouse-tests/1.0", body["user_agent"]!.GetValue<string>());
        Assert.False(body["sees_cookies"]!.GetValue<bool>());
        Assert.Equal("pro", body["plan"]!.GetValue<string>());
        Assert.Equal("pro", body["top_level_plan"]!.GetValue<string>());

        var cookie = receiver.Received("/auth/cookie").Single(h => EmailOf(h) == email);
        Assert.Equal("PUT", cookie.Method);
        Assert.Equal("hook_key=cookie-secret", cookie.Headers["Cookie"]);
        Assert.False(cookie.Headers.ContainsKey("X-Api-Key"));

        var basic = receiver.Received("/auth/basic").Single(h => EmailOf(h) == email);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("hook-user:basic-secret")), basic.Headers["Authorization"]);

        var form = receiver.Received("/auth/form").Single(h => h.Body.Contains(Uri.EscapeDataString(email), StringComparison.Ordinal));
        Assert.StartsWith("application/x-www-form-urlencoded", form.Headers["Content-Type"]);
        Assert.Equal($"email={Uri.EscapeDataString(email)}&n=1&plan=pro", form.Body);

        // The calls are logged, the secrets are not.
        var logs = fixture.Logs.Lines;
        Assert.Contains(logs, l => l.Contains("/auth/header", StringComparison.Ordinal) && l.Contains("answered 200", StringComparison.Ordinal));
        Assert.Contains(logs, l => l.Contains("X-Api-Key", StringComparison.Ordinal));
        foreach (var secret in new[] { "header-secret", "cookie-secret", "basic-secret", Convert.ToBase64String(Encoding.UTF8.GetBytes("hook-user:basic-secret")) })
            Assert.DoesNotContain(logs, l => l.Contains(secret, StringComparison.Ordinal));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Parse_replaces_the_whole_traits_object_and_the_metadata_before_the_identity_is_saved(string db)
    {
        var s = await fixture.Get(db, "parse", (o, r) =>
        {
            // The template comes from a file here (file://); other tests use base64://.
            var file = Path.Combine(Path.GetTempPath(), $"gatehouse-hook-{Guid.NewGuid():N}.jsonnet");
            File.WriteAllText(file, "function(ctx) { email: ctx.identity.traits.email, first: ctx.identity.traits.name.first }");
            r.On("/parse", (req, _) =>
            {
                var b = JsonNode.Parse(req.Body)!;
                var answer = new JsonObject
                {
                    ["identity"] = new JsonObject
                    {
                        ["traits"] = new JsonObject { ["email"] = b["email"]!.GetValue<string>() },
                        ["metadata_public"] = new JsonObject { ["plan"] = "gold" },
                        ["metadata_admin"] = new JsonObject { ["crm"] = "c-" + b["first"]!.GetValue<string>() },
                    },
                };
                return Task.FromResult((200, (string?)answer.ToJsonString()));
            });
            o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions
            {
                Hooks = [WebHook(new JsonObject { ["url"] = r.BaseUrl + "/parse", ["body"] = "file://" + file, ["response"] = new JsonObject { ["parse"] = true } }), Hook("session")],
            };
        });
        var email = HttpAssertions.UniqueEmail("parse");
        var done = await (await Register(s, new JsonObject { ["email"] = email, ["name"] = new JsonObject { ["first"] = "Ada", ["last"] = "Lovelace" } })).Json(HttpStatusCode.OK);

        // One trait in the answer leaves exactly that trait: the name is gone, not merged back.
        var expected = new JsonObject { ["email"] = email };
        Assert.True(JsonNode.DeepEquals(expected, done["identity"]!["traits"]), done["identity"]!["traits"]!.ToJsonString());
        var stored = await (await s.AdminWithKey.GetAsync($"/admin/identities/{done["identity"]!["id"]}")).Json(HttpStatusCode.OK);
        Assert.True(JsonNode.DeepEquals(expected, stored["traits"]), stored["traits"]!.ToJsonString());
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["plan"] = "gold" }, stored["metadata_public"]));
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["crm"] = "c-Ada" }, stored["metadata_admin"]));
        Assert.Single(await IdentitiesWith(s, email));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Parse_result_that_breaks_the_schema_fails_the_flow_and_writes_nothing(string db)
    {
        var s = await fixture.Get(db, "parse-invalid", (o, r) => o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions
        {
            Hooks =
            [
                WebHook(new JsonObject
                {
                    ["url"] = r.On("/parse-invalid", 200, """{"identity":{"traits":{"email":"not-an-email"},"metadata_public":{"x":1}}}"""),
                    ["body"] = Base64(EmailBody),
                    ["response"] = new JsonObject { ["parse"] = true },
                }),
                Hook("session"),
            ],
        });
        var email = HttpAssertions.UniqueEmail("invalid");
        var flow = await (await Register(s, new JsonObject { ["email"] = email })).Json(HttpStatusCode.BadRequest);
        Assert.Contains(4000040L, MessageIds(flow, "traits.email"));
        Assert.Empty(await IdentitiesWith(s, email));
        Assert.Empty(await IdentitiesWith(s, "not-an-email"));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Interrupting_answer_stops_the_flow_with_its_messages_on_the_named_nodes(string db)
    {
        const string messages = """
            {"messages":[
              {"instance_ptr":"#/traits/email","messages":[{"id":4000123,"text":"This address is on a block list.","type":"error","context":{"reason":"blocked"}}]},
              {"instance_ptr":"#/traits/name/first","messages":[{"id":4000124,"text":"A first name is needed.","type":"error"}]},
              {"messages":[{"id":1000001,"text":"Please contact support.","type":"notice"}]}
            ]}
            """;
        var s = await fixture.Get(db, "interrupt", (o, r) => o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions
        {
            Hooks = [WebHook(new JsonObject { ["url"] = r.On("/interrupt", 403, messages), ["body"] = Base64(EmailBody), ["can_interrupt"] = true }), Hook("session")],
        });
        var email = HttpAssertions.UniqueEmail("interrupt");
        var flow = await (await Register(s, new JsonObject { ["email"] = email, ["name"] = new JsonObject { ["first"] = "" } })).Json(HttpStatusCode.BadRequest);

        var onEmail = Node(flow, "traits.email")!["messages"]!.AsArray().Single()!;
        Assert.Equal(4000123, onEmail["id"]!.GetValue<long>());
        Assert.Equal("This address is on a block list.", onEmail["text"]!.GetValue<string>());
        Assert.Equal("error", onEmail["type"]!.GetValue<string>());
        Assert.Equal("blocked", onEmail["context"]!["reason"]!.GetValue<string>());
        Assert.Equal([4000124L], MessageIds(flow, "traits.name.first"));
        var form = flow["ui"]!["messages"]!.AsArray().Single()!;
        Assert.Equal(1000001, form["id"]!.GetValue<long>());
        Assert.Equal("info", form["type"]!.GetValue<string>());
        Assert.Empty(await IdentitiesWith(s, email));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Ignored_hooks_do_not_delay_the_flow_and_are_retried_a_bounded_number_of_times(string db)
    {
        var flakyCalls = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var s = await fixture.Get(db, "ignore", (o, r) => o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions
        {
            Hooks =
            [
                WebHook(new JsonObject
                {
                    ["url"] = r.On("/ignored-slow", async (_, ct) =>
                    {
                        await Task.Delay(TimeSpan.FromSeconds(10), ct);
                        return (200, null);
                    }),
                    ["body"] = Base64(EmailBody),
                    ["response"] = new JsonObject { ["ignore"] = true },
                }),
                WebHook(new JsonObject
                {
                    ["url"] = r.On("/ignored-flaky", (req, _) =>
                    {
                        var n = flakyCalls.AddOrUpdate(EmailOf(req), 1, (_, c) => c + 1);
                        return Task.FromResult((n <= 2 ? 503 : 200, (string?)null));
                    }),
                    ["body"] = Base64(EmailBody),
                    ["retries"] = 2,
                    ["response"] = new JsonObject { ["ignore"] = true },
                }),
                Hook("session"),
            ],
        });
        var receiver = await fixture.Receiver;
        // A first registration warms up the process (JIT, the Jsonnet standard library), so the timed one measures the flow only.
        await (await Register(s, new JsonObject { ["email"] = HttpAssertions.UniqueEmail("warm-up") })).Json(HttpStatusCode.OK);
        var email = HttpAssertions.UniqueEmail("ignore");
        var watch = Stopwatch.StartNew();
        await (await Register(s, new JsonObject { ["email"] = email })).Json(HttpStatusCode.OK);
        // The receiver takes 10 s to answer; the registration does not wait for it (the bound is loose for busy machines).
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"registration took {watch.Elapsed}");

        await receiver.WaitForAsync("/ignored-slow", r => EmailOf(r) == email, TimeSpan.FromSeconds(10));
        var until = DateTime.UtcNow.AddSeconds(15);
        while (receiver.Received("/ignored-flaky").Count(r => EmailOf(r) == email) < 3 && DateTime.UtcNow < until) await Task.Delay(50);
        // Two failures, then success on the third attempt; nothing after it.
        await Task.Delay(1500);
        Assert.Equal(3, receiver.Received("/ignored-flaky").Count(r => EmailOf(r) == email));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Dead_receiver_fails_the_flow_with_502_and_writes_nothing(string db)
    {
        var s = await fixture.Get(db, "dead", (o, _) => o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions
        {
            Hooks = [WebHook(new JsonObject { ["url"] = $"http://127.0.0.1:{TestServer.FreePort()}/dead", ["body"] = Base64(EmailBody), ["response"] = new JsonObject { ["parse"] = true } }), Hook("session")],
        });
        var email = HttpAssertions.UniqueEmail("dead");
        var error = await (await Register(s, new JsonObject { ["email"] = email })).Error(HttpStatusCode.BadGateway);
        Assert.Contains("could not be reached", error["reason"]!.GetValue<string>());
        Assert.Empty(await IdentitiesWith(s, email));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Slow_receiver_fails_the_flow_with_504_after_the_configured_time_out(string db)
    {
        var s = await fixture.Get(db, "slow", (o, r) => o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions
        {
            Hooks =
            [
                WebHook(new JsonObject
                {
                    ["url"] = r.On("/slow", async (_, ct) =>
                    {
                        await Task.Delay(TimeSpan.FromSeconds(30), ct);
                        return (200, "{}");
                    }),
                    ["body"] = Base64(EmailBody),
                    ["timeout"] = "500ms",
                    ["response"] = new JsonObject { ["parse"] = true },
                }),
                Hook("session"),
            ],
        });
        var flow = await ApiFlow(s.Public, "registration");
        var email = HttpAssertions.UniqueEmail("slow");
        var watch = Stopwatch.StartNew();
        var error = await (await s.Public.PostJson($"/self-service/registration?flow={flow["id"]}",
            new JsonObject { ["method"] = "password", ["password"] = GoodPassword, ["traits"] = new JsonObject { ["email"] = email } })).Error(HttpStatusCode.GatewayTimeout);
        // The receiver would take 30 s; the flow gives up after the hook's 0.5 s (the bound is loose for busy machines).
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"the flow waited {watch.Elapsed}");
        Assert.Contains("did not answer within 0.5s", error["reason"]!.GetValue<string>());
        Assert.Empty(await IdentitiesWith(s, email));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Error_answer_without_parse_fails_the_flow_with_502(string db)
    {
        var s = await fixture.Get(db, "fail", (o, r) => o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions
        {
            Hooks = [WebHook(new JsonObject { ["url"] = r.On("/fail", 500, """{"messages":[]}"""), ["body"] = Base64(EmailBody) })],
        });
        var error = await (await Register(s, new JsonObject { ["email"] = HttpAssertions.UniqueEmail("fail") })).Error(HttpStatusCode.BadGateway);
        Assert.Equal("webhook failed with status code 500", error["reason"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Before_hooks_run_when_a_flow_is_created_and_can_refuse_it(string db)
    {
        var s = await fixture.Get(db, "before", (o, r) =>
        {
            o.Selfservice.Flows.Registration.Before.Hooks =
                [WebHook(new JsonObject { ["url"] = r.On("/before", 204), ["body"] = Base64("function(ctx) { flow_id: ctx.flow.id, method: ctx.request_method }") })];
            o.Selfservice.Flows.Login.Before.Hooks =
                [WebHook(new JsonObject { ["url"] = r.On("/before-refuse", 403, """{"messages":[{"messages":[{"id":4000200,"text":"Logins are paused.","type":"error"}]}]}"""), ["body"] = Base64("function(ctx) {}"), ["can_interrupt"] = true })];
        });
        var receiver = await fixture.Receiver;
        var flow = await ApiFlow(s.Public, "registration");
        var call = await receiver.WaitForAsync("/before", r => JsonNode.Parse(r.Body)?["flow_id"]?.GetValue<string>() == flow["id"]!.GetValue<string>(), TimeSpan.FromSeconds(5));
        Assert.Equal("GET", JsonNode.Parse(call.Body)!["method"]!.GetValue<string>());

        var refused = await (await s.Public.GetAsync("/self-service/login/api")).Error(HttpStatusCode.BadRequest);
        Assert.Contains("Logins are paused.", refused["reason"]!.GetValue<string>());
        Assert.Equal(4000200, refused["details"]!["messages"]![0]!["id"]!.GetValue<long>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Parse_after_login_updates_the_stored_identity(string db)
    {
        var s = await fixture.Get(db, "login", (o, r) => o.Selfservice.Flows.Login.After.Password = new FlowAfterMethodOptions
        {
            Hooks =
            [
                WebHook(new JsonObject
                {
                    ["url"] = r.On("/login-meta", 200, """{"identity":{"metadata_public":{"seen_by":"hook"}}}"""),
                    ["body"] = Base64("function(ctx) { email: ctx.identity.traits.email }"),
                    ["response"] = new JsonObject { ["parse"] = true },
                }),
            ],
        });
        var (email, _, registered) = await RegisterApi(s);
        var flow = await ApiFlow(s.Public, "login");
        var login = await (await s.Public.PostJson($"/self-service/login?flow={flow["id"]}",
            new JsonObject { ["method"] = "password", ["identifier"] = email, ["password"] = GoodPassword })).Json(HttpStatusCode.OK);
        Assert.Equal("hook", login["session"]!["identity"]!["metadata_public"]!["seen_by"]!.GetValue<string>());
        var stored = await (await s.AdminWithKey.GetAsync($"/admin/identities/{registered["identity"]!["id"]}")).Json(HttpStatusCode.OK);
        Assert.Equal("hook", stored["metadata_public"]!["seen_by"]!.GetValue<string>());
        Assert.Equal(email, stored["traits"]!["email"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Every_method_but_trace_sends_the_rendered_body_and_nothing_goes_into_the_query(string db)
    {
        // Kratos (request.Builder.BuildRequest, web_hook_integration_test "method=…"): GET, HEAD, DELETE and OPTIONS carry
        // the template's result like POST; only TRACE goes out without a body.
        string[] methods = ["GET", "HEAD", "DELETE", "OPTIONS", "PATCH", "TRACE"];
        var s = await fixture.Get(db, "methods", (o, r) => o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions
        {
            Hooks =
            [
                .. methods.Select(m => WebHook(new JsonObject { ["url"] = r.On("/methods/" + m, 200), ["method"] = m.ToLowerInvariant(), ["body"] = Base64(EmailBody) })),
                Hook("session"),
            ],
        });
        var receiver = await fixture.Receiver;
        var email = HttpAssertions.UniqueEmail("methods");
        Assert.Equal(HttpStatusCode.OK, (await Register(s, new JsonObject { ["email"] = email })).StatusCode);

        foreach (var method in methods.Where(m => m != "TRACE"))
        {
            var call = receiver.Received("/methods/" + method).Single(h => EmailOf(h) == email);
            Assert.Equal(method, call.Method);
            Assert.StartsWith("application/json", call.Headers["Content-Type"]);
            Assert.Equal("", call.Query);
        }
        // TRACE: no body; the call is still made (one per registration).
        var trace = receiver.Received("/methods/TRACE");
        Assert.NotEmpty(trace);
        Assert.All(trace, t => Assert.Equal(("TRACE", "", ""), (t.Method, t.Body, t.Query)));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_hooks_url_is_logged_without_its_user_info_and_query(string db)
    {
        // Secrets never go to the logs: a hook URL may carry credentials (user info, a token in the query). The log line
        // names scheme, host, port and path, with the query as "?*" (the form .NET's HttpClient logging uses too).
        var s = await fixture.Get(db, "logged-url", (o, r) =>
        {
            o.Log.Level = "info";
            o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions
            {
                Hooks =
                [
                    WebHook(new JsonObject
                    {
                        ["url"] = r.On("/logged-url", 200).Replace("http://", "http://hook-user:hook-password@", StringComparison.Ordinal) + "?token=query-secret",
                        ["body"] = Base64(EmailBody),
                    }),
                    Hook("session"),
                ],
            };
        });
        var email = HttpAssertions.UniqueEmail("logged-url");
        Assert.Equal(HttpStatusCode.OK, (await Register(s, new JsonObject { ["email"] = email })).StatusCode);
        var call = Assert.Single((await fixture.Receiver).Received("/logged-url"), c => c.Body.Contains(email, StringComparison.Ordinal));
        Assert.Equal("?token=query-secret", call.Query);
        var baseUrl = (await fixture.Receiver).BaseUrl;
        Assert.Contains(fixture.Logs.Lines, l => l.Contains($"web_hook POST {baseUrl}/logged-url?* (request ", StringComparison.Ordinal));
        Assert.DoesNotContain(fixture.Logs.Lines, l => l.Contains("hook-password", StringComparison.Ordinal) || l.Contains("query-secret", StringComparison.Ordinal) || l.Contains("hook-user", StringComparison.Ordinal));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_hook_without_a_body_template_fails_the_flow_unless_its_answer_is_ignored(string db)
    {
        // Kratos: BuildRequest fails with "got empty template path for request with body" for every method but TRACE; an
        // ignored hook runs in the background, where the failure is only logged.
        var s = await fixture.Get(db, "no-body", (o, r) => o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions
        {
            Hooks = [WebHook(new JsonObject { ["url"] = r.On("/no-body", 200), ["method"] = "GET" }), Hook("session")],
        });
        var email = HttpAssertions.UniqueEmail("no-body");
        var error = await (await Register(s, new JsonObject { ["email"] = email })).Error(HttpStatusCode.InternalServerError);
        Assert.Equal("web_hook_failed", error["id"]!.GetValue<string>());
        Assert.Equal(global::Gatehouse.SelfService.Hooks.WebHooks.WebHook.NoBodyReason, error["reason"]!.GetValue<string>());
        Assert.Empty((await fixture.Receiver).Received("/no-body"));
        Assert.Contains(fixture.Logs.Lines, l => l.Contains("config.body is not set", StringComparison.Ordinal) && l.Contains(error["details"]!["web_hook_request_id"]!.GetValue<string>(), StringComparison.Ordinal));

        var ignored = await fixture.Get(db, "no-body-ignored", (o, r) => o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions
        {
            Hooks =
            [
                WebHook(new JsonObject { ["url"] = r.On("/no-body-ignored", 200), ["response"] = new JsonObject { ["ignore"] = true } }),
                WebHook(new JsonObject { ["url"] = r.On("/bad-template-ignored", 200), ["body"] = Base64("function(ctx) { x: error 'boom' }"), ["response"] = new JsonObject { ["ignore"] = true } }),
                Hook("session"),
            ],
        });
        var done = await (await Register(ignored, new JsonObject { ["email"] = HttpAssertions.UniqueEmail("no-body-ignored") })).Json(HttpStatusCode.OK);
        Assert.StartsWith("ory_st_", done["session_token"]!.GetValue<string>());
        Assert.Empty((await fixture.Receiver).Received("/no-body-ignored"));
        Assert.Empty((await fixture.Receiver).Received("/bad-template-ignored"));
    }
}
