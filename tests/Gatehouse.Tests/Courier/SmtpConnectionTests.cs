using System.Text.Json.Nodes;
using Gatehouse.Courier;
using Gatehouse.Tests.Infrastructure;
using MailKit.Security;
using static Gatehouse.Tests.Courier.CourierFixtures;

namespace Gatehouse.Tests.Courier;

public sealed class SmtpConnectionTests
{
    [Theory]
    [InlineData("smtp://mail.example:2525/", "mail.example", 2525, SecureSocketOptions.StartTls, false, null, null, null)]
    [InlineData("smtp://mail.example:25/?disable_starttls=true", "mail.example", 25, SecureSocketOptions.None, false, null, null, null)]
    [InlineData("smtp://mail.example:25/?disable_starttls=false", "mail.example", 25, SecureSocketOptions.StartTls, false, null, null, null)]
    [InlineData("smtps://foo:b%40r@mail.example:1234/?skip_ssl_verify=true", "mail.example", 1234, SecureSocketOptions.SslOnConnect, true, null, "foo", "b@r")]
    [InlineData("smtps://sub.mail.example/?server_name=mail.example", "sub.mail.example", 0, SecureSocketOptions.SslOnConnect, false, "mail.example", null, null)]
    [InlineData("smtps://test:test@mailslurper:1025/?skip_ssl_verify=true", "mailslurper", 1025, SecureSocketOptions.SslOnConnect, true, null, "test", "test")]
    public void Connection_uris_are_read_as_kratos_reads_them(string uri, string host, int port, SecureSocketOptions security, bool skip, string? serverName, string? user, string? password) =>
        Assert.Equal(new SmtpConnection(host, port, security, skip, serverName, user, password), SmtpConnection.Parse(uri));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("http://mail.example")]
    [InlineData("smtp://")]
    public void Missing_or_wrong_connection_uris_are_refused(string? uri) =>
        Assert.Throws<InvalidOperationException>(() => SmtpConnection.Parse(uri));

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Smtps_with_skip_ssl_verify_and_a_login_in_the_uri_delivers(string db)
    {
        await using var smtp = await SmtpTestServer.StartTlsAsync("localhost", ("mailer", "s3cr:et"));
        await using var s = await StartAsync(db, $"smtps://mailer:s3cr%3Aet@127.0.0.1:{smtp.Port}/?skip_ssl_verify=true");
        var queued = await QueueAsync(s, "registration_code_valid", "tls@example.com", new JsonObject { ["registration_code"] = "135790" });
        await s.Services.GetRequiredService<CourierWorker>().ProcessBatchAsync(CancellationToken.None);
        Assert.Contains("135790", Assert.Single(await smtp.WaitForAsync(1, TimeSpan.FromSeconds(5))).TextBody, StringComparison.Ordinal);
        Assert.Equal("mailer", smtp.AuthenticatedUser);
        Assert.Equal(CourierMessageStatus.Sent, (await LoadAsync(s, queued.Id)).Status);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Smtps_with_server_name_connects_to_the_host_and_checks_tls_for_the_server_name(string db)
    {
        await using var smtp = await SmtpTestServer.StartTlsAsync("mail.gatehouse.test");
        await using var s = await StartAsync(db, $"smtps://127.0.0.1:{smtp.Port}/?server_name=mail.gatehouse.test&skip_ssl_verify=true");
        var queued = await QueueAsync(s, "login_code_valid", "sni@example.com", new JsonObject { ["login_code"] = "864200" });
        await s.Services.GetRequiredService<CourierWorker>().ProcessBatchAsync(CancellationToken.None);
        Assert.Single(await smtp.WaitForAsync(1, TimeSpan.FromSeconds(5)));
        Assert.Equal(CourierMessageStatus.Sent, (await LoadAsync(s, queued.Id)).Status);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Smtps_verifies_certificates_by_default(string db)
    {
        await using var smtp = await SmtpTestServer.StartTlsAsync("localhost");
        await using var s = await StartAsync(db, $"smtps://127.0.0.1:{smtp.Port}/");
        var queued = await QueueAsync(s, "login_code_valid", "strict@example.com", new JsonObject { ["login_code"] = "111111" });
        await s.Services.GetRequiredService<CourierWorker>().ProcessBatchAsync(CancellationToken.None);
        Assert.Empty(smtp.Messages);
        var stored = await LoadAsync(s, queued.Id);
        Assert.Equal(CourierMessageStatus.Queued, stored.Status);
        Assert.Contains("certificate", Assert.Single(stored.Dispatches).Error!, StringComparison.OrdinalIgnoreCase);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task With_clients_smtp_disallow_private_ip_ranges_a_private_smtp_server_is_never_connected_to(string db)
    {
        // Kratos (after v26.2) courier/smtp.go NewSMTPClient dials with ory/x ipx.ProhibitInternalDialFunc: the resolved
        // address is checked at connect, and the failure says "no route to host" without naming it.
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var s = await StartAsync(db, $"smtp://localhost:{smtp.Port}/?disable_starttls=true",
            configureAll: o => o.Clients.Smtp.DisallowPrivateIpRanges = true);
        var queued = await QueueAsync(s, "login_code_valid", "guarded@example.com", new JsonObject { ["login_code"] = "333333" });
        await s.Services.GetRequiredService<CourierWorker>().ProcessBatchAsync(CancellationToken.None);
        Assert.Empty(smtp.Messages);
        var stored = await LoadAsync(s, queued.Id);
        Assert.Equal(CourierMessageStatus.Queued, stored.Status);
        var error = Assert.Single(stored.Dispatches).Error!;
        Assert.Contains("localhost: no route to host", error, StringComparison.Ordinal);
        Assert.Contains("clients.smtp.disallow_private_ip_ranges", error, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", error, StringComparison.Ordinal);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_wrong_login_is_a_failed_attempt(string db)
    {
        await using var smtp = await SmtpTestServer.StartTlsAsync("localhost", ("mailer", "right"));
        await using var s = await StartAsync(db, $"smtps://mailer:wrong@127.0.0.1:{smtp.Port}/?skip_ssl_verify=true");
        var queued = await QueueAsync(s, "login_code_valid", "auth@example.com", new JsonObject { ["login_code"] = "222222" });
        await s.Services.GetRequiredService<CourierWorker>().ProcessBatchAsync(CancellationToken.None);
        Assert.Empty(smtp.Messages);
        var dispatch = Assert.Single((await LoadAsync(s, queued.Id)).Dispatches);
        Assert.Equal("failed", dispatch.Status);
        Assert.DoesNotContain("wrong", dispatch.Error!, StringComparison.Ordinal);
    }
}
