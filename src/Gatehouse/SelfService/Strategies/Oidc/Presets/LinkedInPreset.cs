namespace Gatehouse.SelfService.Strategies.Oidc.Presets;

/// <summary>
/// <c>linkedin_v2</c>: LinkedIn's "Sign In with LinkedIn using OpenID Connect", a generic provider whose
/// <c>issuer_url</c> defaults to <c>https://www.linkedin.com/oauth</c>.
/// </summary>
public sealed class LinkedInPreset : OidcPreset
{
    public override string Name => "linkedin_v2";

    public override string? DefaultIssuerUrl => "https://www.linkedin.com/oauth";
}
