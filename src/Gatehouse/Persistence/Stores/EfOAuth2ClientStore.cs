using Gatehouse.OAuth2.Clients;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Stores;

/// <summary><see cref="IOAuth2ClientStore"/> on <c>oauth2_clients</c>.</summary>
public sealed class EfOAuth2ClientStore(GatehouseDbContext db) : IOAuth2ClientStore
{
    public Task<bool> InsertAsync(OAuth2Client client, CancellationToken ct)
    {
        client.Nid = db.Nid;
        db.OAuth2Clients.Add(client);
        return SaveAsync(ct);
    }

    public Task<OAuth2Client?> FindAsync(string clientId, CancellationToken ct) =>
        db.OAuth2Clients.AsNoTracking().FirstOrDefaultAsync(c => c.ClientId == clientId, ct);

    public Task<List<OAuth2Client>> ListAsync(Guid after, string? name, string? owner, int take, CancellationToken ct)
    {
        var q = db.OAuth2Clients.AsNoTracking().Where(c => c.Pk > after);
        if (!string.IsNullOrEmpty(name)) q = q.Where(c => c.ClientName == name);
        if (!string.IsNullOrEmpty(owner)) q = q.Where(c => c.Owner == owner);
        return q.OrderBy(c => c.Pk).Take(take).ToListAsync(ct);
    }

    public Task<bool> UpdateAsync(OAuth2Client client, CancellationToken ct)
    {
        db.OAuth2Clients.Update(client);
        return SaveAsync(ct);
    }

    public async Task<bool> DeleteWithTokensAsync(string clientId, CancellationToken ct)
    {
        // The client's tokens go with it (Hydra's foreign keys cascade), in one transaction.
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (await db.OAuth2Clients.Where(c => c.ClientId == clientId).ExecuteDeleteAsync(ct) == 0) return false;
        await db.OAuth2Tokens.Where(t => t.ClientId == clientId).ExecuteDeleteAsync(ct);
        await tx.CommitAsync(ct);
        return true;
    }

    private async Task<bool> SaveAsync(CancellationToken ct)
    {
        try
        {
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
