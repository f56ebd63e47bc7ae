using System.Text.Json.Nodes;
using Gatehouse.Http.Errors;
using Gatehouse.Identities;

namespace Gatehouse.SelfService.Strategies.Oidc;

/// <summary>
/// A social sign-in credential (<c>oidc</c>, <c>saml</c>): one first factor per linked provider account, each known by
/// the identifier <c>&lt;provider&gt;:&lt;subject&gt;</c>; the admin API removes one account at a time.
/// </summary>
public abstract class ProviderCredentials : ICredentialKind
{
    public abstract string Type { get; }

    public int CountFirstFactor(IdentityCredential credential) => credential.Identifiers.Count;

    public int CountMultiFactor(IdentityCredential credential) => 0;

    public virtual string AdminConfig(string config) => config;

    public void Remove(Identity identity, IdentityCredential credential, string? identifier, DateTime now)
    {
        if (string.IsNullOrEmpty(identifier)) throw GatehouseError.BadRequest($"The identifier parameter (<provider>:<subject>) is required to remove {Type} credentials.");
        var config = JsonNode.Parse(credential.Config) as JsonObject ?? [];
        var providers = config["providers"] as JsonArray ?? [];
        var match = providers.OfType<JsonObject>().FirstOrDefault(p => $"{p["provider"]}:{p["subject"]}" == identifier)
            ?? throw GatehouseError.NotFound($"You tried to remove a {Type} credential with identifier {identifier} but this user has no such credential.");
        providers.Remove(match);
        credential.Identifiers.RemoveAll(i => i.Identifier == identifier);
        if (providers.Count == 0) identity.Credentials.Remove(credential);
        else
        {
            credential.Config = config.ToJsonString();
            credential.UpdatedAt = now;
        }
    }
}
