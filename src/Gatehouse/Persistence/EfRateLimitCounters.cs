using Gatehouse.RateLimiting;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence;

/// <summary>
/// <see cref="IRateLimitCounters"/> on <c>rate_limit_counters</c>: read the row, decide, then write it back only if it is
/// still the row that was read (count and window in the WHERE clause). A writer that lost the race re-reads, so no
/// event is counted twice or missed and no limit is passed, on SQLite and PostgreSQL alike, across processes.
/// </summary>
public sealed class EfRateLimitCounters(GatehouseDbContext db, TimeProvider time) : IRateLimitCounters
{
    // Under heavy contention on one key a request gives up after this many lost races and is refused briefly.
    private const int MaxRaces = 16;

    public async Task<RateLimitDecision> TryCountAsync(string key, int limit, TimeSpan window, TimeSpan progressiveDelay, CancellationToken ct)
    {
        // The common case in one statement: no row yet (start a window), a window that ended (start a new one) or a count
        // under the limit (count this event) — exactly the cases the loop below allows without looking at the delay.
        var start = time.GetUtcNow().UtcDateTime;
        if (await CountUnderLimitAsync(key, limit, start, start + window, ct) is { } counted) return RateLimitDecision.Allow(counted);
        // At or over the limit in a running window: refused, unless a progressive delay has passed (read, decide, swap).
        for (var race = 0; race < MaxRaces; race++)
        {
            var now = time.GetUtcNow().UtcDateTime;
            var row = await ReadAsync(key, ct);
            if (row is null)
            {
                if (await InsertAsync(key, now, now + window, ct)) return RateLimitDecision.Allow(1);
                continue;
            }
            if (row.ExpiresAt <= now)
            {
                // The window ended: this event starts a new one.
                var restarted = await db.RateLimitCounters
                    .Where(c => c.Key == key && c.Count == row.Count && c.ExpiresAt == row.ExpiresAt)
                    .ExecuteUpdateAsync(s => s.SetProperty(c => c.Count, 1).SetProperty(c => c.WindowStart, now).SetProperty(c => c.LastAt, now).SetProperty(c => c.ExpiresAt, now + window), ct);
                if (restarted == 1) return RateLimitDecision.Allow(1);
                continue;
            }
            if (RateLimitWindow.BlockedUntil(row.Count, row.LastAt, row.ExpiresAt, limit, progressiveDelay) is { } until && until > now)
                return RateLimitDecision.Refuse(until - now);
            var swapped = await db.RateLimitCounters
                .Where(c => c.Key == key && c.Count == row.Count && c.ExpiresAt == row.ExpiresAt)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.Count, c => c.Count + 1).SetProperty(c => c.LastAt, now), ct);
            if (swapped == 1) return RateLimitDecision.Allow(row.Count + 1);
        }
        return RateLimitDecision.Refuse(TimeSpan.FromSeconds(1));
    }

    public async Task<RateLimitDecision> PeekAsync(string key, int limit, TimeSpan window, TimeSpan progressiveDelay, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var row = await ReadAsync(key, ct);
        if (row is null || row.ExpiresAt <= now) return RateLimitDecision.Allow(0);
        return RateLimitWindow.BlockedUntil(row.Count, row.LastAt, row.ExpiresAt, limit, progressiveDelay) is { } until && until > now
            ? RateLimitDecision.Refuse(until - now)
            : RateLimitDecision.Allow(row.Count);
    }

    public async Task UncountAsync(string key, CancellationToken ct) =>
        await db.RateLimitCounters.Where(c => c.Key == key && c.Count > 0).ExecuteUpdateAsync(s => s.SetProperty(c => c.Count, c => c.Count - 1), ct);

    // After every successful guess (a code login, a verification): raw, kept prepared on SQLite (RawSql).
    public async Task ResetAsync(string key, CancellationToken ct)
    {
        var nid = db.Nid;
        await RawSql.ExecuteAsync(db, $"""DELETE FROM rate_limit_counters WHERE "Nid" = {nid} AND "Key" = {key}""", ct, kept: true);
    }

    // Read before every counted event (a code sent, a code guessed): compiled, and prepared once on SQLite. The compare-and-swap
    // that follows names the row as read, so reading it on another connection (latest commit) changes nothing.
    private Task<RateLimitCounter?> ReadAsync(string key, CancellationToken ct) => ByKey.For(db)(db, key, ct);

    private static readonly PerProvider<Func<GatehouseDbContext, string, CancellationToken, Task<RateLimitCounter?>>> ByKey = new(() =>
        EF.CompileAsyncQuery((GatehouseDbContext db, string key, CancellationToken ct) =>
            db.RateLimitCounters.AsNoTracking().TagWith(SqlitePreparedReads.Tag).FirstOrDefault(c => c.Key == key)));

    /// <summary>
    /// Counts the event in one atomic statement when the limit cannot refuse it: inserts the counter, restarts an ended
    /// window, or adds one to a count under <paramref name="limit"/>. The new count, or null when the row is at or over the
    /// limit in a running window (nothing written then). Same statement on both providers (upsert with a condition:
    /// SQLite ≥ 3.35, PostgreSQL ≥ 9.5; the conflicting row is locked, so concurrent events never pass the limit).
    /// </summary>
    private async Task<int?> CountUnderLimitAsync(string key, int limit, DateTime now, DateTime expiresAt, CancellationToken ct)
    {
        var nid = db.Nid;
        // Raw (no LINQ pipeline around it) and kept prepared on SQLite (RawSql): every counted mail and guess runs it.
        var counts = await RawSql.QueryAsync(db, $"""
            INSERT INTO rate_limit_counters AS c ("Nid", "Key", "Count", "WindowStart", "LastAt", "ExpiresAt")
            VALUES ({nid}, {key}, 1, {now}, {now}, {expiresAt})
            ON CONFLICT ("Nid", "Key") DO UPDATE SET
                "Count" = CASE WHEN c."ExpiresAt" <= excluded."LastAt" THEN 1 ELSE c."Count" + 1 END,
                "WindowStart" = CASE WHEN c."ExpiresAt" <= excluded."LastAt" THEN excluded."WindowStart" ELSE c."WindowStart" END,
                "ExpiresAt" = CASE WHEN c."ExpiresAt" <= excluded."LastAt" THEN excluded."ExpiresAt" ELSE c."ExpiresAt" END,
                "LastAt" = excluded."LastAt"
            WHERE c."ExpiresAt" <= excluded."LastAt" OR c."Count" < {limit}
            RETURNING "Count"
            """, r => r.GetInt32(0), ct, kept: true);
        return counts.Count == 1 ? counts[0] : null;
    }

    /// <summary>Starts the counter; false when another request created it first (then the caller re-reads it).</summary>
    private async Task<bool> InsertAsync(string key, DateTime now, DateTime expiresAt, CancellationToken ct)
    {
        var nid = db.Nid;
        // Same statement on both providers (SQLite ≥ 3.24, PostgreSQL ≥ 9.5); no exception, no aborted transaction on a race.
        var inserted = await db.Database.ExecuteSqlAsync($"""
            INSERT INTO rate_limit_counters ("Nid", "Key", "Count", "WindowStart", "LastAt", "ExpiresAt")
            VALUES ({nid}, {key}, 1, {now}, {now}, {expiresAt})
            ON CONFLICT ("Nid", "Key") DO NOTHING
            """, ct);
        return inserted == 1;
    }
}
