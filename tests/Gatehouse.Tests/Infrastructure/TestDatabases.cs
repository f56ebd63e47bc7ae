using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using Npgsql;

[assembly: AssemblyFixture(typeof(Gatehouse.Tests.Infrastructure.TestDatabases))]

namespace Gatehouse.Tests.Infrastructure;

/// <summary>
/// Deletes, when the test run ends, every database <see cref="Db"/> made during it: the SQLite files in the temporary
/// directory (about 0.5 MB each) and the PostgreSQL databases, a few hundred per run. Left behind they filled a
/// developer's disk and kept a long-lived PostgreSQL server's autovacuum busy visiting them. Only at the end of the run:
/// tests hand one server's database to another (<c>o.Dsn = first.Options.Dsn</c>), so no single server owns its database.
/// </summary>
public sealed class TestDatabases : IAsyncDisposable
{
    private static readonly ConcurrentQueue<string> SqliteFiles = new();
    private static readonly ConcurrentQueue<string> PostgresDatabases = new();

    internal static void Created(string provider, string fileOrDatabase) =>
        (provider == Db.Sqlite ? SqliteFiles : PostgresDatabases).Enqueue(fileOrDatabase);

    public async ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        while (SqliteFiles.TryDequeue(out var file))
        {
            foreach (var suffix in new[] { "", "-wal", "-shm", "-journal" })
            {
                try { File.Delete(file + suffix); }
                catch (IOException) { /* still open elsewhere: left to the temporary directory's own clean-up */ }
            }
        }
        if (PostgresDatabases.IsEmpty || Db.PostgresDsn is not { } server) return;
        NpgsqlConnection.ClearAllPools();
        await using var conn = new NpgsqlConnection(Gatehouse.Persistence.Dsn.Parse(server).ConnectionString);
        await conn.OpenAsync();
        while (PostgresDatabases.TryDequeue(out var name))
        {
            // WITH (FORCE) ends sessions a test left open (e.g. a listener still reconnecting).
            await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", conn);
            await cmd.ExecuteNonQueryAsync();
        }
    }
}
