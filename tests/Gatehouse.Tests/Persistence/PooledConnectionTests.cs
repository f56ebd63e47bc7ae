using Gatehouse.ApiKeys;
using Gatehouse.Persistence;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Tests.Persistence;

public sealed class PooledConnectionTests
{
    /// <summary>
    /// A stopped server closes its pooled PostgreSQL connections instead of leaving them idle for Npgsql's idle lifetime
    /// (300 s): a process that starts and stops many servers (this test suite) would otherwise run PostgreSQL out of
    /// connections ("too many clients already").
    /// </summary>
    [Fact]
    public async Task A_stopped_server_leaves_no_connection_open_on_postgres()
    {
        Assert.SkipWhen(Db.PostgresDsn is null, "GATEHOUSE_TEST_POSTGRES_DSN is not set (PostgreSQL tests skipped)");
        string database;
        await using (var server = await TestServer.StartAsync(Db.Postgres))
        {
            database = new Npgsql.NpgsqlConnectionStringBuilder(server.Services.GetRequiredService<Dsn>().ConnectionString).Database!;
            // Several requests at once, so that the pool holds more than one connection.
            var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => server.AdminWithKey.GetAsync("/admin/identities")));
            Assert.All(answers, a => Assert.Equal(System.Net.HttpStatusCode.OK, a.StatusCode));
            Assert.True(await ConnectionsTo(database) > 0);
        }
        // The backends exit asynchronously after their connections close: wait for that, within a deadline.
        Assert.True(await Eventually.HoldsAsync(async () => await ConnectionsTo(database) == 0, TimeSpan.FromSeconds(10)),
            $"{await ConnectionsTo(database)} connections to the stopped server's database are still open");
    }

    private static async Task<long> ConnectionsTo(string database)
    {
        await using var connection = new Npgsql.NpgsqlConnection(Dsn.Parse(Db.PostgresDsn!).ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = @d", connection);
        command.Parameters.AddWithValue("d", database);
        return (long)(await command.ExecuteScalarAsync())!;
    }

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
