using Gatehouse.OAuth2.Trust;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Stores;

/// <summary><see cref="ITrustedJwtIssuerStore"/> on <c>oauth2_trusted_jwt_issuers</c>.</summary>
public sealed class EfTrustedJwtIssuerStore(GatehouseDbContext db) : ITrustedJwtIssuerStore
{
    public async Task<bool> AddAsync(TrustedJwtIssuer trust, CancellationToken ct)
    {
        trust.Nid = db.Nid;
        db.OAuth2TrustedJwtIssuers.Add(trust);
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

    public Task<TrustedJwtIssuer?> FindAsync(Guid id, CancellationToken ct) =>
        db.OAuth2TrustedJwtIssuers.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id, ct);

    public Task<List<TrustedJwtIssuer>> ListAsync(int take, Guid after, string? issuer, CancellationToken ct) =>
        db.OAuth2TrustedJwtIssuers.AsNoTracking()
            .Where(t => t.Id > after && (issuer == null || t.Issuer == issuer))
            .OrderBy(t => t.Id).Take(take).ToListAsync(ct);

    public async Task<bool> DeleteAsync(Guid id, CancellationToken ct) =>
        await db.OAuth2TrustedJwtIssuers.Where(t => t.Id == id).ExecuteDeleteAsync(ct) > 0;

    public Task<List<TrustedJwtIssuer>> FindForAsync(string issuer, string subject, DateTime now, CancellationToken ct) =>
        db.OAuth2TrustedJwtIssuers.AsNoTracking()
            .Where(t => t.Issuer == issuer && (t.Subject == subject || t.AllowAnySubject) && t.ExpiresAt > now)
            .OrderByDescending(t => t.CreatedAt).Take(100).ToListAsync(ct);
}
