namespace Gatehouse.Persistence.Cleanup;

/// <summary>
/// Deletes one table's expired rows for <c>gatehouse cleanup sql</c> and the <c>serve</c> janitor. One small class per
/// table, registered with <see cref="CleanupServiceCollectionExtensions.AddExpiredDataCleaner{T}"/>; a feature that adds
/// a table with rows that expire adds its cleaner with that one line.
/// </summary>
public interface IExpiredDataCleaner
{
    /// <summary>What the rows are, for the progress lines ("expired sessions").</summary>
    string Name { get; }

    /// <summary>
    /// Deletes at most <paramref name="batchSize"/> rows that expired at or before <paramref name="cutoff"/>, choosing them
    /// by primary key in one bounded statement (so no lock is held for long), and returns how many it deleted.
    /// Rows that are still needed (unexpired, queued, in use) must never qualify, whatever the cutoff.
    /// </summary>
    Task<int> DeleteBatchAsync(GatehouseDbContext db, DateTime cutoff, int batchSize, CancellationToken ct);
}
