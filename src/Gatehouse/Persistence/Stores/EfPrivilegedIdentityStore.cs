using Gatehouse.Identities;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Stores;

/// <summary><see cref="IPrivilegedIdentityStore"/> over EF: identities with their credentials' configs.</summary>
public sealed class EfPrivilegedIdentityStore(GatehouseDbContext db) : IPrivilegedIdentityStore
{
    private IQueryable<Identity> Confidential() =>
        db.Identities.AsNoTracking().Include(i => i.Credentials).ThenInclude(c => c.Identifiers)
            .Include(i => i.VerifiableAddresses).Include(i => i.RecoveryAddresses).AsSplitQuery();

    public async Task<Identity?> FindByIdentifierAsync(string type, string identifier, CancellationToken ct)
    {
        var identityId = await db.CredentialIdentifiers.AsNoTracking()
            .Where(i => i.Type == type && i.Identifier == identifier)
            .Select(i => (Guid?)i.IdentityId).FirstOrDefaultAsync(ct);
        return identityId is null ? null : await Confidential().FirstOrDefaultAsync(i => i.Id == identityId, ct);
    }

    public async Task<Identity?> FindByAnyIdentifierAsync(string identifier, string normalized, CancellationToken ct)
    {
        var identityId = await db.CredentialIdentifiers.AsNoTracking()
            .Where(i => i.Identifier == normalized || i.Identifier == identifier)
            .Select(i => (Guid?)i.IdentityId).FirstOrDefaultAsync(ct);
        return identityId is null ? null : await Confidential().FirstOrDefaultAsync(i => i.Id == identityId, ct);
    }

    public Task<Identity?> FindConfidentialAsync(Guid id, CancellationToken ct) => Confidential().FirstOrDefaultAsync(i => i.Id == id, ct);

    public Task<string?> FirstIdentifierAsync(Guid identityId, string type, CancellationToken ct) =>
        db.CredentialIdentifiers.AsNoTracking().Where(i => i.IdentityId == identityId && i.Type == type)
            .OrderBy(i => i.Identifier).Select(i => i.Identifier).FirstOrDefaultAsync(ct);

    public Task<List<IdentityCredential>> CredentialsOfAsync(Guid identityId, CancellationToken ct) =>
        db.Credentials.AsNoTracking().Where(c => c.IdentityId == identityId).ToListAsync(ct);

    public async Task<bool> SwapCredentialConfigAsync(Guid credentialId, string expected, string config, DateTime now, CancellationToken ct) =>
        await db.Credentials.Where(c => c.Id == credentialId && c.Config == expected)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.Config, config).SetProperty(c => c.UpdatedAt, now), ct) == 1;

    public Task UpdateCredentialConfigAsync(Guid credentialId, string config, DateTime now, CancellationToken ct) =>
        db.Credentials.Where(c => c.Id == credentialId)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.Config, config).SetProperty(c => c.UpdatedAt, now), ct);
}
