using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Cleanup;

/// <summary>FedCM nonces (<c>selfservice_fedcm_nonces</c>) past their expiry: a token carrying one is refused anyway.</summary>
public sealed class ExpiredFedcmNoncesCleaner : IExpiredDataCleaner
{
    public string Name => "expired FedCM nonces";

    public Task<int> DeleteBatchAsync(GatehouseDbContext db, DateTime cutoff, int batchSize, CancellationToken ct) =>
        db.FedcmNonces.Where(a => db.FedcmNonces.Where(x => x.ExpiresAt <= cutoff).OrderBy(x => x.ExpiresAt).Take(batchSize).Select(x => x.Pk).Contains(a.Pk))
            .ExecuteDeleteAsync(ct);
}
