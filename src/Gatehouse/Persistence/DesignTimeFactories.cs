using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Gatehouse.Persistence;

// Used only by `dotnet ef migrations add` to build each provider's model; no database is contacted.
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteGatehouseDbContext>
{
    public SqliteGatehouseDbContext CreateDbContext(string[] args)
    {
        var b = new DbContextOptionsBuilder<SqliteGatehouseDbContext>();
        PersistenceServiceCollectionExtensions.ConfigureSqlite(b, "Data Source=design.db");
        return new SqliteGatehouseDbContext(b.Options);
    }
}

internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresGatehouseDbContext>
{
    public PostgresGatehouseDbContext CreateDbContext(string[] args)
    {
        var b = new DbContextOptionsBuilder<PostgresGatehouseDbContext>();
        PersistenceServiceCollectionExtensions.ConfigurePostgres(b, "Host=localhost;Database=design");
        return new PostgresGatehouseDbContext(b.Options);
    }
}
