using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Cleanup;

/// <summary>Trusted JWT-bearer issuers past <c>expires_at</c> (as Hydra's janitor <c>FlushInactiveGrants</c>): no grant accepts them any more.</summary>
public sealed class ExpiredOAuth2TrustedJwtIssuersCleaner : IExpiredDataCleaner
{
    public string Name => "expired OAuth2 trusted JWT issuers";

    public Task<int> DeleteBatchAsync(GatehouseDbContext db, DateTime cutoff, int batchSize, CancellationToken ct) =>
        db.OAuth2TrustedJwtIssuers.Where(t => db.OAuth2TrustedJwtIssuers.Where(x => x.ExpiresAt <= cutoff).OrderBy(x => x.ExpiresAt).Take(batchSize).Select(x => x.Id).Contains(t.Id))
            .ExecuteDeleteAsync(ct);
}
