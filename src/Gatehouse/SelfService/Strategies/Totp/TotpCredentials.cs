using System.Text.Json.Nodes;
using Gatehouse.Http.Errors;
using Gatehouse.Identities;

namespace Gatehouse.SelfService.Strategies.Totp;

/// <summary>A TOTP credential: one second factor once it holds a <c>totp_url</c>; the admin API removes it whole.</summary>
public sealed class TotpCredentials : ICredentialKind
{
    public string Type => CredentialTypes.Totp;

    public int CountFirstFactor(IdentityCredential credential) => 0;

    public int CountMultiFactor(IdentityCredential credential) =>
        (JsonNode.Parse(credential.Config) as JsonObject)?["totp_url"] is JsonValue url && url.ToString().Length > 0 ? 1 : 0;

    /// <summary>Kratos shows <c>{"totp_url": …}</c>; the last used time step is Gatehouse's replay guard and stays inside.</summary>
    public string AdminConfig(string config) =>
        JsonNode.Parse(config) is JsonObject o && o.Remove(TotpStrategy.LastUsedStepKey) ? o.ToJsonString() : config;

    /// <summary>
    /// Keeps the stored last used time step when an admin writes the config without it (a PUT with the same or another
    /// key, a PATCH of the admin view): time steps only grow, so a code spent before the update stays spent.
    /// </summary>
    public JsonObject ToStored(JsonObject written, string? stored, Guid identityId)
    {
        // An imported key must be one an authenticator app and the login can use, or the identity would need a second
        // factor nobody can give (it counts as one as soon as it has a totp_url).
        if (written["totp_url"] is JsonValue url && url.TryGetValue<string>(out var text) && text.Length > 0 && TotpKey.Parse(text) is null)
            throw GatehouseError.BadRequest("credentials.totp.config.totp_url must be an otpauth://totp/ URL with a base32 secret (digits 6–8, period 1–300 s, algorithm SHA1, SHA256 or SHA512).");
        if (written.ContainsKey(TotpStrategy.LastUsedStepKey) || stored is null
            || JsonNode.Parse(stored) is not JsonObject o || o[TotpStrategy.LastUsedStepKey] is not JsonValue step) return written;
        var copy = (JsonObject)written.DeepClone();
        copy[TotpStrategy.LastUsedStepKey] = step.DeepClone();
        return copy;
    }

    public void Remove(Identity identity, IdentityCredential credential, string? identifier, DateTime now) => identity.Credentials.Remove(credential);
}
