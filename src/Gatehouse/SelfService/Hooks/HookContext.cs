using System.Text.Json.Nodes;
using Gatehouse.Identities;
using Gatehouse.SelfService.Flows;
using Gatehouse.Sessions;

namespace Gatehouse.SelfService.Hooks;

/// <summary>What a hook sees of the flow it runs in, and what it leaves for the flow's answer.</summary>
public sealed class HookContext
{
    public required HttpContext Http { get; init; }
    public required SelfServiceFlow Flow { get; init; }

    /// <summary><c>login</c>, <c>registration</c>, <c>settings</c>, <c>recovery</c> or <c>verification</c>.</summary>
    public required string FlowKind { get; init; }

    /// <summary>The phase the hooks run in now (set by the <see cref="HookRunner"/> before each hook).</summary>
    public HookPhase Phase { get; set; }

    /// <summary>The method that completed the flow (<c>password</c>, <c>profile</c>, <c>code</c>, ...); none for before hooks.</summary>
    public string? Method { get; init; }

    /// <summary>The provider of a social sign-in (<c>oidc</c>), recorded with the session's method as Kratos does.</summary>
    public string? Provider { get; init; }

    /// <summary>
    /// A registration's session method entry as the method made it (social sign-in: with the provider's <c>acr</c> /
    /// <c>amr</c> and the level they give); the <c>session</c> hook records it instead of a plain aal1 entry.
    /// </summary>
    public AuthenticationMethod? Proof { get; init; }

    /// <summary>The identity the flow is about; during a registration's pre-persist phase, one not saved yet.</summary>
    public Identity? Identity { get; set; }

    /// <summary>
    /// The identity as it was before the flow changed it: a settings profile change's post-persist phase has it (Kratos's
    /// <c>PostHookPostPersistExecutorParams.Previous</c>), so a hook can tell what the change did.
    /// </summary>
    public Identity? Previous { get; set; }

    /// <summary>Whether <see cref="Identity"/> is stored; if not, changes are collected in <see cref="Changes"/> for the flow to save.</summary>
    public bool IdentityPersisted { get; set; }

    /// <summary>Changes from hooks to an identity that is not saved yet (applied by the flow when it saves).</summary>
    public IdentityChanges? Changes { get; set; }

    /// <summary>The session the flow created (login, recovery) or the one it runs in (settings).</summary>
    public Session? Session { get; set; }

    /// <summary>A session issued by a hook (<c>session</c> after registration).</summary>
    public IssuedSession? Issued { get; set; }

    /// <summary>
    /// The verification flow Kratos's verification hook started last for the identity's addresses (registration, or a
    /// profile change that added one), if any: what <c>show_verification_ui</c> points the client to.
    /// </summary>
    public StartedVerification? Verification { get; set; }

    /// <summary>
    /// The <c>continue_with</c> items the hooks added, in order (Kratos's transient <c>ContinueWithItems</c>); the flow's
    /// success answer carries them.
    /// </summary>
    public List<JsonObject> ContinueWith { get; } = [];

    /// <summary>Where an HTML browser goes instead of the return URL (set by <c>show_verification_ui</c>).</summary>
    public string? RedirectBrowserTo { get; set; }
}

/// <summary>
/// A verification flow started after a registration or a profile change, for one address: its id, the address, and its
/// UI URL (where an HTML browser is sent).
/// </summary>
public sealed record StartedVerification(SelfServiceFlow Flow, string Address, string UiUrl)
{
    /// <summary>
    /// The <c>show_verification_ui</c> item as Kratos's verification hook makes it: the flow's UI URL only for a browser
    /// flow (<c>hook/verification.go</c>; the item's <c>url</c> is omitted when empty, as for native clients).
    /// </summary>
    public JsonObject ContinueWith()
    {
        var f = new JsonObject { ["id"] = Flow.Id.ToString(), ["verifiable_address"] = Address };
        if (Flow.Type == FlowTypes.Browser) f["url"] = UiUrl;
        return new JsonObject { ["action"] = "show_verification_ui", ["flow"] = f };
    }
}
