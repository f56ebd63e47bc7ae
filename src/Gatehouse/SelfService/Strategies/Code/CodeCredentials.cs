using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http.Errors;
using Gatehouse.Identities;

namespace Gatehouse.SelfService.Strategies.Code;

/// <summary>
/// A <c>code</c> credential (addresses a one-time code can be sent to): a first factor while passwordless login is on and
/// it has an address, as Kratos's code strategy counts it. The admin API does not remove it (Kratos: "Credentials type code
/// cannot be deleted."); it follows the traits.
/// </summary>
public sealed class CodeCredentials(GatehouseOptions options) : ICredentialKind
{
    public string Type => CredentialTypes.Code;

    public int CountFirstFactor(IdentityCredential credential) =>
        options.Selfservice.Methods.Code.PasswordlessEnabled && HasAddress(credential) ? 1 : 0;

    /// <summary>With <c>mfa_enabled</c>, a code credential with an address is a second factor (Kratos's code strategy).</summary>
    public int CountMultiFactor(IdentityCredential credential) =>
        options.Selfservice.Methods.Code.MfaEnabled && CodeStrategy.Addresses(credential).Count > 0 ? 1 : 0;

    public bool IsDeletable => false;

    public void Remove(Identity identity, IdentityCredential credential, string? identifier, DateTime now) =>
        throw GatehouseError.BadRequest($"Credentials type {Type} cannot be deleted.");

    private static bool HasAddress(IdentityCredential credential) =>
        (JsonNode.Parse(credential.Config) as JsonObject)?["addresses"] is JsonArray { Count: > 0 } || credential.Identifiers.Count > 0;
}
