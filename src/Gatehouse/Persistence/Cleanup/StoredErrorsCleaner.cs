using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Cleanup;

/// <summary>
/// Self-service errors stored for the error UI. They carry no expiry, so they count as expired
/// <see cref="Lifetime"/> after they were stored: long after the error page that was redirected to has read them.
/// </summary>
public sealed class StoredErrorsCleaner : IExpiredDataCleaner
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);

    public string Name => "stored self-service errors";

    public Task<int> DeleteBatchAsync(GatehouseDbContext db, DateTime cutoff, int batchSize, CancellationToken ct)
    {
        var storedBefore = cutoff - Lifetime;
        return db.SelfServiceErrors.Where(e => db.SelfServiceErrors.Where(x => x.CreatedAt <= storedBefore).OrderBy(x => x.CreatedAt).Take(batchSize).Select(x => x.Id).Contains(e.Id))
            .ExecuteDeleteAsync(ct);
    }
}
