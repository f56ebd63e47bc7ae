using Gatehouse.OAuth2.Clients;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Stores;

/// <summary><see cref="IOAuth2ClientStore"/> on <c>oauth2_clients</c>.</summary>
public sealed class EfOAuth2ClientStore(GatehouseDbContext db) : IOAuth2ClientStore
{
    public Task<bool> InsertAsync(OAuth2Client client, CancellationToken ct)
    {
        client.Nid = db.Nid;
        return SaveAsync(() => db.OAuth2Clients.Add(client), ct);
    }

    // Read on every client authentication and authorization request the client cache cannot answer: compiled, prepared once on SQLite.
    public Task<OAuth2Client?> FindAsync(string clientId, CancellationToken ct) => ById.For(db)(db, clientId, ct);

    private static readonly PerProvider<Func<GatehouseDbContext, string, CancellationToken, Task<OAuth2Client?>>> ById = new(() =>
        EF.CompileAsyncQuery((GatehouseDbContext db, string clientId, CancellationToken ct) =>
            db.OAuth2Clients.AsNoTracking().TagWith(SqlitePreparedReads.Tag).FirstOrDefault(c => c.ClientId == clientId)));

    public Task<List<OAuth2Client>> ListAsync(Guid after, string? name, string? owner, int take, CancellationToken ct)
    {
        var q = db.OAuth2Clients.AsNoTracking().Where(c => c.Pk > after);
        if (!string.IsNullOrEmpty(name)) q = q.Where(c => c.ClientName == name);
        if (!string.IsNullOrEmpty(owner)) q = q.Where(c => c.Owner == owner);
        return q.OrderBy(c => c.Pk).Take(take).ToListAsync(ct);
    }

    public Task<bool> UpdateAsync(OAuth2Client client, CancellationToken ct) => SaveAsync(() => db.OAuth2Clients.Update(client), ct);

    public async Task<bool> UpdateIfRegistrationTokenAsync(OAuth2Client client, string expectedRegistrationTokenHash, CancellationToken ct)
    {
        // The conditional UPDATE claims the row (a row lock on PostgreSQL, the write lock on SQLite) before the full write.
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var claimed = await db.OAuth2Clients
            .Where(c => c.ClientId == client.ClientId && c.RegistrationAccessTokenHash == expectedRegistrationTokenHash && expectedRegistrationTokenHash != "")
            .ExecuteUpdateAsync(u => u.SetProperty(c => c.RegistrationAccessTokenHash, client.RegistrationAccessTokenHash), ct);
        if (claimed == 0) return false;
        if (!await SaveAsync(() => db.OAuth2Clients.Update(client), ct)) return false;
        await tx.CommitAsync(ct);
        return true;
    }

    public Task<bool> DeleteWithTokensAsync(string clientId, CancellationToken ct) => DeleteAsync(clientId, null, ct);

    public Task<bool> DeleteWithTokensIfRegistrationTokenAsync(string clientId, string registrationTokenHash, CancellationToken ct) =>
        registrationTokenHash.Length == 0 ? Task.FromResult(false) : DeleteAsync(clientId, registrationTokenHash, ct);

    private async Task<bool> DeleteAsync(string clientId, string? registrationTokenHash, CancellationToken ct)
    {
        // The client's tokens and forced subject identifiers go with it (Hydra's foreign keys cascade), in one transaction.
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var rows = db.OAuth2Clients.Where(c => c.ClientId == clientId);
        if (registrationTokenHash is not null) rows = rows.Where(c => c.RegistrationAccessTokenHash == registrationTokenHash);
        if (await rows.ExecuteDeleteAsync(ct) == 0) return false;
        await db.OAuth2Tokens.Where(t => t.ClientId == clientId).ExecuteDeleteAsync(ct);
        await db.OAuth2ForcedSubjectIdentifiers.Where(f => f.ClientId == clientId).ExecuteDeleteAsync(ct);
        await tx.CommitAsync(ct);
        return true;
    }

    private async Task<bool> SaveAsync(Action track, CancellationToken ct)
    {
        try
        {
            track();
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
        {
            return false;
        }
        finally
        {
            db.ChangeTracker.Clear();
        }
    }
}
