using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Cleanup;

/// <summary>Self-service flows of every kind past <c>expires_at</c> (Kratos deletes each flow table the same way).</summary>
public sealed class ExpiredFlowsCleaner : IExpiredDataCleaner
{
    public string Name => "expired self-service flows";

    public Task<int> DeleteBatchAsync(GatehouseDbContext db, DateTime cutoff, int batchSize, CancellationToken ct) =>
        db.Flows.Where(f => db.Flows.Where(x => x.ExpiresAt <= cutoff).OrderBy(x => x.ExpiresAt).Take(batchSize).Select(x => x.Id).Contains(f.Id))
            .ExecuteDeleteAsync(ct);
}
