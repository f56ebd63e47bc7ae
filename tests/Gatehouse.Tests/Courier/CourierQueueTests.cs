using System.Text.Json.Nodes;
using Gatehouse.Courier;
using Gatehouse.Persistence;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Tests.Courier;

public sealed class CourierQueueTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task QueueEmailAsync_stores_a_rendered_queued_message_without_saving_other_pending_changes(string db)
    {
        var s = await fixture.Get(db);
        var recipient = $"queue-{Guid.NewGuid():N}@example.com";
        var pendingId = Guid.CreateVersion7();
        CourierMessage queued;
        await using (var scope = s.Services.CreateAsyncScope())
        {
            var context = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
            context.CourierMessages.Add(new CourierMessage { Id = pendingId, Nid = context.Nid, Recipient = "pending@example.com" });
            var courier = scope.ServiceProvider.GetRequiredService<Gatehouse.Courier.Courier>();
            queued = await courier.QueueEmailAsync("verification_code_valid", recipient,
                new JsonObject { ["verification_code"] = "482910", ["verification_url"] = "https://app.example/v?code=482910" }, CancellationToken.None);
            Assert.Equal(EntityState.Added, context.Entry(context.CourierMessages.Local.Single(m => m.Id == pendingId)).State);
        }

        await using (var scope = s.Services.CreateAsyncScope())
        {
            var context = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
            Assert.False(await context.CourierMessages.AnyAsync(m => m.Id == pendingId));
            var stored = await context.CourierMessages.AsNoTracking().SingleAsync(m => m.Id == queued.Id);
            Assert.Equal(CourierMessageStatus.Queued, stored.Status);
            Assert.Equal("email", stored.Type);
            Assert.Equal("email", stored.Channel);
            Assert.Equal(recipient, stored.Recipient);
            Assert.Equal("verification_code_valid", stored.TemplateType);
            Assert.Equal("Please verify your email address", stored.Subject);
            Assert.Contains("482910", stored.Body, StringComparison.Ordinal);
            Assert.Contains("482910", stored.HtmlBody, StringComparison.Ordinal);
            Assert.Equal(0, stored.SendCount);
            Assert.Equal(queued.CreatedAt, stored.CreatedAt);
            Assert.Equal(queued.NextAttemptAt, stored.NextAttemptAt);
            Assert.Equal(DateTimeKind.Utc, stored.CreatedAt.Kind);
            Assert.Null(stored.ClaimedBy);
            Assert.Equal(recipient, JsonNode.Parse(stored.TemplateData!)!["to"]!.GetValue<string>());
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task QueueEmailAsync_joins_the_callers_transaction(string db)
    {
        var s = await fixture.Get(db);
        Guid id;
        await using (var scope = s.Services.CreateAsyncScope())
        {
            var context = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
            await using var tx = await context.Database.BeginTransactionAsync();
            var message = await scope.ServiceProvider.GetRequiredService<Gatehouse.Courier.Courier>()
                .QueueEmailAsync("login_code_valid", "tx@example.com", new JsonObject { ["login_code"] = "111222" }, CancellationToken.None);
            id = message.Id;
            await tx.RollbackAsync();
        }
        await using (var scope = s.Services.CreateAsyncScope())
        {
            var context = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
            Assert.False(await context.CourierMessages.AnyAsync(m => m.Id == id));
        }
    }

    [Fact]
    public async Task QueueEmailAsync_rejects_unknown_template_types()
    {
        var s = await fixture.Get(Db.Sqlite);
        await using var scope = s.Services.CreateAsyncScope();
        var courier = scope.ServiceProvider.GetRequiredService<Gatehouse.Courier.Courier>();
        await Assert.ThrowsAsync<ArgumentException>(() => courier.QueueEmailAsync("nope", "a@example.com", [], CancellationToken.None));
    }
}
