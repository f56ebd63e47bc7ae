using System.Text.Json.Nodes;

namespace Gatehouse.Identities;

/// <summary>
/// Kratos's login hints for a duplicate (<c>identity.ErrDuplicateCredentials</c> as <c>findExistingAuthMethod</c> fills
/// it when <c>selfservice.flows.registration.login_hints</c> is on): the first-factor methods the existing account can
/// sign in with, its social sign-in providers, and the identifier to sign in with.
/// </summary>
public sealed record DuplicateCredentialHints(IReadOnlyList<string> AvailableCredentialTypes, IReadOnlyList<string> AvailableOidcProviders, string IdentifierHint)
{
    /// <summary>No hints (login hints off, or nothing found): Kratos's plain 4000007, and empty lists in 1010016.</summary>
    public static readonly DuplicateCredentialHints None = new([], [], "");

    public bool HasHints => AvailableCredentialTypes.Count > 0 || AvailableOidcProviders.Count > 0 || IdentifierHint.Length > 0;

    /// <summary>The hints for a conflict, from the existing identity's credentials (sorted by type, as Kratos sorts them).</summary>
    public static DuplicateCredentialHints Of(IdentityConflict conflict)
    {
        ArgumentNullException.ThrowIfNull(conflict);
        var types = new List<string>();
        var providers = new List<string>();
        // An oidc identifier is provider:subject, useless to a person: no hint from it.
        var hint = conflict.Type == CredentialTypes.Oidc ? "" : conflict.Value.Trim(' ');
        foreach (var credential in conflict.Existing.Credentials.OrderBy(c => c.Type, StringComparer.Ordinal))
        {
            // Kratos skips a credential without a config; an unreadable one counts as empty.
            if (string.IsNullOrEmpty(credential.Config)) continue;
            var config = ParseObject(credential.Config);
            var identifiers = credential.Identifiers;
            switch (credential.Type)
            {
                case CredentialTypes.Password:
                    if (hint.Length == 0 && identifiers.Count == 1) hint = identifiers[0].Identifier;
                    if (config["hashed_password"] is JsonValue h && h.TryGetValue<string>(out var hash) && hash.Length > 0) types.Add(credential.Type);
                    break;
                case CredentialTypes.Code:
                    types.Add(credential.Type);
                    break;
                case CredentialTypes.Oidc:
                    types.Add(credential.Type);
                    providers.Clear();
                    foreach (var provider in config["providers"] as JsonArray ?? [])
                        providers.Add(provider?["provider"] is JsonValue p && p.TryGetValue<string>(out var id) ? id : "");
                    break;
                case CredentialTypes.WebAuthn or CredentialTypes.Passkey:
                    if (hint.Length == 0 && identifiers.Count == 1) hint = identifiers[0].Identifier;
                    if ((config["credentials"] as JsonArray ?? []).Any(c => c?["is_passwordless"] is JsonValue v && v.TryGetValue<bool>(out var passwordless) && passwordless))
                        types.Add(credential.Type);
                    break;
            }
        }
        types.Sort(StringComparer.Ordinal);
        providers.Sort(StringComparer.Ordinal);
        return new DuplicateCredentialHints(types, providers, hint);
    }

    private static JsonObject ParseObject(string json)
    {
        try
        {
            return JsonNode.Parse(json) as JsonObject ?? [];
        }
        catch (System.Text.Json.JsonException)
        {
            return [];
        }
    }
}
