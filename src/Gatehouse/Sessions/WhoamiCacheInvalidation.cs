using System.Data.Common;
using System.Runtime.CompilerServices;
using Gatehouse.Identities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Gatehouse.Sessions;

/// <summary>
/// Invalidates <see cref="WhoamiCache"/> answers for every tracked change <c>SaveChanges</c> writes to a session, a
/// session device, an identity or an identity's addresses — once the change is committed: right after
/// <c>SaveChanges</c>, or, inside an explicit transaction, when that transaction ends. (Bulk
/// <c>ExecuteUpdate</c>/<c>ExecuteDelete</c> calls bypass the change tracker; their callers invalidate.)
/// </summary>
public sealed class WhoamiCacheInvalidation(WhoamiCache cache) : SaveChangesInterceptor, IDbTransactionInterceptor
{
    // Keys collected per context between SavingChanges and the commit.
    private static readonly ConditionalWeakTable<DbContext, HashSet<Guid>> Pending = [];

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Collect(eventData.Context);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Collect(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        FlushUnlessInTransaction(eventData.Context);
        return result;
    }

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        FlushUnlessInTransaction(eventData.Context);
        return ValueTask.FromResult(result);
    }

    // A failed save may still have written part of its statements outside a transaction: invalidate anyway.
    public override void SaveChangesFailed(DbContextErrorEventData eventData) => FlushUnlessInTransaction(eventData.Context);

    public override Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        FlushUnlessInTransaction(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Flush(eventData.Context);

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Flush(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Flush(eventData.Context);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Flush(eventData.Context);
        return Task.CompletedTask;
    }

    private void Collect(DbContext? context)
    {
        if (context is null || !cache.Configured) return;
        HashSet<Guid>? keys = null;
        foreach (var entry in context.ChangeTracker.Entries())
        {
            if (entry.State is not (EntityState.Modified or EntityState.Deleted or EntityState.Added)) continue;
            var changed = entry.State != EntityState.Added;
            Guid? key = entry.Entity switch
            {
                // New sessions and identities have no cached answers; new devices and addresses change existing ones.
                Session s when changed => s.Id,
                Identity i when changed => i.Id,
                SessionDevice d => d.SessionId,
                VerifiableAddress a => a.IdentityId,
                RecoveryAddress a => a.IdentityId,
                _ => null,
            };
            if (key is { } k) (keys ??= Pending.GetOrCreateValue(context)).Add(k);
        }
    }

    private void FlushUnlessInTransaction(DbContext? context)
    {
        if (context?.Database.CurrentTransaction is null) Flush(context);
    }

    private void Flush(DbContext? context)
    {
        if (context is null || !Pending.TryGetValue(context, out var keys) || keys.Count == 0) return;
        foreach (var key in keys) cache.Invalidate(key);
        keys.Clear();
    }
}
