using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Fido2NetLib;
using Fido2NetLib.Objects;
using Gatehouse.Config;
using Gatehouse.Identities;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Hooks;
using Gatehouse.SelfService.Ui;
using Gatehouse.Sessions;

namespace Gatehouse.SelfService.Strategies.WebAuthn;

/// <summary>
/// The <c>webauthn</c> method (Kratos's <c>selfservice/strategy/webauthn</c>): security keys. By default a second factor
/// (<c>aal2</c>): added in settings, asked for by <c>aal=aal2</c> logins. With <c>config.passwordless: true</c> a first
/// factor (<c>aal1</c>) instead: registration with a security key, and sign-in by identifier then key. Browser flows
/// only, as in Kratos. Challenges are kept and spent as the passkey method's (<see cref="PendingCeremony"/>).
/// </summary>
public sealed partial class WebAuthnStrategy(
    IPrivilegedIdentityStore store,
    IdentityManager identities,
    CredentialKinds kinds,
    SessionManager sessions,
    HookRunner hooks,
    FlowService flows,
    GatehouseOptions options,
    ILogger<WebAuthnStrategy> logger) : ILoginStrategy, IRegistrationStrategy, ISettingsStrategy, IStrategyDescriptor
{
    public const string MethodName = CredentialTypes.WebAuthn;
    public const string Group = "webauthn";

    private WebAuthnRelyingParty? _rp;

    public string Name => MethodName;

    public static string ConfigName => MethodName;

    public static bool IsEnabled(GatehouseOptions options) => options.Selfservice.Methods.Webauthn.Enabled;

    /// <summary><c>config.passwordless</c>: keys are a first factor (aal1) rather than a second (aal2).</summary>
    private bool Passwordless => options.Selfservice.Methods.Webauthn.Config.Passwordless;

    private WebAuthnRelyingParty RelyingParty => _rp ??= WebAuthnRelyingParty.From(options.Selfservice.Methods.Webauthn.Config.Rp, options);

    // Kratos's WebAuthnConfig: user verification discouraged (a security key's touch is the proof), no attachment preference.
    private static AuthenticatorSelection Selection => new()
    {
        ResidentKey = ResidentKeyRequirement.Discouraged,
        UserVerification = UserVerificationRequirement.Discouraged,
    };

    private static bool IsBrowser(SelfServiceFlow flow) => flow.Type == FlowTypes.Browser;

    private void AddScript(UiContainer ui)
    {
        if (!WebAuthnScript.IsIn(ui)) ui.Nodes.Add(WebAuthnScript.Node(flows.PublicBase));
    }

    private Task<string?> SpendAsync(SelfServiceFlow flow, CancellationToken ct) => PendingCeremony.SpendAsync(flows, flow, Name, ct);

    /// <summary>The identity's webauthn credential and its keys (none: an empty list).</summary>
    private static (IdentityCredential? Credential, List<WebAuthnKey> Keys) KeysOf(IEnumerable<IdentityCredential> credentials)
    {
        var credential = credentials.FirstOrDefault(c => c.Type == CredentialTypes.WebAuthn);
        return (credential, credential is null ? [] : WebAuthnKey.ListFrom(credential.Config));
    }

    /// <summary>The keys a login at this level may use (Kratos's <c>ToWebAuthnFiltered</c>): passwordless ones for aal1, the others for aal2.</summary>
    private static List<WebAuthnKey> ForLevel(List<WebAuthnKey> keys, bool passwordless) => [.. keys.Where(k => k.IsPasswordless == passwordless)];

    /// <summary>The user handle the account's keys were made for: the stored one, else the identity id's bytes (Kratos).</summary>
    private static byte[] UserHandleOf(IdentityCredential? credential, Guid identityId) =>
        (credential is null ? null : WebAuthnKey.UserHandleFrom(credential.Config)) is { Length: > 0 } handle ? handle : identityId.ToByteArray(bigEndian: true);

    /// <summary>The trigger button calling <paramref name="function"/> with the options inline, as Kratos's nodes do.</summary>
    private static JsonObject Trigger(string name, string function, string options, JsonObject label)
    {
        var trigger = UiNodes.Input(name, "button", Group, options, label: label);
        trigger["attributes"]!["onclick"] = $"window.{function}({options})";
        trigger["attributes"]!["onclickTrigger"] = function;
        return trigger;
    }

    private static string? Field(JsonObject body, string name) =>
        FormBody.String(body, name) is { Length: > 0 } value && value != "true" ? value : null;

    private static byte[] RandomHandle() => RandomNumberGenerator.GetBytes(16);
}
