using Gatehouse.Identities;

namespace Gatehouse.SelfService.Strategies.Oidc;

/// <summary>OpenID Connect (social sign-in) credentials.</summary>
public sealed class OidcCredentials : ProviderCredentials
{
    public override string Type => CredentialTypes.Oidc;
}
