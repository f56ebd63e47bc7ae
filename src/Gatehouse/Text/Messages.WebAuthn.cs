using System.Text.Json.Nodes;
using Gatehouse.Http.Json;

namespace Gatehouse.Text;

/// <summary>The messages of the passkey and webauthn methods (Kratos's ids and texts).</summary>
public static partial class Messages
{
    public static JsonObject SignInWithPasskey() => Info(1010021, "Sign in with passkey");
    public static JsonObject SignUpWithPasskey() => Info(1040007, "Sign up with passkey");
    public static JsonObject AddPasskey() => Info(1050019, "Add passkey");
    public static JsonObject SignInWithHardwareKey() => Info(1010008, "Sign in with hardware key");
    public static JsonObject SignUpWithSecurityKey() => Info(1040004, "Sign up with security key");
    public static JsonObject AddSecurityKey() => Info(1050012, "Add security key");
    public static JsonObject LabelSecurityKeyName() => Info(1050013, "Name of the security key");
    /// <summary>Kratos's <c>NewInfoSelfServiceLoginContinue</c>: the key's button once a passwordless login named the account.</summary>
    public static JsonObject ContinueWithKey() => Info(1010013, "Continue");
    public static JsonObject PrepareWebAuthnDevice() => Info(1010012, "Prepare your WebAuthn device (e.g. security key, biometrics scanner, ...) and press continue.");

    public static JsonObject RemovePasskey(string name, DateTime addedAt) => Info(1050020, $"Remove passkey \"{name}\"", KeyContext(name, addedAt));
    public static JsonObject RemoveSecurityKey(string name, DateTime addedAt) => Info(1050018, $"Remove security key \"{name}\"", KeyContext(name, addedAt));

    /// <summary>Kratos's <c>NewWebAuthnVerifierWrongError</c>: the TOTP text, used for every refused WebAuthn assertion.</summary>
    public static JsonObject WebAuthnInvalid() => TotpCodeInvalid();
    public static JsonObject NoWebAuthnDevice() => Error(4000013, "You have no WebAuthn device set up.");
    public static JsonObject NoWebAuthnUser() => Error(4000015, "This account does not exist or has no security key set up.");

    /// <summary>Kratos's <c>ErrNotEnoughCredentials</c> (a generic validation error).</summary>
    public static JsonObject NotEnoughCredentials() => Generic("unable to remove this security key because it would lock you out of your account");

    /// <summary>Kratos's <c>ErrCredentialAlreadyRegistered</c>.</summary>
    public static JsonObject KeyAlreadyRegistered() => Generic("this security key or passkey is already registered with your account");

    /// <summary>Kratos's refusal of a login answer that is not a WebAuthn assertion (a 400 error, shown on the form as 4000001).</summary>
    public static JsonObject WebAuthnLoginUnparsable() => Generic("Unable to parse WebAuthn response.");

    /// <summary>Kratos's refusal of a registration answer its parser rejects, with the parser's detail.</summary>
    public static JsonObject WebAuthnResponseUnparsable(string detail) => Generic($"Unable to parse WebAuthn response: {detail}");

    /// <summary>A registration the authenticator's answer did not prove (Kratos answers these with a 500 envelope; Gatehouse keeps the form).</summary>
    public static JsonObject WebAuthnRegistrationFailed(string reason) => Generic($"Unable to create WebAuthn credential: {reason}");

    private static JsonObject KeyContext(string name, DateTime addedAt) => new()
    {
        ["display_name"] = name,
        ["added_at"] = GoTimeJsonConverter.Format(addedAt),
        ["added_at_unix"] = new DateTimeOffset(DateTime.SpecifyKind(addedAt, DateTimeKind.Utc)).ToUnixTimeSeconds(),
    };
}
