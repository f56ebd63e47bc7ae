using Gatehouse.Identities;

namespace Gatehouse.SelfService.Strategies.Password;

/// <summary>A password credential: one first factor once it has a hash (before that it holds only identifiers).</summary>
public sealed class PasswordCredentials : ICredentialKind
{
    public string Type => CredentialTypes.Password;

    public int CountFirstFactor(IdentityCredential credential) => IsSetUp(credential) ? 1 : 0;

    public int CountMultiFactor(IdentityCredential credential) => 0;

    public bool IsSetUp(IdentityCredential credential) => credential.Config is not ("{}" or "");

    /// <summary>The hash goes; the identifiers stay (they follow the traits), as in Kratos.</summary>
    public void Remove(Identity identity, IdentityCredential credential, string? identifier, DateTime now)
    {
        credential.Config = "{}";
        credential.UpdatedAt = now;
    }
}
