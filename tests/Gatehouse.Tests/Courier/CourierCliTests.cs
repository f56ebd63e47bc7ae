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
