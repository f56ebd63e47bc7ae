using Gatehouse.SelfService.Flows.Settings;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Stores;

/// <summary><see cref="IPendingTraitsChangeStore"/> over EF.</summary>
public sealed class EfPendingTraitsChangeStore(GatehouseDbContext db) : IPendingTraitsChangeStore
{
    public async Task ReplaceAsync(PendingTraitsChange change, CancellationToken ct)
    {
        change.Nid = db.Nid;
        await using var tx = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(ct) : null;
        await db.PendingTraitsChanges.Where(p => p.IdentityId == change.IdentityId && p.Status == PendingTraitsChangeStatus.Pending).ExecuteDeleteAsync(ct);
        db.PendingTraitsChanges.Add(change);
        await db.SaveChangesAsync(ct);
        db.Entry(change).State = EntityState.Detached;
        if (tx is not null) await tx.CommitAsync(ct);
    }

    public Task<PendingTraitsChange?> FindPendingByVerificationFlowAsync(Guid verificationFlowId, CancellationToken ct) =>
        db.PendingTraitsChanges.AsNoTracking()
            .FirstOrDefaultAsync(p => p.VerificationFlowId == verificationFlowId && p.Status == PendingTraitsChangeStatus.Pending, ct);

    public async Task<bool> MarkCompletedAsync(Guid id, DateTime now, CancellationToken ct) =>
        await db.PendingTraitsChanges.Where(p => p.Id == id && p.Status == PendingTraitsChangeStatus.Pending)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.Status, PendingTraitsChangeStatus.Completed).SetProperty(p => p.UpdatedAt, now), ct) > 0;
}
