namespace Gatehouse.SelfService.Flows.Settings;

/// <summary>The profile changes waiting for a new address to be verified (<see cref="PendingTraitsChange"/>). Implemented in Persistence.</summary>
public interface IPendingTraitsChangeStore
{
    /// <summary>Stores <paramref name="change"/> after deleting the identity's other pending changes (one at a time, as Kratos).</summary>
    Task ReplaceAsync(PendingTraitsChange change, CancellationToken ct);

    /// <summary>The pending (not yet applied) change a verification flow verifies, or null.</summary>
    Task<PendingTraitsChange?> FindPendingByVerificationFlowAsync(Guid verificationFlowId, CancellationToken ct);

    /// <summary>Marks the change applied; false when it was not pending any more (another request applied it first).</summary>
    Task<bool> MarkCompletedAsync(Guid id, DateTime now, CancellationToken ct);
}
