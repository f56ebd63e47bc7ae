namespace Gatehouse.SelfService.Flows;

/// <summary>Stores self-service flows (Kratos's flow persisters); implemented in <c>Persistence/Stores</c>.</summary>
public interface IFlowStore
{
    /// <summary>Saves a new flow (stamping the tenant).</summary>
    Task InsertAsync(SelfServiceFlow flow, CancellationToken ct);

    /// <summary>Saves a changed flow: the columns changed since this request read or wrote it, else the whole flow.</summary>
    Task UpdateAsync(SelfServiceFlow flow, CancellationToken ct);

    /// <summary>
    /// Replaces the flow's internal context only if it still is <paramref name="expected"/> (compare-and-swap): how a
    /// one-time secret kept there (a WebAuthn challenge) is spent exactly once, even by concurrent submits.
    /// </summary>
    Task<bool> SwapInternalContextAsync(Guid id, string? expected, string? replacement, DateTime now, CancellationToken ct);

    /// <summary>Deletes the test login flow with this id; false when there is none (or the flow is not a test flow).</summary>
    Task<bool> DeleteTestFlowAsync(Guid id, CancellationToken ct);

    /// <summary>The flow of this kind with this id, or null (none, or another kind of flow).</summary>
    Task<SelfServiceFlow?> FindAsync(Guid id, string kind, CancellationToken ct);
}
