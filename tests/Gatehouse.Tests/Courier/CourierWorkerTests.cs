using System.Text.Json.Nodes;
using Gatehouse.Courier;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using static Gatehouse.Tests.Courier.CourierFixtures;

namespace Gatehouse.Tests.Courier;

public sealed class CourierWorkerTests
{
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_queued_message_is_sent_by_the_worker_with_from_to_subject_bodies_and_headers(string db)
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var s = await StartAsync(db, smtp.ConnectionUri);
        var queued = await QueueAsync(s, "verification_code_valid", "ada@example.com",
            new JsonObject { ["verification_code"] = "904417", ["verification_url"] = "https://app.example/verify?code=904417&flow=1" });
        Assert.Empty(smtp.Messages);

        var worker = s.Services.GetRequiredService<CourierWorker>();
        Assert.Equal(1, await worker.ProcessBatchAsync(CancellationToken.None));

        var mail = Assert.Single(await smtp.WaitForAsync(1, TimeSpan.FromSeconds(5)));
        var from = Assert.IsType<MimeKit.MailboxAddress>(Assert.Single(mail.From));
        Assert.Equal("accounts@gatehouse.test", from.Address);
        Assert.Equal("Gatehouse Accounts", from.Name);
        Assert.Equal("ada@example.com", Assert.IsType<MimeKit.MailboxAddress>(Assert.Single(mail.To)).Address);
        Assert.Equal("Please verify your email address", mail.Subject);
        Assert.Contains("904417", mail.TextBody, StringComparison.Ordinal);
        Assert.Contains("https://app.example/verify?code=904417&flow=1", mail.TextBody, StringComparison.Ordinal);
        Assert.Contains("https://app.example/verify?code=904417&amp;flow=1", mail.HtmlBody, StringComparison.Ordinal);
        Assert.Equal("acme", mail.Headers["X-Tenant"]);
        Assert.Equal($"{queued.Id:N}@gatehouse.test", mail.MessageId);

        var stored = await LoadAsync(s, queued.Id);
        Assert.Equal(CourierMessageStatus.Sent, stored.Status);
        Assert.Equal(1, stored.SendCount);
        Assert.Null(stored.ClaimedBy);
        var dispatch = Assert.Single(stored.Dispatches);
        Assert.Equal("success", dispatch.Status);
        Assert.Null(dispatch.Error);

        // Nothing is due any more.
        Assert.Equal(0, await worker.ProcessBatchAsync(CancellationToken.None));
        Assert.Single(smtp.Messages);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task With_unreachable_smtp_a_message_stays_queued_with_back_off_and_is_abandoned_after_the_retries(string db)
    {
        var closedPort = TestServer.FreePort();
        await using var s = await StartAsync(db, $"smtp://127.0.0.1:{closedPort}/?disable_starttls=true");
        var queued = await QueueAsync(s, "recovery_code_valid", "grace@example.com", new JsonObject { ["recovery_code"] = "777001" });
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var worker = ActivatorUtilities.CreateInstance<CourierWorker>(s.Services, (TimeProvider)clock);

        // Attempt 1 fails: back to queued, next attempt 1s later (retry_backoff).
        Assert.Equal(1, await worker.ProcessBatchAsync(CancellationToken.None));
        var after1 = await LoadAsync(s, queued.Id);
        Assert.Equal(CourierMessageStatus.Queued, after1.Status);
        Assert.Equal(1, after1.SendCount);
        Assert.Equal(TimeSpan.FromSeconds(1), after1.NextAttemptAt - after1.UpdatedAt);
        var failed = Assert.Single(after1.Dispatches);
        Assert.Equal("failed", failed.Status);
        var error = JsonNode.Parse(failed.Error!)!["message"]!.GetValue<string>();
        Assert.DoesNotContain("777001", error, StringComparison.Ordinal);

        // Not due before the back-off has passed.
        Assert.Equal(0, await worker.ProcessBatchAsync(CancellationToken.None));
        clock.Advance(TimeSpan.FromSeconds(1));

        // Attempt 2 fails: back-off doubles to 2s.
        Assert.Equal(1, await worker.ProcessBatchAsync(CancellationToken.None));
        var after2 = await LoadAsync(s, queued.Id);
        Assert.Equal(CourierMessageStatus.Queued, after2.Status);
        Assert.Equal(TimeSpan.FromSeconds(2), after2.NextAttemptAt - after2.UpdatedAt);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0, await worker.ProcessBatchAsync(CancellationToken.None));
        clock.Advance(TimeSpan.FromSeconds(1));

        // Attempt 3 = the second retry (message_retries: 2) fails: abandoned, never tried again.
        Assert.Equal(1, await worker.ProcessBatchAsync(CancellationToken.None));
        var abandoned = await LoadAsync(s, queued.Id);
        Assert.Equal(CourierMessageStatus.Abandoned, abandoned.Status);
        Assert.Equal(3, abandoned.SendCount);
        Assert.Equal(3, abandoned.Dispatches.Count);
        Assert.All(abandoned.Dispatches, d => Assert.Equal("failed", d.Status));
        clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, await worker.ProcessBatchAsync(CancellationToken.None));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_message_whose_smtp_server_comes_back_is_sent_on_a_retry(string db)
    {
        var port = TestServer.FreePort();
        await using var s = await StartAsync(db, $"smtp://127.0.0.1:{port}/?disable_starttls=true");
        var queued = await QueueAsync(s, "login_code_valid", "lin@example.com", new JsonObject { ["login_code"] = "246810" });
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var worker = ActivatorUtilities.CreateInstance<CourierWorker>(s.Services, (TimeProvider)clock);
        Assert.Equal(1, await worker.ProcessBatchAsync(CancellationToken.None));

        await using var smtp = await SmtpTestServer.StartOnAsync(port);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await worker.ProcessBatchAsync(CancellationToken.None));
        Assert.Contains("246810", Assert.Single(smtp.Messages).TextBody, StringComparison.Ordinal);
        var stored = await LoadAsync(s, queued.Id);
        Assert.Equal(CourierMessageStatus.Sent, stored.Status);
        Assert.Equal(["failed", "success"], stored.Dispatches.OrderBy(d => d.CreatedAt).Select(d => d.Status));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Smtp_without_disable_starttls_refuses_a_server_that_offers_no_tls(string db)
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var s = await StartAsync(db, $"smtp://127.0.0.1:{smtp.Port}/");
        var queued = await QueueAsync(s, "verification_code_valid", "tls@example.com");
        Assert.Equal(1, await s.Services.GetRequiredService<CourierWorker>().ProcessBatchAsync(CancellationToken.None));
        Assert.Empty(smtp.Messages);
        var stored = await LoadAsync(s, queued.Id);
        Assert.Equal(CourierMessageStatus.Queued, stored.Status);
        Assert.Contains("STARTTLS", Assert.Single(stored.Dispatches).Error!, StringComparison.OrdinalIgnoreCase);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_worker_stopped_mid_batch_hands_unsent_messages_back_to_the_queue(string db)
    {
        await using var s = await StartAsync(db, "smtp://127.0.0.1:1/?disable_starttls=true");
        var ids = new List<Guid>();
        for (var i = 0; i < 3; i++) ids.Add((await QueueAsync(s, "login_code_valid", $"stop-{i}@example.com", new JsonObject { ["login_code"] = $"{i}" })).Id);
        var sender = new HangingSender();
        var worker = ActivatorUtilities.CreateInstance<CourierWorker>(s.Services, (IMessageSender)sender);
        using var stop = new CancellationTokenSource();
        var batch = worker.ProcessBatchAsync(stop.Token);
        await sender.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => batch);
        foreach (var id in ids)
        {
            var stored = await LoadAsync(s, id);
            Assert.Equal(CourierMessageStatus.Queued, stored.Status);
            Assert.Null(stored.ClaimedBy);
            Assert.Equal(0, stored.SendCount);
            Assert.Empty(stored.Dispatches);
        }
    }

    private sealed class HangingSender : IMessageSender
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task SendAsync(CourierMessage message, CancellationToken ct)
        {
            Started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
        }
    }

    [Fact]
    public void Back_off_doubles_from_retry_backoff_and_stops_at_retry_backoff_max()
    {
        var options = new Gatehouse.Config.GatehouseOptions();
        options.Courier.Worker.RetryBackoff = TimeSpan.FromSeconds(1);
        options.Courier.Worker.RetryBackoffMax = TimeSpan.FromSeconds(10);
        var worker = new CourierWorker(null!, options, null!, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<CourierWorker>.Instance);
        Assert.Equal([1, 2, 4, 8, 10, 10], new[] { 1, 2, 3, 4, 5, 60 }.Select(n => worker.Backoff(n).TotalSeconds));
    }
}
