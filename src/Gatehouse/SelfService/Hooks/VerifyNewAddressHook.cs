using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Identities;
using Gatehouse.Schemas;
using Gatehouse.SelfService.Flows;

namespace Gatehouse.SelfService.Hooks;

/// <summary>
/// <c>verify_new_address</c> (settings.after.profile), as Kratos's <c>hook.VerifyNewAddress</c>: a profile change that
/// changes a verifiable address is not saved. The hook finds the changed addresses and stops the change before it is
/// persisted (<see cref="NewAddressVerificationRequired"/>); the settings flow then asks for a privileged session, refuses
/// more than one changed address or one another identity owns, and otherwise stores the change as pending and has a code
/// (or link) sent to the new address. The change is applied when that verification flow succeeds
/// (<see cref="Flows.Settings.PendingTraitsChanges"/>).
/// </summary>
public sealed class VerifyNewAddressHook(IdentitySchemaRegistry schemas, IIdentityReader reader) : IFlowHook
{
    public const string HookName = "verify_new_address";

    public string Name => HookName;

    public bool RunsIn(HookPhase phase, HookConfig config) => phase == HookPhase.PrePersist;

    public async Task<IdentityChanges?> ExecuteAsync(HookConfig config, HookContext context, CancellationToken ct)
    {
        if (context.FlowKind != FlowKinds.Settings || context.Method != "profile" || context.Identity is not { } proposed || context.Session is null) return null;
        var stored = await reader.FindAsync(proposed.Id, ct);
        if (stored is null) return null;
        var schema = schemas.Find(proposed.SchemaId) ?? schemas.Default;
        var validation = schema.Validate(JsonNode.Parse(proposed.Traits) ?? new JsonObject());
        // Kratos's findChangedAddresses: a proposed address whose value the identity does not have on that channel.
        var changed = validation.VerifiableAddresses
            .Where(p => !stored.VerifiableAddresses.Any(a => a.Via == p.Via && a.Value == p.Value))
            .Distinct()
            .ToList();
        if (changed.Count == 0) return null;
        var ownedByAnother = false;
        if (changed.Count == 1)
        {
            var owner = await reader.FindByVerifiableAddressAsync(changed[0].Via, changed[0].Value, ct);
            ownedByAnother = owner is not null && owner.Id != stored.Id;
        }
        throw new NewAddressVerificationRequired(changed, ownedByAnother, proposed.Traits);
    }
}

/// <summary>
/// Thrown by <see cref="VerifyNewAddressHook"/>: the profile change changes <see cref="Changed"/> and must wait until the
/// new address is verified. The settings flow answers it (nothing of the change is written).
/// </summary>
public sealed class NewAddressVerificationRequired : Exception
{
    public NewAddressVerificationRequired(IReadOnlyList<AddressSpec> changed, bool ownedByAnother, string proposedTraits)
        : base("the profile change changes a verifiable address, which must be verified first")
    {
        Changed = changed;
        OwnedByAnother = ownedByAnother;
        ProposedTraits = proposedTraits;
    }

    public NewAddressVerificationRequired()
        : this([], false, "{}")
    {
    }

    public NewAddressVerificationRequired(string message)
        : base(message)
    {
        Changed = [];
        ProposedTraits = "{}";
    }

    public NewAddressVerificationRequired(string message, Exception inner)
        : base(message, inner)
    {
        Changed = [];
        ProposedTraits = "{}";
    }

    /// <summary>The verifiable addresses the change adds or changes (normalised).</summary>
    public IReadOnlyList<AddressSpec> Changed { get; }

    /// <summary>Whether the one changed address is another identity's verifiable address.</summary>
    public bool OwnedByAnother { get; }

    /// <summary>The traits the change proposes (after earlier pre-persist hooks).</summary>
    public string ProposedTraits { get; }
}
