using Gatehouse.Identities;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Stores;

/// <summary><see cref="IIdentityReader"/> over EF: identities with their addresses; the credentials table is never read.</summary>
public sealed class EfIdentityReader(GatehouseDbContext db) : IIdentityReader
{
    private IQueryable<Identity> WithAddresses() =>
        db.Identities.AsNoTracking().Include(i => i.VerifiableAddresses).Include(i => i.RecoveryAddresses).AsSplitQuery();

    public Task<Identity?> FindAsync(Guid id, CancellationToken ct) => WithAddresses().FirstOrDefaultAsync(i => i.Id == id, ct);

    /// <summary>One statement whether or not the address is known (the flows' answers must not time differently).</summary>
    public Task<Identity?> FindByVerifiableAddressAsync(string via, string value, CancellationToken ct) =>
        db.Identities.AsNoTracking().Include(i => i.VerifiableAddresses).Include(i => i.RecoveryAddresses).AsSingleQuery()
            .FirstOrDefaultAsync(i => i.VerifiableAddresses.Any(a => a.Via == via && a.Value == value), ct);

    public Task<List<RecoveryAddress>> FindSiblingRecoveryAddressesAsync(string value, CancellationToken ct)
    {
        var owners = db.RecoveryAddresses.Where(b => b.Value == value).Select(b => b.IdentityId);
        return db.RecoveryAddresses.AsNoTracking().Where(a => owners.Contains(a.IdentityId)).OrderBy(a => a.Id).Take(10).ToListAsync(ct);
    }

    /// <summary>One statement whether or not the address is known (the flows' answers must not time differently).</summary>
    public Task<Identity?> FindByRecoveryAddressAsync(string via, string value, CancellationToken ct) =>
        db.Identities.AsNoTracking().Include(i => i.VerifiableAddresses).Include(i => i.RecoveryAddresses).AsSingleQuery()
            .FirstOrDefaultAsync(i => i.RecoveryAddresses.Any(a => a.Via == via && a.Value == value), ct);
}
