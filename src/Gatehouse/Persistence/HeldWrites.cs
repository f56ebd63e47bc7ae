using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence;

/// <summary>
/// Writes held back for one commit (the unit of work of <see cref="Stores.EfUnitOfWork"/>): each a raw statement in EF's
/// format (<c>{0}</c>, <c>{1}</c> … for its values) with an optional check of the rows it changed. At
/// <see cref="CommitAsync"/> they run in the order they were held, in one transaction, so a flow submit's writes cost
/// one commit (on SQLite: one WAL append, one lock pair, one sync decision) instead of one per statement, and land
/// together or not at all.
/// <para>
/// On SQLite outside a transaction: on one kept connection and its kept prepared statements
/// (<see cref="SqlitePreparedReads.ExecuteBatch"/>, <c>BEGIN IMMEDIATE</c>: the write lock is held only while they run,
/// never across the request's other work). Elsewhere (PostgreSQL; SQLite inside a caller's transaction): through EF on the
/// context's connection, in the caller's transaction or one of its own.
/// </para>
/// </summary>
internal sealed class HeldWrites
{
    private readonly List<(string Format, object?[] Values, Func<int, Exception?>? Check)> _writes = [];
    private readonly List<Action> _afterCommit = [];

    public int Count => _writes.Count;

    public void Add(string format, object?[] values, Func<int, Exception?>? check) => _writes.Add((format, values, check));

    /// <summary>
    /// Runs <paramref name="action"/> once the held writes have run (a cache entry dropped only when what replaces it is
    /// in the database, so a read in between cannot cache the old rows again). It runs when the commit fails too.
    /// </summary>
    public void AfterCommit(Action action) => _afterCommit.Add(action);

    /// <summary>Runs the held writes in one transaction and forgets them (nothing to do when none are held), then the <see cref="AfterCommit"/> actions.</summary>
    public async Task CommitAsync(GatehouseDbContext db, CancellationToken ct)
    {
        var after = _afterCommit.ToArray();
        _afterCommit.Clear();
        try
        {
            await CommitWritesAsync(db, ct);
        }
        finally
        {
            foreach (var action in after) action();
        }
    }

    private async Task CommitWritesAsync(GatehouseDbContext db, CancellationToken ct)
    {
        if (_writes.Count == 0) return;
        var writes = _writes.ToArray();
        _writes.Clear();
        ct.ThrowIfCancellationRequested();
        if (SqlitePreparedReads.For(db) is { } kept)
        {
            var statements = new (string, Microsoft.Data.Sqlite.SqliteParameter[], Func<int, Exception?>?)[writes.Length];
            for (var i = 0; i < writes.Length; i++)
            {
                var (format, values, check) = writes[i];
                statements[i] = (RawSql.SqliteText(format, values.Length), RawSql.SqliteParameters(values), check);
            }
            kept.ExecuteBatch(statements, DirectSql.Report);
            return;
        }
        var own = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(ct) : null;
        try
        {
            foreach (var (format, values, check) in writes)
            {
                var rows = await RawSql.ExecuteRawAsync(db, format, values, ct);
                if (check?.Invoke(rows) is { } failed) throw failed;
            }
            if (own is not null) await own.CommitAsync(ct);
        }
        finally
        {
            if (own is not null) await own.DisposeAsync();
        }
    }
}
