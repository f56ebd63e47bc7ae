using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Cleanup;

/// <summary>Recovery/verification codes and link tokens past <c>expires_at</c>: they can no longer be redeemed.</summary>
public sealed class ExpiredCodesCleaner : IExpiredDataCleaner
{
    public string Name => "expired one-time codes";

    public Task<int> DeleteBatchAsync(GatehouseDbContext db, DateTime cutoff, int batchSize, CancellationToken ct) =>
        db.Codes.Where(c => db.Codes.Where(x => x.ExpiresAt <= cutoff).OrderBy(x => x.ExpiresAt).Take(batchSize).Select(x => x.Id).Contains(c.Id))
            .ExecuteDeleteAsync(ct);
}
