using System.Text.Json.Nodes;

namespace Gatehouse.Schemas;

/// <summary>
/// The <c>ory.sh/kratos</c> keyword on one trait property: which credentials use the trait as an
/// identifier, and whether it is a verification or recovery address.
/// </summary>
public sealed record TraitExtension
{
    /// <summary>The keyword's name in identity schemas.</summary>
    public const string Keyword = "ory.sh/kratos";

    public static readonly TraitExtension None = new();

    /// <summary><c>credentials.password.identifier</c>.</summary>
    public bool PasswordIdentifier { get; init; }

    /// <summary><c>credentials.webauthn.identifier</c>.</summary>
    public bool WebAuthnIdentifier { get; init; }

    /// <summary><c>credentials.passkey.display_name</c>.</summary>
    public bool PasskeyDisplayName { get; init; }

    /// <summary><c>credentials.totp.account_name</c>.</summary>
    public bool TotpAccountName { get; init; }

    /// <summary><c>credentials.code.identifier</c>.</summary>
    public bool CodeIdentifier { get; init; }

    /// <summary><c>credentials.code.via</c>: <c>email</c>, <c>sms</c> or null.</summary>
    public string? CodeVia { get; init; }

    /// <summary><c>verification.via</c>: <c>email</c>, <c>sms</c> or null.</summary>
    public string? VerificationVia { get; init; }

    /// <summary><c>recovery.via</c>: <c>email</c>, <c>sms</c> or null.</summary>
    public string? RecoveryVia { get; init; }

    /// <summary><c>organizations.matcher</c>: <c>email_domain</c> or null.</summary>
    public string? OrganizationsMatcher { get; init; }

    /// <summary>Reads a keyword value that has passed the load-time shape check.</summary>
    internal static TraitExtension From(JsonNode? value)
    {
        if (value is not JsonObject ext)
        {
            return None;
        }

        var credentials = ext["credentials"] as JsonObject;
        return new TraitExtension
        {
            PasswordIdentifier = Flag(credentials?["password"], "identifier"),
            WebAuthnIdentifier = Flag(credentials?["webauthn"], "identifier"),
            PasskeyDisplayName = Flag(credentials?["passkey"], "display_name"),
            TotpAccountName = Flag(credentials?["totp"], "account_name"),
            CodeIdentifier = Flag(credentials?["code"], "identifier"),
            CodeVia = Text(credentials?["code"], "via"),
            VerificationVia = Text(ext["verification"], "via"),
            RecoveryVia = Text(ext["recovery"], "via"),
            OrganizationsMatcher = Text(ext["organizations"], "matcher"),
        };
    }

    private static bool Flag(JsonNode? parent, string name) =>
        parent is JsonObject o && o[name] is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    private static string? Text(JsonNode? parent, string name) =>
        parent is JsonObject o && o[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
