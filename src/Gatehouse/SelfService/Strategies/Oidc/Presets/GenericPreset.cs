namespace Gatehouse.SelfService.Strategies.Oidc.Presets;

/// <summary><c>generic</c>: any OpenID Connect provider, found by discovery at <c>issuer_url</c>.</summary>
public sealed class GenericPreset : OidcPreset
{
    public override string Name => "generic";
}
