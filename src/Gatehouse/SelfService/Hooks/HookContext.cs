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

    /// <summary>The method that completed the flow (<c>password</c>, <c>profile</c>, <c>code</c>, ...); none for before hooks.</summary>
    public string? Method { get; init; }

    /// <summary>The provider of a social sign-in (<c>oidc</c>), recorded with the session's method as Kratos does.</summary>
    public string? Provider { get; init; }

    /// <summary>The identity the flow is about; during a registration's pre-persist phase, one not saved yet.</summary>
    public Identity? Identity { get; set; }

    /// <summary>Whether <see cref="Identity"/> is stored; if not, changes are collected in <see cref="Changes"/> for the flow to save.</summary>
    public bool IdentityPersisted { get; set; }

    /// <summary>Changes from hooks to an identity that is not saved yet (applied by the flow when it saves).</summary>
    public IdentityChanges? Changes { get; set; }

    /// <summary>The session the flow created (login, recovery) or the one it runs in (settings).</summary>
    public Session? Session { get; set; }

    /// <summary>A session issued by a hook (<c>session</c> after registration).</summary>
    public IssuedSession? Issued { get; set; }

    /// <summary>The verification flow started for the new addresses, if any (for <c>show_verification_ui</c>).</summary>
    public string? VerificationUiUrl { get; set; }

    /// <summary>Where an HTML browser goes instead of the return URL (set by <c>show_verification_ui</c>).</summary>
    public string? RedirectBrowserTo { get; set; }
}
