using Gatehouse.Identities;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Stores;

/// <summary>
/// <see cref="IVerifiableAddressStore"/> over EF: single-statement updates. They bypass the change tracker that keeps the
/// whoami cache current (<see cref="Sessions.WhoamiCacheInvalidation"/>), so an address marked verified drops its
/// identity's cached answers itself, once the update is in the database.
/// </summary>
public sealed class EfVerifiableAddressStore(GatehouseDbContext db, Sessions.WhoamiCache whoami) : IVerifiableAddressStore
{
    public Task<int> MarkSentIfPendingAsync(Guid addressId, DateTime now, CancellationToken ct) =>
        db.VerifiableAddresses.Where(a => a.Id == addressId && a.Status == VerifiableAddressStatus.Pending)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.Status, VerifiableAddressStatus.Sent).SetProperty(a => a.UpdatedAt, now), ct);

    public async Task MarkVerifiedAsync(Guid? identityId, string via, string value, DateTime now, CancellationToken ct)
    {
        if (identityId is not { } id)
        {
            await db.VerifiableAddresses.Where(a => a.IdentityId == identityId && a.Via == via && a.Value == value)
                .ExecuteUpdateAsync(s => s.SetProperty(a => a.Verified, true).SetProperty(a => a.Status, VerifiableAddressStatus.Completed)
                    .SetProperty(a => a.VerifiedAt, now).SetProperty(a => a.UpdatedAt, now), ct);
            return;
        }
        // Every code login runs it: raw, kept prepared on SQLite (RawSql); the same statement as the LINQ one above. Held for
        // the commit of a flow submit's unit of work when one is open (with the session and the flow's update).
        var (nid, completed) = (db.Nid, VerifiableAddressStatus.Completed);
        await RawSql.WriteAsync(db, $"""
            UPDATE identity_verifiable_addresses SET "Verified" = {true}, "Status" = {completed}, "VerifiedAt" = {now}, "UpdatedAt" = {now}
            WHERE "Nid" = {nid} AND "IdentityId" = {id} AND "Via" = {via} AND "Value" = {value}
            """, ct);
        RawSql.AfterWrites(db, () => whoami.Invalidate(id));
    }
}
