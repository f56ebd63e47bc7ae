namespace Gatehouse.Identities;

public static class CredentialTypes
{
    public const string Password = "password";
    public const string Oidc = "oidc";
    public const string Saml = "saml";
    public const string Totp = "totp";
    public const string LookupSecret = "lookup_secret";
    public const string WebAuthn = "webauthn";
    public const string Passkey = "passkey";
    public const string Code = "code";

    /// <summary>The values <c>include_credential</c> accepts (Kratos's list).</summary>
    public static readonly IReadOnlySet<string> Includable = new HashSet<string>
    {
        Password, Oidc, Saml, Totp, LookupSecret, WebAuthn, Code, Passkey, "deviceauthn", "link_recovery", "code_recovery",
    };

    /// <summary>Types whose identifiers are compared after graceful normalisation; the others are case-sensitive.</summary>
    public static bool IsNormalized(string type) => type is Password or Code or WebAuthn;

    /// <summary>The identifier-normalisation version Kratos records per credential type.</summary>
    public static int CurrentVersion(string type) => type is Password or Code or WebAuthn ? 1 : 0;
}
