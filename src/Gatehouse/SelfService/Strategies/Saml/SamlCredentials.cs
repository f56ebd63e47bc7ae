using Gatehouse.Identities;
using Gatehouse.SelfService.Strategies.Oidc;

namespace Gatehouse.SelfService.Strategies.Saml;

/// <summary>SAML credentials: provider accounts like <c>oidc</c>'s.</summary>
public sealed class SamlCredentials : ProviderCredentials
{
    public override string Type => CredentialTypes.Saml;
}
