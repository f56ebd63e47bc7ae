using Gatehouse.SelfService.Errors;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Stores;

/// <summary><see cref="ISelfServiceErrorStore"/> over EF.</summary>
public sealed class EfSelfServiceErrorStore(GatehouseDbContext db) : ISelfServiceErrorStore
{
    public async Task InsertAsync(SelfServiceError error, CancellationToken ct)
    {
        error.Nid = db.Nid;
        db.SelfServiceErrors.Add(error);
        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();
    }

    public async Task<SelfServiceError?> ReadAndMarkSeenAsync(Guid id, DateTime now, CancellationToken ct)
    {
        var record = await db.SelfServiceErrors.AsNoTracking().FirstOrDefaultAsync(e => e.Id == id, ct);
        if (record is null) return null;
        await db.SelfServiceErrors.Where(e => e.Id == id).ExecuteUpdateAsync(s => s.SetProperty(e => e.WasSeen, true).SetProperty(e => e.SeenAt, now), ct);
        return record;
    }
}
