using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Fido2NetLib;
using Fido2NetLib.Objects;
using Gatehouse.Config;
using Gatehouse.Identities;
using Gatehouse.Schemas;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Hooks;
using Gatehouse.SelfService.Strategies.WebAuthn;
using Gatehouse.SelfService.Ui;
using Gatehouse.Sessions;

namespace Gatehouse.SelfService.Strategies.Passkey;

/// <summary>
/// The <c>passkey</c> method (Kratos's <c>selfservice/strategy/passkey</c>): discoverable WebAuthn credentials, a first
/// factor (aal1). Registers an account (traits, then a passkey), signs in without an identifier typed (the authenticator
/// names the account by its user handle), and adds and removes passkeys in settings — never the last first factor.
/// Browser and API flows both: API flows get the same options without script or inline handlers.
/// <para>
/// Each ceremony's challenge lives in the flow's internal context and is spent by compare-and-swap before the answer is
/// verified, so an answer is accepted once at most; a refused answer gets a fresh challenge in the form it comes back with.
/// </para>
/// </summary>
public sealed partial class PasskeyStrategy(
    IPrivilegedIdentityStore store,
    IdentityManager identities,
    CredentialKinds kinds,
    SessionManager sessions,
    HookRunner hooks,
    FlowService flows,
    GatehouseOptions options,
    ILogger<PasskeyStrategy> logger) : ILoginStrategy, IRegistrationStrategy, ISettingsStrategy, IStrategyDescriptor
{
    public const string MethodName = CredentialTypes.Passkey;
    public const string Group = "passkey";

    /// <summary>Where a flow keeps the pending ceremony (<see cref="PendingCeremony"/>).</summary>
    private const string ContextKey = "passkey";

    // Kratos's passkey user handles: 64 random alphanumeric characters.
    private const string HandleAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    private WebAuthnRelyingParty? _rp;

    public string Name => MethodName;

    public static string ConfigName => MethodName;

    public static bool IsEnabled(GatehouseOptions options) => options.Selfservice.Methods.Passkey.Enabled;

    private WebAuthnRelyingParty RelyingParty => _rp ??= WebAuthnRelyingParty.From(options.Selfservice.Methods.Passkey.Config, options);

    /// <summary><c>config.authenticator_selection</c> as WebAuthn takes it (Kratos's defaults: resident key required, UV preferred).</summary>
    private AuthenticatorSelection Selection
    {
        get
        {
            var s = options.Selfservice.Methods.Passkey.Config.AuthenticatorSelection;
            var residentKey = s.ResidentKey switch { "preferred" => ResidentKeyRequirement.Preferred, "discouraged" => ResidentKeyRequirement.Discouraged, _ => ResidentKeyRequirement.Required };
            return new AuthenticatorSelection
            {
                ResidentKey = residentKey,
                UserVerification = Verification,
                AuthenticatorAttachment = s.Attachment switch { "platform" => AuthenticatorAttachment.Platform, "cross-platform" => AuthenticatorAttachment.CrossPlatform, _ => null },
            };
        }
    }

    private UserVerificationRequirement Verification => options.Selfservice.Methods.Passkey.Config.AuthenticatorSelection.UserVerification switch
    {
        "required" => UserVerificationRequirement.Required,
        "discouraged" => UserVerificationRequirement.Discouraged,
        _ => UserVerificationRequirement.Preferred,
    };

    private static bool IsBrowser(SelfServiceFlow flow) => flow.Type == FlowTypes.Browser;

    /// <summary>Adds the shared webauthn.js script node to a browser flow's form, once.</summary>
    private void AddScript(UiContainer ui, SelfServiceFlow flow)
    {
        if (IsBrowser(flow) && !WebAuthnScript.IsIn(ui)) ui.Nodes.Add(WebAuthnScript.Node(flows.PublicBase));
    }

    /// <summary>A new random user handle (Kratos's shape: 64 alphanumeric characters, as bytes).</summary>
    private static byte[] NewUserHandle() => Encoding.ASCII.GetBytes(RandomNumberGenerator.GetString(HandleAlphabet, 64));

    private static (string State, string Shown)? Pending(SelfServiceFlow flow) => PendingCeremony.Find(flow, ContextKey);

    private static void KeepPending(SelfServiceFlow flow, string state, string shown) => PendingCeremony.Keep(flow, ContextKey, state, shown);

    private Task<string?> SpendAsync(SelfServiceFlow flow, CancellationToken ct) => PendingCeremony.SpendAsync(flows, flow, ContextKey, ct);

    /// <summary>The trait fields a passkey is named after (Kratos: <c>passkey.display_name</c>, else <c>webauthn.identifier</c>).</summary>
    private static List<string> DisplayNameFields(IdentitySchema schema)
    {
        var named = schema.TraitFields.Where(f => f.Extension.PasskeyDisplayName).Select(f => f.Name).Order(StringComparer.Ordinal).ToList();
        return named.Count > 0 ? named : [.. schema.TraitFields.Where(f => f.Extension.WebAuthnIdentifier).Select(f => f.Name).Order(StringComparer.Ordinal)];
    }

    /// <summary>The identity's passkey display name: the trait marked for it, else its webauthn identifier.</summary>
    private static string DisplayNameOf(IdentitySchema schema, Identity identity)
    {
        var result = schema.Validate(JsonNode.Parse(identity.Traits));
        if (result.PasskeyDisplayName is { Length: > 0 } name) return name;
        return result.CredentialIdentifiers.TryGetValue(CredentialTypes.WebAuthn, out var ids) && ids.Count > 0 ? ids[0] : "";
    }

    /// <summary>The identity's passkey credential and its keys (none: an empty list).</summary>
    private static (IdentityCredential? Credential, List<WebAuthnKey> Keys) PasskeysOf(IEnumerable<IdentityCredential> credentials)
    {
        var credential = credentials.FirstOrDefault(c => c.Type == CredentialTypes.Passkey);
        return (credential, credential is null ? [] : WebAuthnKey.ListFrom(credential.Config));
    }

    private Task SaveSettingsAsync(SettingsSubmission submission, Func<Task<Identity>> change, CancellationToken ct) =>
        SettingsChange.SaveAsync(submission, Name, hooks, change, ct);

    private static string? Field(JsonObject body, string name) =>
        FormBody.String(body, name) is { Length: > 0 } value && value != "true" ? value : null; // the React SDK sends "true" for empty fields (Kratos)
}
