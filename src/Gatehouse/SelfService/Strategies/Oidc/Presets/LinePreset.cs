using Gatehouse.Config;

namespace Gatehouse.SelfService.Strategies.Oidc.Presets;

/// <summary>
/// <c>line</c> (Kratos's LINE Login v2.1): OpenID Connect by discovery at <c>https://access.line.me</c>, always (Kratos
/// overrides <c>issuer_url</c>); the token request adds <c>id_token_key_type=JWK</c>, which makes LINE sign the ID token
/// with a key from its key set (ES256) instead of the channel secret. The claims are the ID token's.
/// </summary>
public sealed class LinePreset : OidcPreset
{
    private const string Issuer = "https://access.line.me";

    public override string Name => "line";

    public override void Check(OidcProviderOptions provider, string at) => provider.IssuerUrl = Issuer;

    public override void AddTokenParameters(List<KeyValuePair<string, string>> form) => form.Add(new("id_token_key_type", "JWK"));
}
