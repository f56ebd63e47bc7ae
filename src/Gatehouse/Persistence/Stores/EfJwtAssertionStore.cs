using Gatehouse.OAuth2.Tokens;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Stores;

/// <summary><see cref="IJwtAssertionStore"/> on <c>oauth2_jwt_assertions</c>; the unique index on the jti's hash makes a use count once.</summary>
public sealed class EfJwtAssertionStore(GatehouseDbContext db) : IJwtAssertionStore
{
    public Task<bool> IsKnownAsync(byte[] signature, DateTime now, CancellationToken ct) =>
        db.OAuth2JwtAssertions.AnyAsync(a => a.Signature == signature && a.ExpiresAt > now, ct);

    public async Task<bool> TryRecordAsync(byte[] signature, DateTime expiresAt, DateTime now, CancellationToken ct)
    {
        // An earlier use that expired no longer blocks the jti (Hydra deletes expired entries before inserting).
        await db.OAuth2JwtAssertions.Where(a => a.Signature == signature && a.ExpiresAt <= now).ExecuteDeleteAsync(ct);
        db.OAuth2JwtAssertions.Add(new UsedJwtAssertion { Pk = Guid.CreateVersion7(), Nid = db.Nid, Signature = signature, ExpiresAt = expiresAt });
        try
        {
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateException e) when (DbErrors.IsUniqueViolation(e))
        {
            return false;
        }
        finally
        {
            db.ChangeTracker.Clear();
        }
    }
}
