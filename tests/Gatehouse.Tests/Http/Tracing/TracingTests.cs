using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Gatehouse.Tests.Hooks;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Gatehouse.Courier;
using Gatehouse.Config;
using Gatehouse.Http.Tracing;
using System.Text.Json.Nodes;
using OpenTelemetry.Trace;

namespace Gatehouse.Tests.Http.Tracing;

/// <summary>
/// <c>tracing</c> against real collectors on loopback: the spans of requests on both listeners reach an OTLP/HTTP or a
/// Zipkin receiver with the configured header and resource, the caller's trace context is honoured as Kratos's
/// propagators do, and sampling holds. The tests of this class run one after another: a tracer provider hears every
/// app of the process (ASP.NET Core's activity source has one name), so two tracing servers must not overlap.
/// </summary>
public sealed class TracingTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Otlp_receives_the_spans_of_both_listeners_with_the_authorization_header_resource_and_callers_trace()
    {
        await using var receiver = await SpanReceiver.StartAsync();
        var logs = new LogCapture();
        await using var s = await TestServer.StartAsync(Db.Sqlite, o =>
        {
            o.Log.Level = "info";
            o.Tracing.Provider = "otel";
            o.Tracing.ServiceName = "gatehouse-under-test";
            o.Tracing.DeploymentEnvironment = "tracing-ci";
            o.Tracing.Providers.Otlp.ServerUrl = receiver.HostPort;
            o.Tracing.Providers.Otlp.Insecure = true;
            o.Tracing.Providers.Otlp.AuthorizationHeader = "Bearer otlp-secret-4711";
        }, services => services.AddSingleton<ILoggerProvider>(logs));

        var whoami = Trace();
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(s.Public, "/sessions/whoami", ("traceparent", whoami.TraceParent))).StatusCode);
        var admin = Trace();
        Assert.Equal(HttpStatusCode.OK, (await Send(s.AdminWithKey, "/identities", ("traceparent", admin.TraceParent))).StatusCode);
        var unrouted = Trace();
        Assert.Equal(HttpStatusCode.NotFound, (await Send(s.Public, "/no-such-route", ("traceparent", unrouted.TraceParent))).StatusCode);
        // Kratos's order: traceparent, uber-trace-id, b3 — the last one present wins.
        var ignored = Trace();
        var jaeger = Trace();
        Assert.Equal(HttpStatusCode.OK, (await Send(s.Public, "/version", ("traceparent", ignored.TraceParent), ("uber-trace-id", $"{jaeger.TraceId}:{jaeger.SpanId}:0:1"))).StatusCode);
        var b3 = Trace();
        Assert.Equal(HttpStatusCode.OK, (await Send(s.Public, "/version", ("traceparent", ignored.TraceParent), ("X-B3-TraceId", b3.TraceId), ("X-B3-SpanId", b3.SpanId), ("X-B3-Sampled", "1"))).StatusCode);
        var health = Trace();
        Assert.Equal(HttpStatusCode.OK, (await Send(s.Public, "/health/alive", ("traceparent", health.TraceParent))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Send(s.AdminWithKey, "/health/ready", ("traceparent", health.TraceParent))).StatusCode);

        await ArrivesAsync(s, receiver, e => e.Contains(whoami.TraceBytes) && e.Contains(whoami.SpanBytes) && e.Contains("GET /sessions/whoami"), "the whoami span with the caller's trace and parent");
        await ArrivesAsync(s, receiver, e => e.Contains(admin.TraceBytes) && e.Contains("GET /admin/identities"), "the admin listener's span");
        await ArrivesAsync(s, receiver, e => e.Contains(unrouted.TraceBytes) && e.Contains("servePublic"), "the unrouted request's span, named after the listener");
        await ArrivesAsync(s, receiver, e => e.Contains(jaeger.TraceBytes) && e.Contains(jaeger.SpanBytes), "the span parented by uber-trace-id");
        await ArrivesAsync(s, receiver, e => e.Contains(b3.TraceBytes) && e.Contains(b3.SpanBytes), "the span parented by the X-B3 headers");

        Assert.DoesNotContain(receiver.Received, e => e.Contains(health.TraceBytes) || e.Contains(ignored.TraceBytes));
        Assert.All(receiver.Received, e =>
        {
            Assert.Equal("/v1/traces", e.Path);
            Assert.Equal("application/x-protobuf", e.Headers["Content-Type"]);
            Assert.Equal("Bearer otlp-secret-4711", e.Headers["Authorization"]);
            Assert.True(e.Contains("gatehouse-under-test") && e.Contains("tracing-ci"), "the resource names the service and the deployment environment");
        });
        Assert.Contains(logs.Lines, l => l.StartsWith("Information", StringComparison.Ordinal)
            && l.Contains($"OTLP tracer configured! Sending spans to http://{receiver.HostPort}/v1/traces", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Lines, l => l.Contains("otlp-secret-4711", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Zipkin_receives_json_v2_spans_and_starts_a_new_trace_whatever_the_caller_sends_as_Kratos()
    {
        await using var receiver = await SpanReceiver.StartAsync();
        await using var s = await TestServer.StartAsync(Db.Sqlite, o =>
        {
            o.Tracing.Provider = "zipkin";
            o.Tracing.ServiceName = "gatehouse-zipkin-test";
            o.Tracing.Providers.Zipkin.ServerUrl = $"http://{receiver.HostPort}/api/v2/spans";
            o.Tracing.Providers.Zipkin.Sampling.SamplingRatio = 1;
        });

        var caller = Trace();
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(s.Public, "/sessions/whoami", ("b3", $"{caller.TraceId}-{caller.SpanId}-1"), ("traceparent", caller.TraceParent))).StatusCode);

        JsonElement span = default;
        await Eventually.AssertAsync(() =>
        {
            Flush(s);
            foreach (var export in receiver.Received.Where(e => e.Path == "/api/v2/spans"))
            {
                foreach (var candidate in JsonDocument.Parse(export.Body).RootElement.EnumerateArray())
                {
                    if (candidate.GetProperty("name").GetString() is { } name && name == "GET /sessions/whoami")
                    {
                        span = candidate.Clone();
                        return true;
                    }
                }
            }
            return false;
        }, Deadline, "no Zipkin span for GET /sessions/whoami arrived");

        Assert.Equal("gatehouse-zipkin-test", span.GetProperty("localEndpoint").GetProperty("serviceName").GetString());
        Assert.Equal("SERVER", span.GetProperty("kind").GetString());
        Assert.Equal("/sessions/whoami", span.GetProperty("tags").GetProperty("http.route").GetString());
        // Kratos's zipkin provider installs no propagator: neither b3 nor traceparent makes the span a child.
        Assert.NotEqual(caller.TraceId, span.GetProperty("traceId").GetString());
        Assert.False(span.TryGetProperty("parentId", out _));
        Assert.Equal("application/json", receiver.Received[0].Headers["Content-Type"].Split(';')[0]);
    }

    [Fact]
    public async Task The_courier_sends_Kratos_dispatch_spans_and_an_empty_poll_sends_none()
    {
        await using var receiver = await SpanReceiver.StartAsync();
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var s = await Courier.CourierFixtures.StartAsync(Db.Sqlite, smtp.ConnectionUri, configureAll: o =>
        {
            o.Tracing.Provider = "zipkin";
            o.Tracing.ServiceName = "gatehouse-courier-test";
            o.Tracing.Providers.Zipkin.ServerUrl = $"http://{receiver.HostPort}/api/v2/spans";
            o.Tracing.Providers.Zipkin.Sampling.SamplingRatio = 1;
        });
        var worker = s.Services.GetRequiredService<CourierWorker>();
        Assert.Equal(0, await worker.ProcessBatchAsync(CancellationToken.None));
        var queued = await Courier.CourierFixtures.QueueAsync(s, "verification_code_valid", "traced@example.com");
        Assert.Equal(1, await worker.ProcessBatchAsync(CancellationToken.None));

        var spans = await ZipkinSpansOnceAsync(s, receiver, "courier.DispatchMessage");

        var message = Assert.Single(spans, x => x.GetProperty("name").GetString() == "courier.DispatchMessage");
        var queue = Assert.Single(spans, x => x.GetProperty("name").GetString() == "courier.DispatchQueue");
        Assert.Equal(queue.GetProperty("id").GetString(), message.GetProperty("parentId").GetString());
        Assert.Equal("1", queue.GetProperty("tags").GetProperty("messages_count").GetString());
        var tags = message.GetProperty("tags");
        Assert.Equal(queued.Id.ToString(), tags.GetProperty("message.id").GetString());
        Assert.Equal("verification_code_valid", tags.GetProperty("message.template_type").GetString());
        Assert.Equal("email", tags.GetProperty("message.type").GetString());
        Assert.Equal("gatehouse-courier-test", message.GetProperty("localEndpoint").GetProperty("serviceName").GetString());
    }

    [Fact]
    public async Task Sampling_ratio_0_exports_no_span_of_its_own_but_follows_a_sampled_caller()
    {
        await using var receiver = await SpanReceiver.StartAsync();
        await using var s = await TestServer.StartAsync(Db.Sqlite, o =>
        {
            o.Tracing.Provider = "otel";
            o.Tracing.Providers.Otlp.ServerUrl = receiver.HostPort;
            o.Tracing.Providers.Otlp.Insecure = true;
            o.Tracing.Providers.Otlp.Sampling.SamplingRatio = 0;
        });

        Assert.Equal(HttpStatusCode.OK, (await s.Public.GetAsync("/version")).StatusCode);
        var unsampled = Trace(sampled: false);
        Assert.Equal(HttpStatusCode.OK, (await Send(s.Public, "/version", ("traceparent", unsampled.TraceParent))).StatusCode);
        var sampled = Trace();
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(s.Public, "/sessions/whoami", ("traceparent", sampled.TraceParent))).StatusCode);

        // The sampled request came last; once its span is in, the earlier ones would have been too.
        await ArrivesAsync(s, receiver, e => e.Contains(sampled.TraceBytes) && e.Contains("Ory Kratos"), "the span of the sampled caller (service name defaulting to Ory Kratos)");
        Flush(s);
        Assert.DoesNotContain(receiver.Received, e => e.Contains("/version") || e.Contains(unsampled.TraceBytes));
    }

    [Fact]
    public async Task An_unreachable_collector_loses_spans_but_fails_no_request_and_logs_no_stack_trace()
    {
        var logs = new LogCapture();
        await using var s = await TestServer.StartAsync(Db.Sqlite, o =>
        {
            o.Log.Level = "info";
            o.Tracing.Provider = "otel";
            o.Tracing.Providers.Otlp.ServerUrl = $"127.0.0.1:{TestServer.FreePort()}";
            o.Tracing.Providers.Otlp.Insecure = true;
        }, services => services.AddSingleton<ILoggerProvider>(logs));

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await s.Public.GetAsync("/sessions/whoami")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await s.AdminWithKey.GetAsync("/identities")).StatusCode);
        }
        Flush(s);
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.Public.GetAsync("/sessions/whoami")).StatusCode);
        Assert.DoesNotContain(logs.Lines, l => l.Contains("   at ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_web_hook_gets_Kratos_trace_headers_and_its_call_is_a_client_span_under_the_hook_spans_without_secrets()
    {
        await using var receiver = await SpanReceiver.StartAsync();
        await using var hooks = await HookReceiver.StartAsync();
        var url = hooks.On("/registered", 200) + "?token=query-secret-1234";
        var ignoredUrl = hooks.On("/ignored", 204);
        await using var s = await TestServer.StartAsync(Db.Sqlite, o =>
        {
            SelfService.FlowServerFixture.Configure(o);
            o.Tracing.Provider = "otel";
            o.Tracing.Providers.Otlp.ServerUrl = receiver.HostPort;
            o.Tracing.Providers.Otlp.Insecure = true;
            o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions
            {
                Hooks =
                [
                    Hooks.HookFixture.WebHook(new JsonObject
                    {
                        ["url"] = url,
                        ["body"] = Hooks.HookFixture.Base64(Hooks.WebHookTests.EmailBody),
                        ["auth"] = new JsonObject { ["type"] = "api_key", ["config"] = new JsonObject { ["name"] = "X-Hook-Key", ["value"] = "hook-key-secret-5678", ["in"] = "header" } },
                    }),
                    // Sent in the background: its span still hangs under its own hook span, as Kratos's goroutine's does.
                    Hooks.HookFixture.WebHook(new JsonObject
                    {
                        ["url"] = ignoredUrl,
                        ["body"] = Hooks.HookFixture.Base64(Hooks.WebHookTests.EmailBody),
                        ["response"] = new JsonObject { ["ignore"] = true },
                    }),
                ],
            };
        });

        var caller = Trace();
        var email = Infrastructure.HttpAssertions.UniqueEmail("traced");
        using (var response = await Hooks.WebHookTests.Register(s, new JsonObject { ["email"] = email }, headers: r => r.Headers.TryAddWithoutValidation("traceparent", caller.TraceParent)))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // The receiver sees Kratos's propagators' headers, all naming the caller's trace and the same (client) span.
        var hook = Assert.Single(hooks.Received("/registered"));
        var traceparent = hook.Headers["traceparent"];
        Assert.Matches($"^00-{caller.TraceId}-[0-9a-f]{{16}}-01$", traceparent);
        var clientSpanId = traceparent.Split('-')[2];
        Assert.Equal($"{caller.TraceId}:{clientSpanId}:0:1", hook.Headers["uber-trace-id"]);
        Assert.Equal($"{caller.TraceId}-{clientSpanId}-1", hook.Headers["b3"]);
        Assert.Equal(caller.TraceId, hook.Headers["X-B3-TraceId"]);
        Assert.Equal(clientSpanId, hook.Headers["X-B3-SpanId"]);
        Assert.Equal("1", hook.Headers["X-B3-Sampled"]);
        Assert.Equal("?token=query-secret-1234", hook.Query);
        var ignored = await hooks.WaitForAsync("/ignored", _ => true, Deadline);
        var ignoredClientSpanId = ignored.Headers["traceparent"].Split('-')[2];
        Assert.StartsWith($"00-{caller.TraceId}-", ignored.Headers["traceparent"], StringComparison.Ordinal);

        var spans = new List<OtlpSpan>();
        await Eventually.AssertAsync(() =>
        {
            Flush(s);
            spans = [.. receiver.Received.SelectMany(e => OtlpSpans.Read(e.Body)).Where(x => x.TraceId == caller.TraceId)];
            return spans.Any(x => x.SpanId == clientSpanId) && spans.Any(x => x.SpanId == ignoredClientSpanId) && spans.Any(x => x.Kind == 2);
        }, Deadline, "the client span and the server span of the registration did not arrive");

        // server span -> selfservice.hook.WebHook.ExecutePostRegistrationPostPersistHook -> selfservice.webhook -> HTTP POST
        var server = Assert.Single(spans, x => x.Kind == 2);
        Assert.Equal("POST /self-service/registration", server.Name);
        Assert.Equal(caller.SpanId, server.ParentSpanId);
        var executes = spans.Where(x => x.Name == "selfservice.hook.WebHook.ExecutePostRegistrationPostPersistHook").ToList();
        Assert.Equal(2, executes.Count);
        Assert.All(executes, x => Assert.Equal(server.SpanId, x.ParentSpanId));
        var request = Assert.Single(spans, x => x.Name == "selfservice.webhook" && Equals(x["webhook.response.ignore"], false));
        Assert.Contains(executes, x => x.SpanId == request.ParentSpanId);
        var background = Assert.Single(spans, x => x.Name == "selfservice.webhook" && Equals(x["webhook.response.ignore"], true));
        Assert.Contains(executes, x => x.SpanId == background.ParentSpanId && x.SpanId != request.ParentSpanId);
        Assert.Equal(204L, background["http.status_code"]);
        Assert.Equal(background.SpanId, Assert.Single(spans, x => x.SpanId == ignoredClientSpanId).ParentSpanId);
        Assert.Equal(false, request["webhook.response.ignore"]);
        Assert.Equal(false, request["webhook.can_interrupt"]);
        Assert.Equal("base64://", request["webhook.jsonnet.template-uri"]);
        Assert.Equal(200L, request["http.status_code"]);
        var client = Assert.Single(spans, x => x.SpanId == clientSpanId);
        Assert.Equal(request.SpanId, client.ParentSpanId);
        Assert.Equal("HTTP POST", client.Name);
        Assert.Equal(3, client.Kind);
        Assert.Equal(0, client.StatusCode);
        Assert.Equal("POST", client["http.request.method"]);
        Assert.Equal(200L, client["http.response.status_code"]);
        Assert.Equal(hooks.BaseUrl + "/registered?*", client["url.full"]);
        Assert.Equal("127.0.0.1", client["server.address"]);
        Assert.Equal((long)new Uri(hooks.BaseUrl).Port, client["server.port"]);

        // Every outgoing client of the server (social sign-in, Hydra's calls, …) has the same handler.
        Assert.All(OutgoingClients.Names, name => Assert.True(OutgoingClients.Traced(s.Services, name), $"{name} is not traced"));

        // Neither the query's token nor the hook's API key reaches an export.
        Assert.DoesNotContain(receiver.Received, e => e.Contains("query-secret-1234") || e.Contains("hook-key-secret-5678"));
    }

    [Fact]
    public async Task Zipkin_traces_the_courier_http_channel_call_as_a_failed_client_span_and_sends_no_trace_header_as_Kratos()
    {
        await using var receiver = await SpanReceiver.StartAsync();
        await using var mailer = await HookReceiver.StartAsync();
        var url = mailer.On("/mail", 500, "{}");
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var s = await Courier.CourierFixtures.StartAsync(Db.Sqlite, smtp.ConnectionUri, c =>
        {
            c.DeliveryStrategy = "http";
            c.Http.RequestConfig = new JsonObject
            {
                ["url"] = url,
                ["body"] = Hooks.HookFixture.Base64("function(ctx) { to: ctx.recipient }"),
                ["auth"] = new JsonObject { ["type"] = "basic_auth", ["config"] = new JsonObject { ["user"] = "mailer", ["password"] = "mailer-secret-9012" } },
            };
        }, configureAll: o =>
        {
            o.Tracing.Provider = "zipkin";
            o.Tracing.Providers.Zipkin.ServerUrl = $"http://{receiver.HostPort}/api/v2/spans";
            o.Tracing.Providers.Zipkin.Sampling.SamplingRatio = 1;
        });
        await Courier.CourierFixtures.QueueAsync(s, "verification_code_valid", "traced@example.com");
        Assert.Equal(1, await s.Services.GetRequiredService<CourierWorker>().ProcessBatchAsync(CancellationToken.None));

        // Kratos's zipkin provider installs no propagator: the call carries no trace header.
        var call = Assert.Single(mailer.Received("/mail"));
        Assert.DoesNotContain(call.Headers.Keys, h => h is "traceparent" or "tracestate" or "uber-trace-id" or "b3" or "baggage" || h.StartsWith("X-B3-", StringComparison.OrdinalIgnoreCase));

        var spans = await ZipkinSpansOnceAsync(s, receiver, "courier.DispatchMessage");

        var message = Assert.Single(spans, x => x.GetProperty("name").GetString() == "courier.DispatchMessage");
        var channel = Assert.Single(spans, x => x.GetProperty("name").GetString() == "courier.httpChannel.Dispatch");
        Assert.Equal(message.GetProperty("id").GetString(), channel.GetProperty("parentId").GetString());
        Assert.Equal("ERROR", channel.GetProperty("tags").GetProperty("otel.status_code").GetString());
        var client = Assert.Single(spans, x => x.GetProperty("name").GetString() == "HTTP POST");
        Assert.Equal(channel.GetProperty("id").GetString(), client.GetProperty("parentId").GetString());
        Assert.Equal("CLIENT", client.GetProperty("kind").GetString());
        var tags = client.GetProperty("tags");
        Assert.Equal("500", tags.GetProperty("http.response.status_code").GetString());
        Assert.Equal("500", tags.GetProperty("error.type").GetString());
        Assert.Equal("ERROR", tags.GetProperty("otel.status_code").GetString());
        Assert.Equal(url, tags.GetProperty("url.full").GetString());
        Assert.DoesNotContain(receiver.Received, e => e.Contains("mailer-secret-9012") || e.Contains(Convert.ToBase64String("mailer:mailer-secret-9012"u8)));
    }

    [Fact]
    public async Task A_collector_that_refuses_exports_gives_one_warning_a_minute_without_the_authorization_header()
    {
        await using var receiver = await SpanReceiver.StartAsync(status: 500);
        var logs = new LogCapture();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var s = await TestServer.StartAsync(Db.Sqlite, o =>
        {
            o.Tracing.Provider = "otel";
            o.Tracing.Providers.Otlp.ServerUrl = receiver.HostPort;
            o.Tracing.Providers.Otlp.Insecure = true;
            o.Tracing.Providers.Otlp.AuthorizationHeader = "Bearer refused-secret-3456";
        }, services =>
        {
            services.AddSingleton<TimeProvider>(time);
            services.AddSingleton<ILoggerProvider>(logs);
        });
        string[] Warnings() => [.. logs.Lines.Where(l => l.Contains("tracing: could not export spans", StringComparison.Ordinal))];

        // Three failed exports within a minute: one warning.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await s.Public.GetAsync("/version")).StatusCode);
            var before = receiver.Received.Count;
            await Eventually.AssertAsync(() =>
            {
                Flush(s);
                return receiver.Received.Count > before;
            }, Deadline, "no export reached the refusing collector");
        }
        var first = Assert.Single(Warnings());
        Assert.StartsWith("Warning Gatehouse.Http.Tracing.ExportFailureLog: tracing: could not export spans to OTLP at " +
            $"http://{receiver.HostPort}/v1/traces: the collector answered 500 Internal Server Error; they were dropped", first, StringComparison.Ordinal);
        Assert.EndsWith("they were dropped (this warning is repeated at most once a minute) ", first, StringComparison.Ordinal);

        // A minute later the next failure is reported again, with the ones that were not.
        time.Advance(ExportFailureLog.Interval);
        Assert.Equal(HttpStatusCode.OK, (await s.Public.GetAsync("/version")).StatusCode);
        await Eventually.AssertAsync(() =>
        {
            Flush(s);
            return Warnings().Length == 2;
        }, Deadline, "no second warning after a minute");
        var unreported = System.Text.RegularExpressions.Regex.Match(Warnings()[1], "as were those of ([0-9]+) more failed exports since the previous warning");
        Assert.True(unreported.Success && int.Parse(unreported.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 2, Warnings()[1]);
        Assert.DoesNotContain(logs.Lines, l => l.Contains("refused-secret-3456", StringComparison.Ordinal) || l.Contains("   at ", StringComparison.Ordinal));
    }

    private static async Task ArrivesAsync(TestServer s, SpanReceiver receiver, Func<ReceivedExport, bool> match, string what) =>
        await Eventually.AssertAsync(() =>
        {
            Flush(s);
            return receiver.Received.Any(match);
        }, Deadline, $"not received: {what}");

    /// <summary>Every Zipkin span the receiver got, once one named <paramref name="name"/> has arrived.</summary>
    private static async Task<List<JsonElement>> ZipkinSpansOnceAsync(TestServer s, SpanReceiver receiver, string name)
    {
        var spans = new List<JsonElement>();
        await Eventually.AssertAsync(() =>
        {
            Flush(s);
            spans = [.. receiver.Received.SelectMany(e => JsonDocument.Parse(e.Body).RootElement.EnumerateArray().Select(x => x.Clone()))];
            return spans.Any(x => x.GetProperty("name").GetString() == name);
        }, Deadline, $"no {name} span arrived");
        return spans;
    }

    // Spans are sent in batches in the background; a flush sends what has ended so far.
    private static void Flush(TestServer s) => s.Services.GetRequiredService<TracerProvider>().ForceFlush(5000);

    private static async Task<HttpResponseMessage> Send(HttpClient client, string path, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        return await client.SendAsync(request);
    }

    private static CallerTrace Trace(bool sampled = true) => new(ActivityTraceId.CreateRandom().ToHexString(), ActivitySpanId.CreateRandom().ToHexString(), sampled);

    private sealed record CallerTrace(string TraceId, string SpanId, bool Sampled)
    {
        public string TraceParent => $"00-{TraceId}-{SpanId}-{(Sampled ? "01" : "00")}";
        public byte[] TraceBytes => Convert.FromHexString(TraceId);
        public byte[] SpanBytes => Convert.FromHexString(SpanId);
    }
}
