using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Cleanup;

/// <summary>
/// Rate-limit counters whose window has ended: the next event for that subject starts a new window anyway, so they
/// count nothing. A counter that a request restarts (new window) while a batch is being deleted stays: the expiry is
/// checked again on the row being deleted, so a concurrently restarted window is never lost.
/// </summary>
public sealed class ExpiredRateLimitCountersCleaner : IExpiredDataCleaner
{
    public string Name => "expired rate-limit counters";

    public Task<int> DeleteBatchAsync(GatehouseDbContext db, DateTime cutoff, int batchSize, CancellationToken ct) =>
        db.RateLimitCounters
            .Where(c => c.ExpiresAt <= cutoff && db.RateLimitCounters.Where(x => x.ExpiresAt <= cutoff).OrderBy(x => x.ExpiresAt).Take(batchSize).Select(x => x.Key).Contains(c.Key))
            .ExecuteDeleteAsync(ct);
}
