using Gatehouse.SelfService.Flows;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Stores;

/// <summary><see cref="IFlowStore"/> over EF.</summary>
public sealed class EfFlowStore(GatehouseDbContext db) : IFlowStore
{
    public async Task InsertAsync(SelfServiceFlow flow, CancellationToken ct)
    {
        flow.Nid = db.Nid;
        db.Flows.Add(flow);
        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();
    }

    public async Task UpdateAsync(SelfServiceFlow flow, CancellationToken ct)
    {
        db.Flows.Update(flow);
        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();
    }

    public async Task<bool> SwapInternalContextAsync(Guid id, string? expected, string? replacement, DateTime now, CancellationToken ct) =>
        await db.Flows.Where(f => f.Id == id && f.InternalContext == expected)
            .ExecuteUpdateAsync(u => u.SetProperty(f => f.InternalContext, replacement).SetProperty(f => f.UpdatedAt, now), ct) == 1;

    public Task<SelfServiceFlow?> FindAsync(Guid id, string kind, CancellationToken ct) =>
        db.Flows.AsNoTracking().FirstOrDefaultAsync(f => f.Id == id && f.Kind == kind, ct);
}
