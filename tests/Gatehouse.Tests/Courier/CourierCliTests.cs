using System.Diagnostics;
using System.Text.Json.Nodes;
using Gatehouse.Courier;
using Gatehouse.Tests.Cli;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.Courier.CourierFixtures;

namespace Gatehouse.Tests.Courier;

public sealed class CourierCliTests
{
    [Fact]
    public async Task Courier_watch_has_help()
    {
        var r = await CliProcess.RunAsync(["courier", "watch", "--help"]);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("Usage", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("--config", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_help_lists_watch_courier()
    {
        var r = await CliProcess.RunAsync(["serve", "--help"]);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("--watch-courier", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Courier_watch_without_an_smtp_connection_uri_refuses_to_start_with_one_line()
    {
        var r = await CliProcess.RunAsync(["courier", "watch"], new Dictionary<string, string> { ["DSN"] = "memory" });
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("error: courier.smtp.connection_uri is not set", r.Stderr.Trim().Split('\n')[^1]);
    }

    [Fact]
    public async Task Courier_watch_with_http_delivery_needs_no_smtp_server_and_posts_the_mail()
    {
        await using var receiver = await Gatehouse.Tests.Hooks.HookReceiver.StartAsync();
        var url = receiver.On("/mail", 200);
        await using var s = await StartAsync(Db.Sqlite, "smtp://127.0.0.1:1/?disable_starttls=true");
        var queued = await QueueAsync(s, "recovery_code_valid", "http-proc@example.com", new JsonObject { ["recovery_code"] = "818181" });

        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Path.GetTempPath() };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "gatehouse.dll"));
        psi.ArgumentList.Add("courier");
        psi.ArgumentList.Add("watch");
        psi.Environment["DSN"] = s.Options.Dsn;
        psi.Environment["COURIER_DELIVERY_STRATEGY"] = "http";
        psi.Environment["COURIER_HTTP_REQUEST_CONFIG_URL"] = url;
        psi.Environment["COURIER_WORKER_PULL_WAIT"] = "100ms";
        psi.Environment["LOG_LEVEL"] = "warning";
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        try
        {
            var hit = await receiver.WaitForAsync("/mail", _ => true, TimeSpan.FromSeconds(90));
            Assert.Equal("818181", (string?)JsonNode.Parse(hit.Body)!["recovery_code"]);
            await WaitForStatusAsync(s, queued.Id, CourierMessageStatus.Sent);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        Assert.DoesNotContain("818181", await stderr + await stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Courier_watch_serves_its_metrics_on_the_port_it_is_given_as_Kratos_does()
    {
        var dsn = await Db.NewMigratedDsnAsync(Db.Sqlite);
        var port = TestServer.FreePort();
        var config = Path.Combine(Path.GetTempPath(), $"gatehouse-metrics-{Guid.NewGuid():N}.yml");
        // The config file's key, which the flag overrides.
        await File.WriteAllTextAsync(config, $"expose-metrics-port: {TestServer.FreePort()}\n");
        var worker = ServeProcess.Start(["courier", "watch", "-c", config, "--expose-metrics-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            new Dictionary<string, string>
            {
                ["DSN"] = dsn,
                ["COURIER_DELIVERY_STRATEGY"] = "http",
                ["COURIER_HTTP_REQUEST_CONFIG_URL"] = "http://127.0.0.1:1/mail",
                ["LOG_LEVEL"] = "warning",
            });
        await using (worker)
        {
            using var http = new HttpClient();
            HttpResponseMessage? answer = null;
            // A fresh process on a busy 2-core machine can take a while to start and JIT.
            await Eventually.AssertAsync(async () =>
            {
                try
                {
                    answer = await http.GetAsync($"http://127.0.0.1:{port}/metrics/prometheus");
                    return true;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(90), "the worker's metrics listener did not come up");
            Assert.Equal(System.Net.HttpStatusCode.OK, answer!.StatusCode);
            Assert.Equal("text/plain; version=0.0.4; charset=utf-8", answer.Content.Headers.ContentType?.ToString());
            var text = await answer.Content.ReadAsStringAsync();
            Assert.Contains("# TYPE process_cpu_seconds_total counter", text, StringComparison.Ordinal);
            Assert.Contains("promhttp_metric_handler_requests_total{code=\"200\"} 0", text, StringComparison.Ordinal);
            Assert.Equal(System.Net.HttpStatusCode.NotFound, (await http.GetAsync($"http://127.0.0.1:{port}/admin/identities")).StatusCode);
            Assert.False(worker.Process.HasExited, "the worker should keep running");
        }
        File.Delete(config);
    }

    [Theory]
    [InlineData("--expose-metrics-port", "-1", "error: --expose-metrics-port: -1 is not a port (0 to 65535; 0 serves no metrics).")]
    [InlineData("--expose-metrics-port", "http", "Cannot parse argument 'http' for option '--expose-metrics-port'")]
    public async Task Courier_watch_refuses_a_metrics_port_that_is_not_one(string flag, string value, string error)
    {
        var r = await CliProcess.RunAsync(["courier", "watch", flag, value], new Dictionary<string, string> { ["DSN"] = "memory", ["COURIER_DELIVERY_STRATEGY"] = "http", ["COURIER_HTTP_REQUEST_CONFIG_URL"] = "http://127.0.0.1:1/" });
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(error, r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Courier_watch_on_a_metrics_port_already_in_use_fails_with_one_line_and_no_stack_trace()
    {
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        holder.Start();
        var taken = ((System.Net.IPEndPoint)holder.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var dsn = await Db.NewMigratedDsnAsync(Db.Sqlite);

        var r = await CliProcess.RunAsync(["courier", "watch", "--expose-metrics-port", taken],
            new Dictionary<string, string> { ["DSN"] = dsn, ["COURIER_DELIVERY_STRATEGY"] = "http", ["COURIER_HTTP_REQUEST_CONFIG_URL"] = "http://127.0.0.1:1/" });

        Assert.Equal(1, r.ExitCode);
        var line = Assert.Single(r.Stderr.Trim().Split('\n'), l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.Contains($":{taken}", line, StringComparison.Ordinal);
        Assert.Contains("address already in use", line, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Hosting failed to start", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", r.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("courier", "watch")]
    [InlineData("serve", "--watch-courier")]
    public async Task A_separate_gatehouse_process_delivers_queued_messages(string command, string flag)
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var s = await StartAsync(Db.Sqlite, smtp.ConnectionUri);
        var queued = await QueueAsync(s, "recovery_code_valid", "proc@example.com", new JsonObject { ["recovery_code"] = "909090" });

        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Path.GetTempPath() };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "gatehouse.dll"));
        psi.ArgumentList.Add(command);
        psi.ArgumentList.Add(flag);
        psi.Environment["DSN"] = s.Options.Dsn;
        psi.Environment["SERVE_PUBLIC_PORT"] = TestServer.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        psi.Environment["SERVE_ADMIN_PORT"] = TestServer.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        psi.Environment["COURIER_SMTP_CONNECTION_URI"] = smtp.ConnectionUri;
        psi.Environment["COURIER_SMTP_FROM_ADDRESS"] = "proc@gatehouse.test";
        psi.Environment["COURIER_WORKER_PULL_WAIT"] = "100ms";
        psi.Environment["LOG_LEVEL"] = "warning";
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        try
        {
            // A fresh process on a busy 2-core machine can take a while to start and JIT.
            var mails = await smtp.WaitForAsync(1, TimeSpan.FromSeconds(90));
            var mail = Assert.Single(mails);
            Assert.Equal("proc@example.com", Assert.IsType<MimeKit.MailboxAddress>(Assert.Single(mail.To)).Address);
            Assert.Contains("909090", mail.TextBody, StringComparison.Ordinal);
            await WaitForStatusAsync(s, queued.Id, CourierMessageStatus.Sent);
            Assert.False(process.HasExited, "the worker should keep running");
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        var log = await stderr + await stdout;
        Assert.DoesNotContain("909090", log, StringComparison.Ordinal);
    }

    private static async Task WaitForStatusAsync(TestServer s, Guid id, string status)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await LoadAsync(s, id)).Status != status && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(status, (await LoadAsync(s, id)).Status);
    }
}
