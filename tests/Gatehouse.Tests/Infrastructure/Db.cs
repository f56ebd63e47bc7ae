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

    public static async Task<string> NewDsnAsync(string provider)
    {
        if (provider == Sqlite)
        {
            var path = Path.Combine(Path.GetTempPath(), "gatehouse-test-" + Guid.NewGuid().ToString("N") + ".db");
            return "sqlite://" + path + "?_fk=true";
        }
        var server = PostgresDsn ?? throw new InvalidOperationException("GATEHOUSE_TEST_POSTGRES_DSN is not set");
        var name = "gh_" + Guid.NewGuid().ToString("N");
        var cs = Gatehouse.Persistence.Dsn.Parse(server).ConnectionString;
        await using (var conn = new NpgsqlConnection(cs))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        var uri = new UriBuilder(server) { Path = "/" + name };
        return uri.Uri.ToString();
    }
}
