namespace Gatehouse.Persistence.Cleanup;

/// <summary>What one cleanup run deleted, per cleaner in run order.</summary>
public sealed record CleanupResult(IReadOnlyList<(string Name, long Deleted)> Tables)
{
    public long Total => Tables.Sum(t => t.Deleted);
}

/// <summary>
/// Runs every registered <see cref="IExpiredDataCleaner"/>: per table, bounded batches until a batch comes back short,
/// each its own short statement so a busy table is never locked for long; then a pause before the next table
/// (Kratos's <c>database.cleanup.sleep.tables</c>). Unlike Kratos, which deletes one batch per table and run, a run
/// empties the backlog, so one nightly run suffices. Rows are old when they expired at or before now − keep-last.
/// </summary>
public sealed class DatabaseCleanup(IEnumerable<IExpiredDataCleaner> cleaners, IServiceScopeFactory scopes, TimeProvider time, ILogger<DatabaseCleanup> logger)
{
    /// <summary>Every registered cleaner, in run order.</summary>
    public IReadOnlyList<IExpiredDataCleaner> Cleaners { get; } = [.. cleaners];

    public Task<CleanupResult> RunAsync(TimeSpan keepLast, int batchSize, TimeSpan sleepBetweenTables, Action<string, long>? progress, CancellationToken ct) =>
        RunAsync(Cleaners, keepLast, batchSize, limit: null, sleepBetweenTables, progress, ct);

    /// <summary>
    /// Runs <paramref name="selected"/> (some of <see cref="Cleaners"/>). With a <paramref name="limit"/> each cleaner
    /// deletes at most that many rows in this run (Hydra's <c>janitor --limit</c>), its last batch cut to fit.
    /// </summary>
    public async Task<CleanupResult> RunAsync(IEnumerable<IExpiredDataCleaner> selected, TimeSpan keepLast, int batchSize, long? limit, TimeSpan sleepBetweenTables, Action<string, long>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(selected);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (limit is < 1) throw new ArgumentOutOfRangeException(nameof(limit), "the limit must be positive");
        if (keepLast < TimeSpan.Zero) throw new ArgumentException("--keep-last must not be negative");
        var cutoff = time.GetUtcNow().UtcDateTime - keepLast;
        var results = new List<(string, long)>();
        var first = true;
        foreach (var cleaner in selected)
        {
            if (!first && sleepBetweenTables > TimeSpan.Zero) await Task.Delay(sleepBetweenTables, time, ct);
            first = false;
            long deleted = 0;
            while (limit is null || deleted < limit)
            {
                var batch = limit is { } most ? (int)Math.Min(batchSize, most - deleted) : batchSize;
                // A fresh context per batch: nothing tracked, and the connection goes back to the pool in between.
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
                var n = await cleaner.DeleteBatchAsync(db, cutoff, batch, ct);
                deleted += n;
                if (n < batch) break;
            }
            logger.LogDebug("Cleanup deleted {Count} {Name}", deleted, cleaner.Name);
            progress?.Invoke(cleaner.Name, deleted);
            results.Add((cleaner.Name, deleted));
        }
        return new CleanupResult(results);
    }
}
