using Gatehouse.SelfService.Flows;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Stores;

/// <summary><see cref="IFlowStore"/> over EF.</summary>
public sealed class EfFlowStore(GatehouseDbContext db) : IFlowStore
{
    // The flows this request read or wrote, as stored (copies): an update then writes only the columns that changed since,
    // not the whole row — a flow's UI document is several kilobytes, and most updates change a state or one context.
    private readonly Dictionary<Guid, SelfServiceFlow> _stored = [];

    public async Task InsertAsync(SelfServiceFlow flow, CancellationToken ct)
    {
        flow.Nid = db.Nid;
        db.Flows.Add(flow);
        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();
        _stored[flow.Id] = Copy(flow);
    }

    public async Task UpdateAsync(SelfServiceFlow flow, CancellationToken ct)
    {
        if (_stored.TryGetValue(flow.Id, out var stored))
        {
            // Attached as read, then compared with what it is now: EF marks and writes the changed properties only.
            var entry = db.Flows.Attach(flow);
            entry.OriginalValues.SetValues(stored);
            entry.DetectChanges();
        }
        else db.Flows.Update(flow);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        finally
        {
            db.ChangeTracker.Clear();
        }
        _stored[flow.Id] = Copy(flow);
    }

    public async Task<bool> SwapInternalContextAsync(Guid id, string? expected, string? replacement, DateTime now, CancellationToken ct)
    {
        var swapped = await db.Flows.Where(f => f.Id == id && f.InternalContext == expected)
            .ExecuteUpdateAsync(u => u.SetProperty(f => f.InternalContext, replacement).SetProperty(f => f.UpdatedAt, now), ct) == 1;
        if (_stored.TryGetValue(id, out var stored))
        {
            if (swapped) (stored.InternalContext, stored.UpdatedAt) = (replacement, now);
            else _stored.Remove(id); // changed by another request: the next update writes the whole row, as before
        }
        return swapped;
    }

    public async Task<SelfServiceFlow?> FindAsync(Guid id, string kind, CancellationToken ct)
    {
        var flow = await FindStoredAsync(id, kind, ct);
        if (flow is not null) _stored[flow.Id] = Copy(flow);
        return flow;
    }

    /// <summary>A copy of the mapped (stored) properties; the ignored, answer-only ones are never written.</summary>
    private SelfServiceFlow Copy(SelfServiceFlow flow)
    {
        var copy = new SelfServiceFlow();
        foreach (var property in MappedProperties(db)) property.SetValue(copy, property.GetValue(flow));
        return copy;
    }

    private static System.Reflection.PropertyInfo[]? _mapped;

    private static System.Reflection.PropertyInfo[] MappedProperties(GatehouseDbContext db) => _mapped ??=
        [.. db.Model.FindEntityType(typeof(SelfServiceFlow))!.GetProperties().Select(p => p.PropertyInfo!)];

    // Read on every submit and fetch: a compiled query (no LINQ tree built and looked up per request), prepared once on
    // SQLite (SqlitePreparedReads).
    private Task<SelfServiceFlow?> FindStoredAsync(Guid id, string kind, CancellationToken ct) => ById.For(db)(db, id, kind, ct);

    private static readonly PerProvider<Func<GatehouseDbContext, Guid, string, CancellationToken, Task<SelfServiceFlow?>>> ById = new(() =>
        EF.CompileAsyncQuery((GatehouseDbContext db, Guid id, string kind, CancellationToken ct) =>
            db.Flows.AsNoTracking().TagWith(SqlitePreparedReads.Tag).FirstOrDefault(f => f.Id == id && f.Kind == kind)));
}
