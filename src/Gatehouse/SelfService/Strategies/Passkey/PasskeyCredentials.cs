using Gatehouse.Http.Errors;
using Gatehouse.Identities;
using Gatehouse.SelfService.Strategies.WebAuthn;

namespace Gatehouse.SelfService.Strategies.Passkey;

/// <summary>
/// A <c>passkey</c> credential: each key a first factor once the credential has its user handle as identifier (Kratos's
/// passkey <c>CountActiveFirstFactorCredentials</c>). The admin API does not remove it (Kratos: "Credentials type passkey
/// cannot be deleted."); users remove their passkeys in settings.
/// </summary>
public sealed class PasskeyCredentials : ICredentialKind
{
    public string Type => CredentialTypes.Passkey;

    public int CountFirstFactor(IdentityCredential credential) =>
        credential.Identifiers.Any(i => i.Identifier.Length > 0) ? WebAuthnKey.ListFrom(credential.Config).Count : 0;

    public int CountMultiFactor(IdentityCredential credential) => 0;

    public bool IsDeletable => false;

    public void Remove(Identity identity, IdentityCredential credential, string? identifier, DateTime now) =>
        throw GatehouseError.BadRequest($"Credentials type {Type} cannot be deleted.");
}
