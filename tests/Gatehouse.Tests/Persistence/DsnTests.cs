using Gatehouse.Persistence;

namespace Gatehouse.Tests.Persistence;

public sealed class DsnTests
{
    [Fact]
    public void Sqlite_urls_become_file_connection_strings()
    {
        var dsn = Dsn.Parse("sqlite:///var/lib/gatehouse/db.sqlite?_fk=true&mode=rwc");
        Assert.Equal(DatabaseProvider.Sqlite, dsn.Provider);
        Assert.Contains("Data Source=/var/lib/gatehouse/db.sqlite", dsn.ConnectionString);
        Assert.False(dsn.InMemory);
        Assert.Contains("Data Source=./gatehouse.db", Dsn.Parse("sqlite://./gatehouse.db?_fk=true").ConnectionString);
    }

    [Fact]
    public void Memory_is_a_named_shared_in_memory_database()
    {
        var dsn = Dsn.Parse("memory");
        Assert.True(dsn.InMemory);
        Assert.Contains("Mode=Memory", dsn.ConnectionString);
        Assert.Contains("Cache=Shared", dsn.ConnectionString);
    }

    [Fact]
    public void Postgres_urls_map_user_password_host_port_database_and_sslmode()
    {
        var dsn = Dsn.Parse("postgres://kratos:s%40cret@db.internal:5433/identities?sslmode=disable&max_conns=20");
        Assert.Equal(DatabaseProvider.Postgres, dsn.Provider);
        var b = new Npgsql.NpgsqlConnectionStringBuilder(dsn.ConnectionString);
        Assert.Equal("db.internal", b.Host);
        Assert.Equal(5433, b.Port);
        Assert.Equal("identities", b.Database);
        Assert.Equal("kratos", b.Username);
        Assert.Equal("s@cret", b.Password);
        Assert.Equal(Npgsql.SslMode.Disable, b.SslMode);
        Assert.Equal(20, b.MaxPoolSize);
        Assert.Equal(100, b.MaxAutoPrepare);
        Assert.True(b.NoResetOnClose);
    }

    [Theory]
    [InlineData("")]
    [InlineData("mysql://x@y/z")]
    [InlineData("sqlite://")]
    [InlineData("postgres://u@h/db?sslmode=sometimes")]
    public void Unsupported_or_broken_dsns_are_format_errors(string dsn) =>
        Assert.Throws<FormatException>(() => Dsn.Parse(dsn));

    [Fact]
    public void Redact_hides_the_password() =>
        Assert.Equal("postgres://kratos:***@db:5432/x", Dsn.Redact("postgres://kratos:hunter2@db:5432/x"));
}
