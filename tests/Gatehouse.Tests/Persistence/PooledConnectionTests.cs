using Gatehouse.ApiKeys;
using Gatehouse.Persistence;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Tests.Persistence;

public sealed class PooledConnectionTests
{
    /// <summary>
    /// PostgreSQL connections are pooled with No Reset On Close (Dsn): what a request leaves behind must still not reach
    /// the next one. An abandoned transaction is rolled back when its connection returns to the pool.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_transaction_left_open_is_rolled_back_before_the_connection_serves_again(string db)
    {
        await using var server = await TestServer.StartAsync(db);
        var name = "abandoned-" + Guid.NewGuid().ToString("N");
        for (var round = 0; round < 3; round++)
        {
            await using (var scope = server.Services.CreateAsyncScope())
            {
                var context = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
                var tx = await context.Database.BeginTransactionAsync();
                context.ApiKeys.Add(new ApiKey
                {
                    Id = Guid.CreateVersion7(),
                    Nid = context.Nid,
                    Name = name,
                    KeyHash = System.Security.Cryptography.SHA256.HashData(Guid.NewGuid().ToByteArray()),
                    Prefix = "gh_pool",
                    CreatedAt = DateTime.UtcNow,
                });
                await context.SaveChangesAsync();
                // Neither committed nor disposed: the scope ends with the transaction open.
                GC.KeepAlive(tx);
            }
            await using (var scope = server.Services.CreateAsyncScope())
            {
                var context = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
                Assert.Equal(0, await context.ApiKeys.CountAsync(k => k.Name == name));
                await using var tx = await context.Database.BeginTransactionAsync();
                await tx.CommitAsync();
            }
        }
    }
}
