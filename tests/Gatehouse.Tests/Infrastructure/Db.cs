using System.Collections.Concurrent;
using Gatehouse.Config;
using Gatehouse.Persistence;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>
/// The databases every store and integration test runs on: SQLite always, PostgreSQL when
/// <c>GATEHOUSE_TEST_POSTGRES_DSN</c> names a server (each test server gets a fresh database on it).
/// </summary>
public static class Db
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    public static string? PostgresDsn => Environment.GetEnvironmentVariable("GATEHOUSE_TEST_POSTGRES_DSN") is { Length: > 0 } dsn ? dsn : null;

    public static TheoryData<string> Providers
    {
        get
        {
            var data = new TheoryData<string> { Sqlite };
            if (PostgresDsn is not null) data.Add(Postgres);
            return data;
        }
    }

    /// <summary>
    /// A fresh database that already has Gatehouse's schema: a copy of a template the migrator built once per test
    /// run and provider (SQLite: a copy of the template file; PostgreSQL: <c>CREATE DATABASE … TEMPLATE</c>).
    /// Applying the 50-odd migrations took 0.4–1.1 s per test server on the 2-core CI machine, a few minutes of every
    /// run; the copy takes milliseconds. The test server still runs the migrator on the copy, which finds nothing to
    /// apply. Tests of migrating itself use <see cref="NewDsnAsync"/> (an empty database).
    /// </summary>
    public static async Task<string> NewMigratedDsnAsync(string provider)
    {
        var template = await Templates.GetOrAdd(provider, p => new Lazy<Task<string>>(() => CreateTemplateAsync(p))).Value;
        return await NewDsnAsync(provider, template);
    }

    private static readonly ConcurrentDictionary<string, Lazy<Task<string>>> Templates = new();

    private static async Task<string> CreateTemplateAsync(string provider)
    {
        var dsn = await NewDsnAsync(provider);
        var options = new GatehouseOptions { Dsn = dsn };
        await using (var services = (ServiceProvider)Gatehouse.Cli.CliContext.Services(options))
        {
            await services.GetRequiredService<DatabaseMigrator>().MigrateAsync();
        }
        var cs = Dsn.Parse(dsn).ConnectionString;
        // The migrator's pooled connections would keep the template open: PostgreSQL refuses to copy a database that
        // has other sessions, and SQLite keeps the last commits in the -wal file until its last connection closes.
        if (provider == Sqlite)
        {
            SqliteConnection.ClearPool(new SqliteConnection(cs));
            // Back to a rollback journal, which folds the -wal file into the database file: the template is then one
            // file that copies can be taken of while nothing has it open (the migrator turns WAL on again in each copy).
            await using var conn = new SqliteConnection(new SqliteConnectionStringBuilder(cs) { Pooling = false }.ToString());
            await conn.OpenAsync();
            await using var cmd = conn.CreateCommand();
            cmd.CommandText = "PRAGMA journal_mode=DELETE;";
            await cmd.ExecuteNonQueryAsync();
        }
        else
        {
            NpgsqlConnection.ClearPool(new NpgsqlConnection(cs));
        }
        return dsn;
    }

    public static Task<string> NewDsnAsync(string provider) => NewDsnAsync(provider, template: null);

    private static async Task<string> NewDsnAsync(string provider, string? template)
    {
        if (provider == Sqlite)
        {
            var path = Path.Combine(Path.GetTempPath(), "gatehouse-test-" + Guid.NewGuid().ToString("N") + ".db");
            var sqliteDsn = "sqlite://" + path + "?_fk=true";
            TestDatabases.Created(Sqlite, path);
            if (template is not null) File.Copy(new SqliteConnectionStringBuilder(Dsn.Parse(template).ConnectionString).DataSource, path);
            return sqliteDsn;
        }
        var server = PostgresDsn ?? throw new InvalidOperationException("GATEHOUSE_TEST_POSTGRES_DSN is not set");
        var name = "gh_" + Guid.NewGuid().ToString("N");
        TestDatabases.Created(Postgres, name);
        var cs = Gatehouse.Persistence.Dsn.Parse(server).ConnectionString;
        await using (var conn = new NpgsqlConnection(cs))
        {
            await conn.OpenAsync();
            var from = template is null ? "" : $" TEMPLATE \"{new NpgsqlConnectionStringBuilder(Dsn.Parse(template).ConnectionString).Database}\"";
            // PostgreSQL itself waits (up to 5 s) for the template's last sessions, the migrator's closed connections, to end.
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"{from}", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        var uri = new UriBuilder(server) { Path = "/" + name };
        return uri.Uri.ToString();
    }
}
