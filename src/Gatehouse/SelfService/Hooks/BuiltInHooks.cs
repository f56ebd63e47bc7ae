using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http.Errors;
using Gatehouse.Identities;
using Gatehouse.SelfService.Csrf;
using Gatehouse.SelfService.Flows;
using Gatehouse.Sessions;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Hooks;

/// <summary><c>session</c> (registration.after.&lt;method&gt;): signs the new identity in. Without it a registration creates no session.</summary>
public sealed class SessionHook(SessionManager sessions, CsrfTokens csrf, TimeProvider time) : IFlowHook
{
    public string Name => "session";

    public bool RunsIn(HookPhase phase, HookConfig config) => phase == HookPhase.PostPersist;

    public async Task<IdentityChanges?> ExecuteAsync(HookConfig config, HookContext context, CancellationToken ct)
    {
        if (context.FlowKind != FlowKinds.Registration || context.Identity is null) return null;
        var issued = await sessions.IssueAsync(context.Identity, context.Proof ?? new AuthenticationMethod(context.Method ?? "password", "aal1", time.GetUtcNow().UtcDateTime, context.Provider), context.Http, ct);
        if (context.Flow.Type == FlowTypes.Browser)
        {
            // Kratos's IssueCookie gives a browser without a session (or with another identity's) a new anti-CSRF token;
            // a new identity's session is always such a case.
            csrf.Regenerate(context.Http);
            sessions.WriteCookie(context.Http, issued);
        }
        context.Issued = issued;
        context.Session = issued.Session;
        return null;
    }
}

/// <summary>
/// <c>revoke_active_sessions</c> (login.after, recovery.after, settings.after.&lt;credential method&gt;): ends every
/// other session of the identity, keeping the one the flow created or runs in.
/// </summary>
public sealed class RevokeActiveSessionsHook(SessionManager sessions) : IFlowHook
{
    public string Name => "revoke_active_sessions";

    public bool RunsIn(HookPhase phase, HookConfig config) => phase == HookPhase.PostPersist;

    public async Task<IdentityChanges?> ExecuteAsync(HookConfig config, HookContext context, CancellationToken ct)
    {
        if (context.Identity is null) return null;
        await sessions.RevokeOthersAsync(context.Identity.Id, context.Session?.Id ?? Guid.Empty, ct);
        return null;
    }
}

/// <summary>
/// <c>require_verified_address</c> (login.after): refuses the login, before any session is issued, unless one of the
/// identity's verifiable addresses is verified. As Kratos does by default, it then has a verification flow started and
/// mailed (<see cref="VerifiedAddressRequired"/>, answered by the login flow); with
/// <c>feature_flags.legacy_require_verified_login_error</c> it answers as Kratos's legacy behaviour does instead: the
/// flow with message 4000010 (400), and only for the password method.
/// </summary>
public sealed class RequireVerifiedAddressHook(GatehouseOptions options) : IFlowHook
{
    public string Name => "require_verified_address";

    public bool RunsIn(HookPhase phase, HookConfig config) => phase == HookPhase.PrePersist;

    public Task<IdentityChanges?> ExecuteAsync(HookConfig config, HookContext context, CancellationToken ct)
    {
        if (context.FlowKind != FlowKinds.Login || context.Identity is not { } identity) return Task.FromResult<IdentityChanges?>(null);
        var legacy = options.FeatureFlags.LegacyRequireVerifiedLoginError;
        if (legacy && context.Method != "password") return Task.FromResult<IdentityChanges?>(null);
        if (identity.VerifiableAddresses.Count == 0)
        {
            throw new GatehouseError(500, "A misconfiguration prevents login. Expected to find a verification address but this identity does not have one assigned.",
                "invalid_configuration", "Invalid configuration");
        }
        if (identity.VerifiableAddresses.Any(a => a.Verified)) return Task.FromResult<IdentityChanges?>(null);
        if (legacy) throw new FlowHookInterrupt([(null, Messages.Error(4000010, "Account not active yet. Did you forget to verify your email address?"))]);
        throw new VerifiedAddressRequired();
    }

    /// <summary>Kratos's <c>ErrAddressNotVerified</c> (code 400; written with another status where Kratos does).</summary>
    public static GatehouseError AddressNotVerified(JsonObject? details = null, int? httpStatus = null) =>
        new(400, "Your account's email or phone address are not verified yet. Please check your email or phone inbox or re-request verification.",
            "session_verified_address_required", "your email or phone address is not yet verified", details) { HttpStatus = httpStatus };
}

/// <summary>
/// Thrown by <see cref="RequireVerifiedAddressHook"/>: the login must stop and the identity verify an address first.
/// The login flow starts (and mails) the verification flow and answers with it.
/// </summary>
public sealed class VerifiedAddressRequired : Exception
{
    public VerifiedAddressRequired()
        : base("the identity has no verified address")
    {
    }

    public VerifiedAddressRequired(string message)
        : base(message)
    {
    }

    public VerifiedAddressRequired(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>
/// <c>show_verification_ui</c> (registration.after.&lt;method&gt;, login.after.&lt;method&gt;, settings.after.profile),
/// as Kratos's <c>ShowVerificationUIHook</c>: the verification flow started for an address (after a registration, or a
/// profile change that added one) is added to the answer's <c>continue_with</c> (<c>show_verification_ui</c>), and HTML
/// browsers are sent to it instead of the return URL. Without this hook the answer names that flow only with
/// <c>feature_flags.legacy_continue_with_verification_ui</c>. Login starts no verification flow, so there it changes nothing.
/// </summary>
public sealed class ShowVerificationUiHook : IFlowHook
{
    public string Name => "show_verification_ui";

    public bool RunsIn(HookPhase phase, HookConfig config) => phase == HookPhase.PostPersist;

    public Task<IdentityChanges?> ExecuteAsync(HookConfig config, HookContext context, CancellationToken ct)
    {
        if (context.Verification is not { } started) return Task.FromResult<IdentityChanges?>(null);
        context.ContinueWith.Add(started.ContinueWith());
        if (context.Flow.Type == FlowTypes.Browser && !FlowService.WantsJson(context.Http.Request)) context.RedirectBrowserTo = started.UiUrl;
        return Task.FromResult<IdentityChanges?>(null);
    }
}
