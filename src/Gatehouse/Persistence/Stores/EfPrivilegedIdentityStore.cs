using Gatehouse.Identities;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Stores;

/// <summary><see cref="IPrivilegedIdentityStore"/> over EF: identities with their credentials' configs.</summary>
public sealed class EfPrivilegedIdentityStore(GatehouseDbContext db) : IPrivilegedIdentityStore
{
    // Every sign-in reads its identity here (by identifier, or by id once a code or key named it). As a split query with
    // includes that was six statements, each a LINQ tree to build and look up in EF's cache and, on SQLite, a statement to
    // compile. Now it is one compiled query per provider context, in one statement (prepared once on SQLite, see
    // SqlitePreparedReads), shaped as the identifier lookup of the admin API (IdentityList): addresses and credentials
    // included, the credentials' identifiers joined by identity id and attached in memory.
    public async Task<Identity?> FindByIdentifierAsync(string type, string identifier, CancellationToken ct)
    {
        return await FirstAsync(ConfidentialByIdentifier.For(db)(db, type, identifier), ct);
    }

    public async Task<Identity?> FindByAnyIdentifierAsync(string identifier, string normalized, CancellationToken ct)
    {
        var identityId = await db.CredentialIdentifiers.AsNoTracking()
            .Where(i => i.Identifier == normalized || i.Identifier == identifier)
            .Select(i => (Guid?)i.IdentityId).FirstOrDefaultAsync(ct);
        return identityId is null ? null : await FindConfidentialAsync(identityId.Value, ct);
    }

    public async Task<Identity?> FindConfidentialAsync(Guid id, CancellationToken ct)
    {
        return await FirstAsync(ConfidentialById.For(db)(db, id), ct);
    }

    private static async Task<Identity?> FirstAsync(IAsyncEnumerable<ConfidentialIdentity> rows, CancellationToken ct)
    {
        // At most one identity: by primary key, or through the unique (identifier, nid, type) index.
        await foreach (var row in rows.WithCancellation(ct))
        {
            var byCredential = row.Identifiers.ToLookup(x => x.CredentialId);
            foreach (var credential in row.Identity.Credentials) credential.Identifiers = [.. byCredential[credential.Id]];
            CompleteCredentials.Mark(row.Identity);
            return row.Identity;
        }
        return null;
    }

    /// <summary>An identity with its credentials and addresses, and the identifiers of all its credentials.</summary>
    private sealed record ConfidentialIdentity(Identity Identity, List<CredentialIdentifier> Identifiers);

    /// <summary>The compiled reads, one per provider (see <see cref="PerProvider{TQuery}"/>).</summary>
    private static readonly PerProvider<Func<GatehouseDbContext, Guid, IAsyncEnumerable<ConfidentialIdentity>>> ConfidentialById = new(() =>
        EF.CompileAsyncQuery((GatehouseDbContext db, Guid id) => db.Identities.AsNoTracking()
            .Where(i => i.Id == id)
            .Include(i => i.Credentials)
            .Include(i => i.VerifiableAddresses)
            .Include(i => i.RecoveryAddresses)
            .Select(i => new ConfidentialIdentity(i, db.CredentialIdentifiers.Where(c => c.IdentityId == i.Id).ToList()))
            .AsSingleQuery()
            .TagWith(SqlitePreparedReads.Tag)));

    private static readonly PerProvider<Func<GatehouseDbContext, Guid, IAsyncEnumerable<IdentityCredential>>> CredentialsOf = new(() =>
        EF.CompileAsyncQuery((GatehouseDbContext db, Guid identityId) => db.Credentials.AsNoTracking()
            .Where(c => c.IdentityId == identityId)
            .TagWith(SqlitePreparedReads.Tag)));

    private static readonly PerProvider<Func<GatehouseDbContext, string, string, IAsyncEnumerable<ConfidentialIdentity>>> ConfidentialByIdentifier = new(() =>
        EF.CompileAsyncQuery((GatehouseDbContext db, string type, string identifier) => db.Identities.AsNoTracking()
            .Where(i => db.CredentialIdentifiers
                .Where(c => c.Type == type && c.Identifier == identifier)
                .Select(c => c.IdentityId)
                .Contains(i.Id))
            .Include(i => i.Credentials)
            .Include(i => i.VerifiableAddresses)
            .Include(i => i.RecoveryAddresses)
            .Select(i => new ConfidentialIdentity(i, db.CredentialIdentifiers.Where(c => c.IdentityId == i.Id).ToList()))
            .AsSingleQuery()
            .TagWith(SqlitePreparedReads.Tag)));

    public Task<string?> FirstIdentifierAsync(Guid identityId, string type, CancellationToken ct) =>
        db.CredentialIdentifiers.AsNoTracking().Where(i => i.IdentityId == identityId && i.Type == type)
            .OrderBy(i => i.Identifier).Select(i => i.Identifier).FirstOrDefaultAsync(ct);

    // Read after every sign-in (the session's available AAL): compiled, and prepared once on SQLite.
    public Task<List<IdentityCredential>> CredentialsOfAsync(Guid identityId, CancellationToken ct) => CredentialsOf.For(db)(db, identityId).ToListAsync(ct).AsTask();

    // Every passkey/WebAuthn sign-in (sign count, last use) and TOTP use runs it: raw, kept prepared on SQLite (RawSql),
    // not ExecuteUpdate, whose LINQ pipeline cost more than the statement; the same statement.
    public async Task<bool> SwapCredentialConfigAsync(Guid credentialId, string expected, string config, DateTime now, CancellationToken ct)
    {
        var nid = db.Nid;
        return await RawSql.ExecuteAsync(db, $"""
            UPDATE identity_credentials SET "Config" = {config}, "UpdatedAt" = {now}
            WHERE "Nid" = {nid} AND "Id" = {credentialId} AND "Config" = {expected}
            """, ct, kept: true) == 1;
    }

    public Task UpdateCredentialConfigAsync(Guid credentialId, string config, DateTime now, CancellationToken ct) =>
        db.Credentials.Where(c => c.Id == credentialId)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.Config, config).SetProperty(c => c.UpdatedAt, now), ct);
}
