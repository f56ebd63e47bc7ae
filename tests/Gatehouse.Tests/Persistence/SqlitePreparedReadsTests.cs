using System.Net;
using Gatehouse.ApiKeys;
using Gatehouse.Persistence;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Tests.Persistence;

public sealed class SqlitePreparedReadsTests
{
    private static ApiKey Key(GatehouseDbContext context, string name) => new()
    {
        Id = Guid.CreateVersion7(),
        Nid = context.Nid,
        Name = name,
        KeyHash = System.Security.Cryptography.SHA256.HashData(Guid.NewGuid().ToByteArray()),
        Prefix = "gh_prep",
        CreatedAt = DateTime.UtcNow,
    };

    private static Task<List<string>> TaggedNames(GatehouseDbContext context, string prefix) =>
        context.ApiKeys.AsNoTracking().TagWith(SqlitePreparedReads.Tag)
            .Where(k => k.Prefix == "gh_prep" && k.Name.StartsWith(prefix)).OrderBy(k => k.Name).Select(k => k.Name).ToListAsync();

    [Fact]
    public async Task Tagged_reads_reuse_one_prepared_statement_and_see_every_committed_write()
    {
        await using var server = await TestServer.StartAsync(Db.Sqlite);
        var reads = server.Services.GetRequiredService<SqlitePreparedReads>();
        var before = reads.Counts;
        for (var i = 0; i < 20; i++)
        {
            await using var scope = server.Services.CreateAsyncScope();
            var context = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
            context.ApiKeys.Add(Key(context, $"a-{i:D2}"));
            await context.SaveChangesAsync();
            Assert.Equal(Enumerable.Range(0, i + 1).Select(n => $"a-{n:D2}"), await TaggedNames(context, "a-"));
        }
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var context = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
            await context.ApiKeys.Where(k => k.Name == "a-05").ExecuteDeleteAsync();
            Assert.DoesNotContain("a-05", await TaggedNames(context, "a-"));
            Assert.Equal(19, (await TaggedNames(context, "a-")).Count);
        }
        var after = reads.Counts;
        Assert.Equal(22, after.Served - before.Served);
        // Sequential reads borrow the same connection back: the statement was compiled once.
        Assert.Equal(1, after.Prepared - before.Prepared);
    }

    [Fact]
    public async Task Reads_inside_a_transaction_stay_on_the_transaction_and_see_its_own_writes()
    {
        await using var server = await TestServer.StartAsync(Db.Sqlite);
        var reads = server.Services.GetRequiredService<SqlitePreparedReads>();
        await using var scope = server.Services.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        var before = reads.Counts;
        await using (var tx = await context.Database.BeginTransactionAsync())
        {
            context.ApiKeys.Add(Key(context, "t-uncommitted"));
            await context.SaveChangesAsync();
            Assert.Equal(["t-uncommitted"], await TaggedNames(context, "t-"));
            await tx.RollbackAsync();
        }
        Assert.Equal(before.Served, reads.Counts.Served);
        Assert.Empty(await TaggedNames(context, "t-"));
        Assert.Equal(before.Served + 1, reads.Counts.Served);
    }

    [Fact]
    public async Task Concurrent_tagged_reads_each_get_a_connection_of_their_own()
    {
        await using var server = await TestServer.StartAsync(Db.Sqlite);
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var context = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
            for (var i = 0; i < 5; i++) context.ApiKeys.Add(Key(context, $"c-{i}"));
            await context.SaveChangesAsync();
        }
        var reads = server.Services.GetRequiredService<SqlitePreparedReads>();
        var before = reads.Counts.Served;
        await Parallel.ForAsync(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (_, _) =>
        {
            await using var scope = server.Services.CreateAsyncScope();
            var context = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
            // Two readers open at once on one context: each borrows its own connection.
            await using var outer = context.ApiKeys.AsNoTracking().TagWith(SqlitePreparedReads.Tag).Where(k => k.Name.StartsWith("c-")).AsAsyncEnumerable().GetAsyncEnumerator();
            Assert.True(await outer.MoveNextAsync());
            Assert.Equal(["c-0", "c-1", "c-2", "c-3", "c-4"], await TaggedNames(context, "c-"));
        });
        Assert.Equal(before + 128, reads.Counts.Served);
    }

    [Fact]
    public async Task Lookups_by_identifier_work_on_a_shared_in_memory_database_too()
    {
        await using var server = await TestServer.StartAsync(Db.Sqlite, o => o.Dsn = "memory");
        var reads = server.Services.GetRequiredService<SqlitePreparedReads>();
        var email = HttpAssertions.UniqueEmail("memory");
        var created = await (await server.AdminWithKey.PostJson("/admin/identities", $$$"""{"schema_id":"default","traits":{"email":"{{{email}}}"}}""")).Json(HttpStatusCode.Created);
        for (var i = 0; i < 3; i++)
        {
            var found = (await (await server.AdminWithKey.GetAsync($"/admin/identities?credentials_identifier={email}")).Json(HttpStatusCode.OK)).AsArray();
            Assert.Equal(created["id"]!.GetValue<string>(), Assert.Single(found)!["id"]!.GetValue<string>());
        }
        Assert.Equal(3, reads.Counts.Served);
    }

    [Fact]
    public async Task Untagged_queries_are_left_alone()
    {
        await using var server = await TestServer.StartAsync(Db.Sqlite);
        var reads = server.Services.GetRequiredService<SqlitePreparedReads>();
        await using var scope = server.Services.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        var before = reads.Counts.Served;
        context.ApiKeys.Add(Key(context, "u-1"));
        await context.SaveChangesAsync();
        Assert.Equal(1, await context.ApiKeys.CountAsync(k => k.Name == "u-1"));
        Assert.Equal(before, reads.Counts.Served);
    }
}
