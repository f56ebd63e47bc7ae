namespace Gatehouse.SelfService.Flows;

/// <summary>Stores self-service flows (Kratos's flow persisters); implemented in <c>Persistence/Stores</c>.</summary>
public interface IFlowStore
{
    /// <summary>Saves a new flow (stamping the tenant).</summary>
    Task InsertAsync(SelfServiceFlow flow, CancellationToken ct);

    /// <summary>Saves a changed flow whole.</summary>
    Task UpdateAsync(SelfServiceFlow flow, CancellationToken ct);

    /// <summary>The flow of this kind with this id, or null (none, or another kind of flow).</summary>
    Task<SelfServiceFlow?> FindAsync(Guid id, string kind, CancellationToken ct);
}
