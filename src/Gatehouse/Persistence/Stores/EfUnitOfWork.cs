using Gatehouse.SelfService.Flows;

namespace Gatehouse.Persistence.Stores;

/// <summary>
/// <see cref="IUnitOfWork"/> on the request's context: while open, <see cref="RawSql.WriteAsync"/> holds the writes it is
/// given (<see cref="HeldWrites"/>) instead of running them; a commit runs them in one transaction. Scoped, like the context.
/// </summary>
public sealed class EfUnitOfWork(GatehouseDbContext db) : IUnitOfWork, IDisposable
{
    public IAsyncDisposable Begin(CancellationToken ct)
    {
        if (db.HeldWrites is not null) return NoScope.Instance;
        db.HeldWrites = new HeldWrites();
        return new Scope(this, ct);
    }

    public async Task CommitAsync(CancellationToken ct)
    {
        if (db.HeldWrites is not { } held) return;
        db.HeldWrites = null;
        await held.CommitAsync(db, ct);
    }

    /// <summary>A unit of work never outlives the request's scope (the context is pooled).</summary>
    public void Dispose() => db.HeldWrites = null;

    private sealed class Scope(EfUnitOfWork owner, CancellationToken ct) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => new(owner.CommitAsync(ct));
    }

    private sealed class NoScope : IAsyncDisposable
    {
        public static readonly NoScope Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
