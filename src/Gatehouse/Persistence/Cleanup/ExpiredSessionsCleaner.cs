using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Cleanup;

/// <summary>
/// Sessions past <c>expires_at</c> (as Kratos's <c>DeleteExpiredSessions</c>); their devices go with them through the
/// cascading foreign key. Revoked sessions that have not yet expired stay, as in Kratos: the admin API still lists them.
/// </summary>
public sealed class ExpiredSessionsCleaner : IExpiredDataCleaner
{
    public string Name => "expired sessions";

    public Task<int> DeleteBatchAsync(GatehouseDbContext db, DateTime cutoff, int batchSize, CancellationToken ct) =>
        db.Sessions.Where(s => db.Sessions.Where(x => x.ExpiresAt <= cutoff).OrderBy(x => x.ExpiresAt).Take(batchSize).Select(x => x.Id).Contains(s.Id))
            .ExecuteDeleteAsync(ct);
}
