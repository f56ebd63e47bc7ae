using System.Text.Json.Nodes;
using Gatehouse.Identities;

namespace Gatehouse.SelfService.Strategies.LookupSecret;

/// <summary>Recovery (lookup) codes: one second factor while any code is unused; the admin API removes them all.</summary>
public sealed class LookupSecretCredentials : ICredentialKind
{
    public string Type => CredentialTypes.LookupSecret;

    public int CountFirstFactor(IdentityCredential credential) => 0;

    public int CountMultiFactor(IdentityCredential credential) =>
        ((JsonNode.Parse(credential.Config) as JsonObject)?["recovery_codes"] as JsonArray ?? [])
            .OfType<JsonObject>().Any(c => c["used_at"] is null || c["used_at"]!.ToString() is "" or "0001-01-01T00:00:00Z") ? 1 : 0;

    public void Remove(Identity identity, IdentityCredential credential, string? identifier, DateTime now) => identity.Credentials.Remove(credential);
}
