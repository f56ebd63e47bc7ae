using System.Text.Json.Nodes;
using Gatehouse.Courier;
using Gatehouse.Persistence;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Gatehouse.Tests.Courier.CourierFixtures;

namespace Gatehouse.Tests.Courier;

public sealed class CourierConcurrencyTests
{
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Two_workers_with_separate_connection_pools_send_each_of_50_messages_exactly_once(string db)
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var s = await StartAsync(db, smtp.ConnectionUri, c => c.Worker.PullCount = 3);
        var ids = new HashSet<Guid>();
        for (var i = 0; i < 50; i++) ids.Add((await QueueAsync(s, "login_code_valid", $"race-{i}@example.com", new JsonObject { ["login_code"] = $"{i:D6}" })).Id);

        // The second worker has its own service provider and connection pool, as a separate `gatehouse courier watch` process would.
        var other = new ServiceCollection();
        other.AddLogging();
        other.AddSingleton(s.Options);
        other.AddSingleton(TimeProvider.System);
        other.AddPersistence(Dsn.Parse(s.Options.Dsn));
        other.AddCourier(s.Options);
        await using var otherServices = other.BuildServiceProvider();

        var workerA = s.Services.GetRequiredService<CourierWorker>();
        var workerB = otherServices.GetRequiredService<CourierWorker>();
        Assert.NotEqual(workerA.Id, workerB.Id);
        using var stop = new CancellationTokenSource();
        var runs = new[] { workerA.RunAsync(stop.Token), workerB.RunAsync(stop.Token), ActivatorUtilities.CreateInstance<CourierWorker>(s.Services).RunAsync(stop.Token) };
        await smtp.WaitForAsync(50, TimeSpan.FromSeconds(60));
        await WaitUntilAsync(async () => await CountAsync(s, CourierMessageStatus.Sent) == 50, TimeSpan.FromSeconds(30));
        // Give any double send a chance to show up before counting.
        await Task.Delay(300);
        await stop.CancelAsync();
        await Task.WhenAll(runs);

        var perMessage = smtp.Messages.GroupBy(m => m.MessageId ?? "").ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(50, perMessage.Count);
        Assert.All(perMessage.Values, count => Assert.Equal(1, count));
        Assert.Equal(ids.Select(id => $"{id:N}@gatehouse.test").Order(), perMessage.Keys.Order());

        await using var scope = s.Services.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        var messages = await context.CourierMessages.AsNoTracking().Include(m => m.Dispatches).Where(m => ids.Contains(m.Id)).ToListAsync();
        Assert.All(messages, m =>
        {
            Assert.Equal(CourierMessageStatus.Sent, m.Status);
            Assert.Equal(1, m.SendCount);
            Assert.Equal("success", Assert.Single(m.Dispatches).Status);
        });
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Ten_concurrent_claimers_claim_every_due_message_exactly_once(string db)
    {
        await using var s = await StartAsync(db, "smtp://127.0.0.1:1/?disable_starttls=true");
        var ids = new HashSet<Guid>();
        for (var i = 0; i < 60; i++) ids.Add((await QueueAsync(s, "login_code_valid", $"claim-{i}@example.com", new JsonObject { ["login_code"] = $"{i}" })).Id);
        var now = DateTime.UtcNow.AddSeconds(1);
        var claims = await Task.WhenAll(Enumerable.Range(0, 10).Select(n => Task.Run(async () =>
        {
            var mine = new List<Guid>();
            while (true)
            {
                await using var scope = s.Services.CreateAsyncScope();
                var batch = await scope.ServiceProvider.GetRequiredService<CourierQueue>().ClaimAsync($"claimer-{n}", 4, now, TimeSpan.FromMinutes(1), CancellationToken.None);
                if (batch.Count == 0) return mine;
                mine.AddRange(batch.Select(m => m.Id));
            }
        })));
        var all = claims.SelectMany(c => c).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.Equal(ids.Order(), all.Order());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_claim_whose_lease_lapsed_is_taken_over_and_the_stale_worker_cannot_record_its_attempt(string db)
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var s = await StartAsync(db, smtp.ConnectionUri);
        var queued = await QueueAsync(s, "verification_code_valid", "lease@example.com");
        var now = DateTime.UtcNow;
        List<CourierMessage> claimedByDead;
        await using (var scope = s.Services.CreateAsyncScope())
        {
            var queue = scope.ServiceProvider.GetRequiredService<CourierQueue>();
            claimedByDead = await queue.ClaimAsync("dead-worker", 10, now, TimeSpan.FromSeconds(5), CancellationToken.None);
            Assert.Contains(claimedByDead, m => m.Id == queued.Id);
            // While the lease holds nobody else gets it.
            Assert.DoesNotContain(await queue.ClaimAsync("other", 10, now.AddSeconds(1), TimeSpan.FromSeconds(5), CancellationToken.None), m => m.Id == queued.Id);
            // Once it lapsed, another worker takes it over.
            Assert.Contains(await queue.ClaimAsync("rescuer", 10, now.AddSeconds(6), TimeSpan.FromSeconds(5), CancellationToken.None), m => m.Id == queued.Id);
            var stale = claimedByDead.Single(m => m.Id == queued.Id);
            Assert.False(await queue.RecordAttemptAsync(stale, "dead-worker", CourierMessageStatus.Sent, now, null, now, CancellationToken.None));
        }
        var stored = await LoadAsync(s, queued.Id);
        Assert.Equal(CourierMessageStatus.Processing, stored.Status);
        Assert.Equal("rescuer", stored.ClaimedBy);
        Assert.Empty(stored.Dispatches);
    }

    private static async Task<int> CountAsync(TestServer s, string status)
    {
        await using var scope = s.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<GatehouseDbContext>().CourierMessages.CountAsync(m => m.Status == status);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition() && DateTime.UtcNow < deadline) await Task.Delay(50);
    }
}
