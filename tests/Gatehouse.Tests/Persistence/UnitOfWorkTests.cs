using System.Text.Json.Nodes;
using Gatehouse.Persistence;
using Gatehouse.SelfService.Flows;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using CourierService = Gatehouse.Courier.Courier;

namespace Gatehouse.Tests.Persistence;

/// <summary>
/// A flow submit's unit of work (<see cref="IUnitOfWork"/>): the writes it holds (a code, its mail, the flow's update)
/// are invisible until its commit, then land together in one transaction — or, when one of them fails, none of them do.
/// </summary>
public sealed class UnitOfWorkTests
{
    private static readonly TimeSpan Lifespan = TimeSpan.FromMinutes(15);

    private static async Task<(int Codes, int Mails)> StoredAsync(TestServer s, Guid flowId, string address)
    {
        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        return (await db.Codes.CountAsync(c => c.FlowId == flowId), await db.CourierMessages.CountAsync(m => m.Recipient == address));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Held_writes_are_invisible_until_the_commit_and_then_all_stored(string db)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var s = await TestServer.StartAsync(db);
        var (flowId, address) = (Guid.CreateVersion7(), HttpAssertions.UniqueEmail("uow"));
        await using var scope = s.Services.CreateAsyncScope();
        var work = scope.ServiceProvider.GetRequiredService<IUnitOfWork>();
        await using (work.Begin(ct))
        {
            await scope.ServiceProvider.GetRequiredService<OneTimeCodes>().CreateAsync(flowId, null, "login_code", address, "email", "123456", Lifespan, ct);
            await scope.ServiceProvider.GetRequiredService<CourierService>().QueueEmailAsync("login_code_valid", address, new JsonObject { ["login_code"] = "123456" }, ct);
            Assert.Equal((0, 0), await StoredAsync(s, flowId, address));
            await work.CommitAsync(ct);
            Assert.Equal((1, 1), await StoredAsync(s, flowId, address));

            // Committed: later writes of the request run at once.
            await scope.ServiceProvider.GetRequiredService<CourierService>().QueueEmailAsync("login_code_valid", address, new JsonObject { ["login_code"] = "654321" }, ct);
            Assert.Equal((1, 2), await StoredAsync(s, flowId, address));
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Ending_the_unit_of_work_commits_what_it_still_holds(string db)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var s = await TestServer.StartAsync(db);
        var (flowId, address) = (Guid.CreateVersion7(), HttpAssertions.UniqueEmail("uow-end"));
        await using var scope = s.Services.CreateAsyncScope();
        await using (scope.ServiceProvider.GetRequiredService<IUnitOfWork>().Begin(ct))
        {
            await scope.ServiceProvider.GetRequiredService<OneTimeCodes>().CreateAsync(flowId, null, "login_code", address, "email", "123456", Lifespan, ct);
            Assert.Equal((0, 0), await StoredAsync(s, flowId, address));
        }
        Assert.Equal((1, 0), await StoredAsync(s, flowId, address));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task When_one_held_write_fails_none_of_them_is_stored(string db)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var s = await TestServer.StartAsync(db);
        var (flowId, address) = (Guid.CreateVersion7(), HttpAssertions.UniqueEmail("uow-fail"));
        await using var scope = s.Services.CreateAsyncScope();
        var work = scope.ServiceProvider.GetRequiredService<IUnitOfWork>();
        var now = DateTime.UtcNow;
        // A flow that was never stored: its update changes no row, which fails at the commit.
        var missing = new SelfServiceFlow
        {
            Id = flowId, Kind = FlowKinds.Login, Type = FlowTypes.Api, RequestUrl = "http://localhost/self-service/login/api",
            IssuedAt = now, ExpiresAt = now + Lifespan, CreatedAt = now, UpdatedAt = now,
        };
        await using (work.Begin(ct))
        {
            await scope.ServiceProvider.GetRequiredService<OneTimeCodes>().CreateAsync(flowId, null, "login_code", address, "email", "123456", Lifespan, ct);
            await scope.ServiceProvider.GetRequiredService<CourierService>().QueueEmailAsync("login_code_valid", address, new JsonObject { ["login_code"] = "123456" }, ct);
            await scope.ServiceProvider.GetRequiredService<IFlowStore>().UpdateAsync(missing, ct);
            await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => work.CommitAsync(ct));
        }
        Assert.Equal((0, 0), await StoredAsync(s, flowId, address));
    }
}
