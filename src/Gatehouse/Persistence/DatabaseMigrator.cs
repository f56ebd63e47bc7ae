using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence;

/// <summary>Applies and inspects the versioned migrations of the configured provider.</summary>
public sealed class DatabaseMigrator(IServiceScopeFactory scopes, Dsn dsn)
{
    public async Task<IReadOnlyList<string>> PendingAsync(CancellationToken ct = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        return [.. await db.Database.GetPendingMigrationsAsync(ct)];
    }

    /// <summary>Every migration of the provider in order, and whether the database has it applied.</summary>
    public async Task<IReadOnlyList<(string Id, bool Applied)>> StatusAsync(CancellationToken ct = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        var applied = (await db.Database.GetAppliedMigrationsAsync(ct)).ToHashSet(StringComparer.Ordinal);
        return [.. db.Database.GetMigrations().Select(id => (id, applied.Contains(id)))];
    }

    public async Task<IReadOnlyList<string>> MigrateAsync(CancellationToken ct = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        var pending = (await db.Database.GetPendingMigrationsAsync(ct)).ToList();
        if (dsn.Provider == DatabaseProvider.Sqlite && !dsn.InMemory)
        {
            await db.Database.OpenConnectionAsync(ct);
            // WAL lets readers (whoami) run while a writer commits; the setting is stored in the file.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
            await db.Database.CloseConnectionAsync();
        }
        await db.Database.MigrateAsync(ct);
        return pending;
    }

    public async Task<bool> CanConnectAsync(CancellationToken ct = default)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
            // A real query, so a missing table counts as not ready too.
            await db.Identities.Select(i => i.Id).FirstOrDefaultAsync(ct);
            return true;
        }
        catch (Exception)
        {
            return false;
        }
    }
}
