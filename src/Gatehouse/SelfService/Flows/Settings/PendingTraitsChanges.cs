using System.Text.Json.Nodes;
using Gatehouse.Identities;
using Gatehouse.SelfService.Hooks;
using Gatehouse.Sessions;

namespace Gatehouse.SelfService.Flows.Settings;

/// <summary>
/// Applies a profile change the <c>verify_new_address</c> hook held back, once its verification flow succeeded (Kratos's
/// settings <c>HookExecutor.ApplyPendingTraitsChange</c>): only while the session that proposed it is still active and of
/// the same identity, and only if the identity's traits are still those it was proposed against. Then the new address is
/// verified with the traits in one save, and the <c>settings.after.profile</c> post-persist hooks run with the settings
/// flow the change came from.
/// </summary>
public sealed class PendingTraitsChanges(
    IPendingTraitsChangeStore store,
    SessionManager sessions,
    IdentityManager identities,
    FlowService flows,
    HookRunner hooks,
    WhoamiCache whoami)
{
    /// <summary>The pending change <paramref name="verificationFlowId"/> verifies, or null for a flow that verifies a stored address.</summary>
    public Task<PendingTraitsChange?> FindAsync(Guid verificationFlowId, CancellationToken ct) => store.FindPendingByVerificationFlowAsync(verificationFlowId, ct);

    /// <summary>Applies <paramref name="change"/> if it still may be; the identity as saved when it was.</summary>
    public async Task<PendingTraitsOutcome> ApplyAsync(HttpContext http, PendingTraitsChange change, CancellationToken ct)
    {
        // A deleted session left a NULL (Kratos: ON DELETE SET NULL), a revoked or expired one is inactive: the change
        // was proposed by a sign-in that no longer counts, so it is not applied.
        if (change.SessionId is not { } sessionId) return new(PendingTraitsResult.Refused, null);
        var session = await sessions.FindActiveAsync(sessionId, ct);
        if (session is null || session.IdentityId != change.IdentityId) return new(PendingTraitsResult.Refused, null);
        // The identity before the change, for post-persist hooks that compare (notify_previous_addresses), as Kratos passes it.
        var previous = await identities.GetAsync(change.IdentityId, ct);
        var traits = JsonNode.Parse(change.ProposedTraits) ?? new JsonObject();
        var outcome = await identities.ApplyPendingTraitsAsync(change.IdentityId, PendingTraitsChange.HashTraits, change.OriginalTraitsHash, traits,
            change.NewAddressVia, change.NewAddressValue, ct);
        if (outcome.Result != PendingTraitsResult.Applied) return outcome;
        // The flow state machine and the one-time code already make this single use; the status records it was applied.
        await store.MarkCompletedAsync(change.Id, flows.Now(), ct);
        whoami.Invalidate(change.IdentityId);
        var updated = await identities.GetAsync(change.IdentityId, ct);
        var origin = await flows.LoadAsync(change.OriginSettingsFlowId, FlowKinds.Settings, ct);
        var context = new HookContext
        {
            Http = http, Flow = origin, FlowKind = FlowKinds.Settings, Method = "profile", Session = session,
            Previous = previous, Identity = updated, IdentityPersisted = true,
        };
        // As Kratos: the change is committed, so a failing hook cannot undo it; its error fails the verification request.
        await hooks.RunAfterAsync(HookPhase.PostPersist, context, ct);
        return new(PendingTraitsResult.Applied, context.Identity);
    }
}
