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

    // Read on every submit and fetch: a compiled query (no LINQ tree built and looked up per request), prepared once on
    // SQLite (SqlitePreparedReads).
    public Task<SelfServiceFlow?> FindAsync(Guid id, string kind, CancellationToken ct) => ById.For(db)(db, id, kind, ct);

    private static readonly PerProvider<Func<GatehouseDbContext, Guid, string, CancellationToken, Task<SelfServiceFlow?>>> ById = new(() =>
        EF.CompileAsyncQuery((GatehouseDbContext db, Guid id, string kind, CancellationToken ct) =>
            db.Flows.AsNoTracking().TagWith(SqlitePreparedReads.Tag).FirstOrDefault(f => f.Id == id && f.Kind == kind)));
}
