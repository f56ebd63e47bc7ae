using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Identities;

namespace Gatehouse.SelfService.Strategies.WebAuthn;

/// <summary>
/// WebAuthn credentials, counted as Kratos's webauthn strategy counts them: passwordless keys are first factors (while the
/// credential has an identifier to sign in with), the others second factors.
/// </summary>
public sealed class WebAuthnCredentials : ICredentialKind
{
    public string Type => CredentialTypes.WebAuthn;

    public int CountFirstFactor(IdentityCredential credential) =>
        credential.Identifiers.Any(i => i.Identifier.Length > 0) ? Keys(credential).Count(IsPasswordless) : 0;

    public int CountMultiFactor(IdentityCredential credential) => Keys(credential).Count(k => !IsPasswordless(k));

    /// <summary>
    /// Passwordless keys are a first factor and stay; only the second-factor keys are removed. With no passwordless key
    /// left the whole credential goes, user handle included (Kratos's <c>deleteCredentialWebAuthFromIdentity</c>); what
    /// Kratos's update then derives from the traits again — the schema's webauthn identifiers, on an empty config — stays.
    /// </summary>
    public void Remove(Identity identity, IdentityCredential credential, string? identifier, DateTime now)
    {
        var config = JsonNode.Parse(credential.Config) as JsonObject ?? [];
        var keys = config["credentials"] as JsonArray ?? [];
        foreach (var k in keys.OfType<JsonObject>().Where(k => !IsPasswordless(k)).ToList()) keys.Remove(k);
        if (keys.Count == 0 && credential.Identifiers.Count == 0)
        {
            identity.Credentials.Remove(credential);
            return;
        }
        credential.Config = keys.Count == 0 ? "{}" : config.ToJsonString();
        credential.UpdatedAt = now;
    }

    private static IEnumerable<JsonObject> Keys(IdentityCredential credential) =>
        ((JsonNode.Parse(credential.Config) as JsonObject)?["credentials"] as JsonArray ?? []).OfType<JsonObject>();

    private static bool IsPasswordless(JsonObject key) => key["is_passwordless"]?.GetValueKind() == JsonValueKind.True;
}
