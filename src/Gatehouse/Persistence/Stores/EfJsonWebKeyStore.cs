using Gatehouse.OAuth2;
using Gatehouse.OAuth2.Keys;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Stores;

/// <summary><see cref="IJsonWebKeyStore"/> on <c>oauth2_jwks</c> (Hydra's <c>hydra_jwk</c>).</summary>
public sealed class EfJsonWebKeyStore(GatehouseDbContext db) : IJsonWebKeyStore
{
    // Read for every ID token and JWT access token (which key signs): compiled, prepared once on SQLite.
    public async Task<List<StoredJsonWebKey>> ListAsync(string set, CancellationToken ct) =>
        await BySet.For(db)(db, set).ToListAsync(ct);

    private static readonly PerProvider<Func<GatehouseDbContext, string, IAsyncEnumerable<StoredJsonWebKey>>> BySet = new(() =>
        EF.CompileAsyncQuery<GatehouseDbContext, string, StoredJsonWebKey>((db, set) =>
            db.OAuth2JsonWebKeys.AsNoTracking().TagWith(SqlitePreparedReads.Tag).Where(k => k.SetId == set).OrderByDescending(k => k.CreatedAt).ThenByDescending(k => k.Pk)));

    public Task<List<StoredJsonWebKey>> ListAsync(IReadOnlyCollection<string> sets, CancellationToken ct) =>
        db.OAuth2JsonWebKeys.AsNoTracking().Where(k => sets.Contains(k.SetId)).OrderByDescending(k => k.CreatedAt).ThenByDescending(k => k.Pk).ToListAsync(ct);

    public Task<StoredJsonWebKey?> FindAsync(string set, string kid, CancellationToken ct) =>
        db.OAuth2JsonWebKeys.AsNoTracking().FirstOrDefaultAsync(k => k.SetId == set && k.KeyId == kid, ct);

    public async Task AddAsync(IReadOnlyList<StoredJsonWebKey> keys, CancellationToken ct)
    {
        foreach (var key in keys) key.Nid = db.Nid;
        db.OAuth2JsonWebKeys.AddRange(keys);
        await SaveAsync(ct);
    }

    public async Task ReplaceSetAsync(string set, IReadOnlyList<StoredJsonWebKey> keys, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.OAuth2JsonWebKeys.Where(k => k.SetId == set).ExecuteDeleteAsync(ct);
        await AddAsync(keys, ct);
        await tx.CommitAsync(ct);
    }

    public async Task ReplaceKeyAsync(StoredJsonWebKey key, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.OAuth2JsonWebKeys.Where(k => k.SetId == key.SetId && k.KeyId == key.KeyId).ExecuteDeleteAsync(ct);
        await AddAsync([key], ct);
        await tx.CommitAsync(ct);
    }

    public Task DeleteKeyAsync(string set, string kid, CancellationToken ct) =>
        db.OAuth2JsonWebKeys.Where(k => k.SetId == set && k.KeyId == kid).ExecuteDeleteAsync(ct);

    public Task DeleteSetAsync(string set, CancellationToken ct) =>
        db.OAuth2JsonWebKeys.Where(k => k.SetId == set).ExecuteDeleteAsync(ct);

    private async Task SaveAsync(CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
        {
            db.ChangeTracker.Clear();
            throw OAuth2Error.Conflict();
        }
    }
}
