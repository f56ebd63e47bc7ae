using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Courier;
using Gatehouse.Tests.Config;
using Gatehouse.Tests.Hooks;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using static Gatehouse.Tests.Courier.CourierFixtures;

namespace Gatehouse.Tests.Courier;

/// <summary>
/// <c>courier.delivery_strategy: http</c> with <c>courier.http.request_config</c>: e-mail sent as an HTTP request to a real
/// receiver on loopback instead of SMTP (Kratos: <c>Config.CourierChannels</c> makes it the <c>email</c> channel,
/// <c>courier/http_channel.go</c> sends it), retried and abandoned like SMTP mail, behind <c>clients.http.disallow_private_ip_ranges</c>.
/// </summary>
public sealed class HttpEmailTests : IDisposable
{
    /// <summary>Everything the body template sees, passed through.</summary>
    private const string EchoTemplate = """
    function(ctx) {
      recipient: ctx.recipient,
      subject: ctx.subject,
      body: ctx.body,
      has_html_body: "html_body" in ctx,
      html_body: if "html_body" in ctx then ctx.html_body else null,
      template_type: ctx.template_type,
      template_data: ctx.template_data,
      message_type: ctx.message_type,
      request_headers: ctx.request_headers,
    }
    """;

    private readonly ConfigFiles _files = new();

    public void Dispose() => _files.Dispose();

    private static string Base64(string text) => "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    /// <summary>A test server whose e-mail goes to <paramref name="url"/>; its SMTP settings point at <paramref name="smtp"/>, which must stay unused.</summary>
    private static Task<TestServer> StartHttpAsync(string db, SmtpTestServer smtp, string url, string? body, Action<GatehouseOptions>? configure = null) =>
        StartAsync(db, smtp.ConnectionUri, c =>
        {
            c.DeliveryStrategy = "http";
            c.Http.RequestConfig = new JsonObject
            {
                ["url"] = url,
                ["headers"] = new JsonObject { ["X-Mailer-Account"] = "acme" },
                ["auth"] = new JsonObject { ["type"] = "basic_auth", ["config"] = new JsonObject { ["user"] = "mailer", ["password"] = "mailer-secret" } },
            };
            if (body is not null) c.Http.RequestConfig["body"] = body;
        }, configureAll: configure);

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_email_is_sent_as_the_configured_http_request_and_not_by_smtp(string db)
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var receiver = await HookReceiver.StartAsync();
        var url = receiver.On("/mail", 202, "{\"id\":\"m1\"}");
        await using var s = await StartHttpAsync(db, smtp, url, Base64(EchoTemplate));
        var queued = await QueueAsync(s, "verification_code_valid", "ada@example.com",
            new JsonObject { ["verification_code"] = "904417", ["verification_url"] = "https://app.example/verify?code=904417&flow=1" });

        Assert.Equal(1, await s.Services.GetRequiredService<CourierWorker>().ProcessBatchAsync(CancellationToken.None));

        var request = Assert.Single(receiver.Received("/mail"));
        Assert.Equal("POST", request.Method);
        Assert.Equal("application/json", request.Headers["Content-Type"]);
        Assert.Equal("acme", request.Headers["X-Mailer-Account"]);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("mailer:mailer-secret")), request.Headers["Authorization"]);
        var payload = (JsonObject)JsonNode.Parse(request.Body)!;
        Assert.Equal("ada@example.com", (string?)payload["recipient"]);
        Assert.Equal("Please verify your email address", (string?)payload["subject"]);
        Assert.Contains("904417", (string?)payload["body"], StringComparison.Ordinal);
        Assert.True((bool)payload["has_html_body"]!);
        Assert.Contains("https://app.example/verify?code=904417&amp;flow=1", (string?)payload["html_body"], StringComparison.Ordinal);
        Assert.Equal("verification_code_valid", (string?)payload["template_type"]);
        Assert.Equal("email", (string?)payload["message_type"]);
        Assert.Equal("904417", (string?)payload["template_data"]!["verification_code"]);
        Assert.Equal("ada@example.com", (string?)payload["template_data"]!["to"]);
        // Kratos (courier/smtp.go QueueEmail): {} for a template that carries no request headers.
        Assert.Equal("{}", payload["request_headers"]!.ToJsonString());

        Assert.Empty(smtp.Messages);
        var stored = await LoadAsync(s, queued.Id);
        Assert.Equal(CourierMessageStatus.Sent, stored.Status);
        Assert.Equal("success", Assert.Single(stored.Dispatches).Status);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Without_a_body_template_the_request_carries_kratos_default_fields(string db)
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var receiver = await HookReceiver.StartAsync();
        var url = receiver.On("/mail", 200);
        await using var s = await StartHttpAsync(db, smtp, url, body: null);
        await QueueAsync(s, "recovery_code_valid", "grace@example.com", new JsonObject { ["recovery_code"] = "777001" });

        Assert.Equal(1, await s.Services.GetRequiredService<CourierWorker>().ProcessBatchAsync(CancellationToken.None));

        var payload = (JsonObject)JsonNode.Parse(Assert.Single(receiver.Received("/mail")).Body)!;
        Assert.Equal(
            new[] { "recipient", "template_type", "to", "recovery_code", "recovery_url", "verification_url", "verification_code", "subject", "body" }.Order(StringComparer.Ordinal),
            payload.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal("grace@example.com", (string?)payload["recipient"]);
        Assert.Equal("grace@example.com", (string?)payload["to"]);
        Assert.Equal("recovery_code_valid", (string?)payload["template_type"]);
        Assert.Equal("777001", (string?)payload["recovery_code"]);
        Assert.Null(payload["verification_code"]);
        Assert.Null(payload["recovery_url"]);
        Assert.Equal("Recover access to your account", (string?)payload["subject"]);
        Assert.Contains("777001", (string?)payload["body"], StringComparison.Ordinal);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_non_2xx_answer_is_a_failed_attempt_retried_with_back_off_and_abandoned_after_the_retries(string db)
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var receiver = await HookReceiver.StartAsync();
        var url = receiver.On("/mail", 503, "{\"error\":\"secret-upstream-detail\"}");
        await using var s = await StartHttpAsync(db, smtp, url, Base64(EchoTemplate));
        var queued = await QueueAsync(s, "login_code_valid", "lin@example.com", new JsonObject { ["login_code"] = "246810" });
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var worker = ActivatorUtilities.CreateInstance<CourierWorker>(s.Services, (TimeProvider)clock);

        Assert.Equal(1, await worker.ProcessBatchAsync(CancellationToken.None));
        var after1 = await LoadAsync(s, queued.Id);
        Assert.Equal(CourierMessageStatus.Queued, after1.Status);
        Assert.Equal(TimeSpan.FromSeconds(1), after1.NextAttemptAt - after1.UpdatedAt);
        var error = JsonNode.Parse(Assert.Single(after1.Dispatches).Error!)!["message"]!.GetValue<string>();
        Assert.Contains("503", error, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-upstream-detail", error, StringComparison.Ordinal);
        Assert.DoesNotContain("246810", error, StringComparison.Ordinal);

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await worker.ProcessBatchAsync(CancellationToken.None));
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(1, await worker.ProcessBatchAsync(CancellationToken.None));
        var abandoned = await LoadAsync(s, queued.Id);
        Assert.Equal(CourierMessageStatus.Abandoned, abandoned.Status);
        Assert.Equal(3, abandoned.Dispatches.Count);
        Assert.Equal(3, receiver.Received("/mail").Count);
        Assert.Empty(smtp.Messages);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Get_and_delete_requests_carry_the_rendered_body_and_trace_none(string db)
    {
        // Kratos (request.Builder.BuildRequest, called by courier/http_channel.go Dispatch): every method but TRACE sends the
        // template's result as the body; nothing goes into the query.
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var receiver = await HookReceiver.StartAsync();
        foreach (var method in new[] { "GET", "DELETE", "TRACE" })
        {
            var url = receiver.On("/mail/" + method, 200);
            await using var s = await StartHttpAsync(db, smtp, url, Base64(EchoTemplate), o => o.Courier.Http.RequestConfig!["method"] = method);
            var queued = await QueueAsync(s, "recovery_code_valid", "hedy@example.com", new JsonObject { ["recovery_code"] = "515151" });

            Assert.Equal(1, await s.Services.GetRequiredService<CourierWorker>().ProcessBatchAsync(CancellationToken.None));

            var request = Assert.Single(receiver.Received("/mail/" + method));
            Assert.Equal((method, ""), (request.Method, request.Query));
            if (method == "TRACE")
            {
                Assert.Equal("", request.Body);
            }
            else
            {
                Assert.Equal("515151", (string?)JsonNode.Parse(request.Body)!["template_data"]!["recovery_code"]);
                Assert.Equal("application/json", request.Headers["Content-Type"]);
            }
            Assert.Equal(CourierMessageStatus.Sent, (await LoadAsync(s, queued.Id)).Status);
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_sms_channel_without_a_body_template_fails_the_attempt_without_calling_the_receiver(string db)
    {
        // Kratos: an SMS channel's request_config has no default body, and BuildRequest fails without one
        // ("got empty template path for request with body"); the courier retries and abandons the message.
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var receiver = await HookReceiver.StartAsync();
        var url = receiver.On("/sms", 200);
        await using var s = await StartAsync(db, smtp.ConnectionUri, c => c.Channels =
            [new CourierChannelOptions { Id = "sms", Type = "http", RequestConfig = new JsonObject { ["url"] = url, ["method"] = "GET" } }]);
        CourierMessage queued;
        await using (var scope = s.Services.CreateAsyncScope())
            queued = await scope.ServiceProvider.GetRequiredService<Gatehouse.Courier.Courier>()
                .QueueSmsAsync("login_code_valid", "+4917612345678", new JsonObject { ["login_code"] = "135790" }, CancellationToken.None);

        Assert.Equal(1, await s.Services.GetRequiredService<CourierWorker>().ProcessBatchAsync(CancellationToken.None));

        Assert.Empty(receiver.Received("/sms"));
        var stored = await LoadAsync(s, queued.Id);
        Assert.Equal(CourierMessageStatus.Queued, stored.Status);
        var dispatch = Assert.Single(stored.Dispatches);
        Assert.Equal("failed", dispatch.Status);
        Assert.Contains("no body template", dispatch.Error, StringComparison.Ordinal);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Disallowed_private_ip_ranges_keep_the_request_from_a_loopback_receiver(string db)
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var receiver = await HookReceiver.StartAsync();
        var url = receiver.On("/mail", 200);
        await using var s = await StartHttpAsync(db, smtp, url, Base64(EchoTemplate), o => o.Clients.Http.DisallowPrivateIpRanges = true);
        var queued = await QueueAsync(s, "verification_code_valid", "ssrf@example.com");

        Assert.Equal(1, await s.Services.GetRequiredService<CourierWorker>().ProcessBatchAsync(CancellationToken.None));

        Assert.Empty(receiver.Received("/mail"));
        var stored = await LoadAsync(s, queued.Id);
        Assert.Equal(CourierMessageStatus.Queued, stored.Status);
        Assert.Equal("failed", Assert.Single(stored.Dispatches).Status);
    }

    [Fact]
    public void The_http_delivery_is_read_from_kratos_yaml_keys_without_warnings()
    {
        var result = ConfigLoader.Load([_files.Write("kratos.yml", """
            dsn: memory
            courier:
              delivery_strategy: http
              http:
                request_config:
                  url: https://mail.example.com/send
                  method: PUT
                  headers:
                    X-Account: acme
                  body: base64://ZnVuY3Rpb24oY3R4KSB7IHRvOiBjdHgucmVjaXBpZW50IH0=
                  auth:
                    type: api_key
                    config:
                      name: X-Api-Key
                      value: secret-key
                      in: header
            """)], new Dictionary<string, string?>(), dev: false);
        Assert.DoesNotContain(result.Warnings, w => w.Contains("courier", StringComparison.Ordinal));
        var email = HttpChannel.Read(result.Options)["email"];
        Assert.Equal(new Uri("https://mail.example.com/send"), email.Url);
        Assert.Equal(HttpMethod.Put, email.Method);
        Assert.Equal("acme", email.Headers["X-Account"]);
        Assert.Equal(new Gatehouse.Http.Outbound.WebHookAuth.ApiKey("X-Api-Key", "secret-key", InCookie: false), email.Auth);
        Assert.Equal("base64://ZnVuY3Rpb24oY3R4KSB7IHRvOiBjdHgucmVjaXBpZW50IH0=", email.Body);
        // --dev without SMTP keeps e-mail going over HTTP, not into the dev mailbox.
        result.Options.Dev = true;
        Assert.False(DevMailbox.Active(result.Options));
    }

    [Fact]
    public void The_http_delivery_without_a_request_config_is_refused_at_start_up_naming_the_key()
    {
        var options = ConfigLoader.Load([_files.Write("kratos.yml", "dsn: memory\ncourier:\n  delivery_strategy: http\n")], new Dictionary<string, string?>(), dev: false).Options;
        var error = Assert.Throws<ConfigException>(() => HttpChannel.Read(options));
        Assert.StartsWith("courier.http.request_config: required", error.Message, StringComparison.Ordinal);
        // Without delivery_strategy http, courier.http is not read (Kratos reads it only then).
        options.Courier.DeliveryStrategy = "smtp";
        Assert.False(HttpChannel.Read(options).ContainsKey("email"));
    }
}
