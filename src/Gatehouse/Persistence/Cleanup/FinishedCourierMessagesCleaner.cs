using Gatehouse.Courier;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Cleanup;

/// <summary>
/// Courier messages that are finished — sent, or abandoned after their last retry — and last changed at or before the
/// cutoff; their dispatch records go with them (cascading foreign key). Queued and processing messages always stay.
/// </summary>
public sealed class FinishedCourierMessagesCleaner : IExpiredDataCleaner
{
    public string Name => "finished courier messages";

    public Task<int> DeleteBatchAsync(GatehouseDbContext db, DateTime cutoff, int batchSize, CancellationToken ct) =>
        db.CourierMessages.Where(m => db.CourierMessages
                .Where(x => (x.Status == CourierMessageStatus.Sent || x.Status == CourierMessageStatus.Abandoned) && x.UpdatedAt <= cutoff)
                .OrderBy(x => x.UpdatedAt).Take(batchSize).Select(x => x.Id).Contains(m.Id))
            .ExecuteDeleteAsync(ct);
}
