using Gatehouse.ApiKeys;
using Gatehouse.Persistence;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Tests.Persistence;

public sealed class BulkInsertTests
{
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Several_full_statements_insert_every_row_once(string db)
    {
        await using var server = await TestServer.StartAsync(db);
        await using var scope = server.Services.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        // ApiKey has 7 columns: 2,857 rows fill one PostgreSQL statement, so 6,000 rows need two full statements of the same text and a third.
        var rows = Enumerable.Range(0, 6000).Select(i => new ApiKey
        {
            Id = Guid.CreateVersion7(),
            Nid = context.Nid,
            Name = "bulk-" + i,
            KeyHash = System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i + 1_000_000)),
            Prefix = "gh_bulk",
            CreatedAt = DateTime.UtcNow,
        }).ToList();
        await using (var tx = await context.Database.BeginTransactionAsync())
        {
            await BulkInsert.InsertAsync(context, rows, CancellationToken.None);
            await tx.CommitAsync();
        }
        Assert.Equal(6000, await context.ApiKeys.CountAsync(k => k.Prefix == "gh_bulk"));
        Assert.Equal(6000, await context.ApiKeys.Where(k => k.Prefix == "gh_bulk").Select(k => k.Name).Distinct().CountAsync());
    }
}
