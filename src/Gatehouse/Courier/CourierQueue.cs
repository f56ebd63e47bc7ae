using System.Text.Json.Nodes;
using Gatehouse.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Courier;

/// <summary>
/// The worker's side of <c>courier_messages</c>: claiming due messages atomically and recording each attempt.
/// A claim moves a row to <c>processing</c> with the worker's id and a lease; rows whose lease lapsed (a worker
/// died mid-send) can be claimed again.
/// </summary>
public sealed class CourierQueue(GatehouseDbContext db)
{
    /// <summary>
    /// Claims up to <paramref name="count"/> due messages for <paramref name="workerId"/> in one statement.
    /// PostgreSQL: <c>FOR UPDATE SKIP LOCKED</c> lets concurrent workers claim disjoint rows. SQLite: the single
    /// <c>UPDATE … RETURNING</c> runs under the database's write lock, and re-checks the status, so workers serialise.
    /// </summary>
    public async Task<List<CourierMessage>> ClaimAsync(string workerId, int count, DateTime now, TimeSpan lease, CancellationToken ct)
    {
        var until = now + lease;
        var nid = db.Nid;
        List<Guid> ids;
        if (db.Database.IsNpgsql())
        {
            ids = await db.Database.SqlQuery<Guid>($"""
                UPDATE courier_messages SET "Status" = 'processing', "ClaimedBy" = {workerId}, "ClaimedUntil" = {until}, "UpdatedAt" = {now}
                WHERE "Id" IN (
                    SELECT "Id" FROM courier_messages
                    WHERE "Nid" = {nid}
                      AND (("Status" = 'queued' AND "NextAttemptAt" <= {now} AND ("ClaimedUntil" IS NULL OR "ClaimedUntil" < {now}))
                        OR ("Status" = 'processing' AND "ClaimedUntil" < {now}))
                    ORDER BY "NextAttemptAt", "Id"
                    LIMIT {count}
                    FOR UPDATE SKIP LOCKED)
                RETURNING "Id" AS "Value"
                """).ToListAsync(ct);
        }
        else
        {
            ids = await db.Database.SqlQuery<Guid>($"""
                UPDATE courier_messages SET "Status" = 'processing', "ClaimedBy" = {workerId}, "ClaimedUntil" = {until}, "UpdatedAt" = {now}
                WHERE "Id" IN (
                    SELECT "Id" FROM courier_messages
                    WHERE "Nid" = {nid}
                      AND (("Status" = 'queued' AND "NextAttemptAt" <= {now} AND ("ClaimedUntil" IS NULL OR "ClaimedUntil" < {now}))
                        OR ("Status" = 'processing' AND "ClaimedUntil" < {now}))
                    ORDER BY "NextAttemptAt", "Id"
                    LIMIT {count})
                  AND (("Status" = 'queued' AND "NextAttemptAt" <= {now} AND ("ClaimedUntil" IS NULL OR "ClaimedUntil" < {now}))
                    OR ("Status" = 'processing' AND "ClaimedUntil" < {now}))
                RETURNING "Id" AS "Value"
                """).ToListAsync(ct);
        }
        if (ids.Count == 0) return [];
        var messages = await db.CourierMessages.AsNoTracking().Where(m => ids.Contains(m.Id)).ToListAsync(ct);
        return [.. messages.OrderBy(m => m.NextAttemptAt).ThenBy(m => m.Id)];
    }

    /// <summary>Gives claimed but unattempted messages back to the queue (a worker shutting down mid-batch).</summary>
    public Task<int> ReleaseAsync(IReadOnlyCollection<Guid> ids, string workerId, DateTime now, CancellationToken ct) =>
        db.CourierMessages
            .Where(m => ids.Contains(m.Id) && m.ClaimedBy == workerId && m.Status == CourierMessageStatus.Processing)
            .ExecuteUpdateAsync(u => u
                .SetProperty(m => m.Status, CourierMessageStatus.Queued)
                .SetProperty(m => m.ClaimedBy, (string?)null)
                .SetProperty(m => m.ClaimedUntil, (DateTime?)null)
                .SetProperty(m => m.UpdatedAt, now), ct);

    /// <summary>
    /// Records one attempt: the message's new status (and back-off) plus a dispatch row, in one transaction, only while
    /// <paramref name="workerId"/> still holds the claim. Returns false when the claim was lost (lease lapsed and taken over).
    /// </summary>
    public async Task<bool> RecordAttemptAsync(CourierMessage message, string workerId, string status, DateTime nextAttemptAt, string? error, DateTime now, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var sendCount = message.SendCount + 1;
        var updated = await db.CourierMessages
            .Where(m => m.Id == message.Id && m.ClaimedBy == workerId && m.Status == CourierMessageStatus.Processing)
            .ExecuteUpdateAsync(u => u
                .SetProperty(m => m.Status, status)
                .SetProperty(m => m.SendCount, sendCount)
                .SetProperty(m => m.NextAttemptAt, nextAttemptAt)
                .SetProperty(m => m.ClaimedBy, (string?)null)
                .SetProperty(m => m.ClaimedUntil, (DateTime?)null)
                .SetProperty(m => m.UpdatedAt, now), ct);
        if (updated == 0) return false;
        db.CourierDispatches.Add(new CourierDispatch
        {
            Id = Guid.CreateVersion7(),
            Nid = db.Nid,
            MessageId = message.Id,
            Status = error is null ? "success" : "failed",
            Error = error is null ? null : new JsonObject { ["message"] = error }.ToJsonString(),
            CreatedAt = now,
            UpdatedAt = now,
        });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        db.ChangeTracker.Clear();
        return true;
    }
}
