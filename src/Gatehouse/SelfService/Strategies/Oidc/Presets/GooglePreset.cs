using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.SelfService.Strategies.Oidc.Presets;

/// <summary>
/// <c>google</c>: OpenID Connect at <c>https://accounts.google.com</c>. Google refuses the <c>offline_access</c> scope and
/// wants <c>access_type=offline</c> for a refresh token instead; natively obtained ID tokens are accepted, with or without
/// a nonce (not every Google SDK sets one).
/// </summary>
public sealed class GooglePreset : OidcPreset
{
    public override string Name => "google";

    public override string? DefaultIssuerUrl => "https://accounts.google.com";

    public override bool VerifiesNativeIdTokens => true;

    public override bool CanSkipNonce(JsonObject claims) => true;

    /// <summary>Google's FedCM assertion is a Google ID token (Kratos's <c>ProviderGoogle.Verify</c> takes it as such).</summary>
    public override bool SupportsFedcm => true;

    public override IReadOnlyList<string> Scopes(OidcProviderOptions provider) => [.. base.Scopes(provider).Where(s => s != "offline_access")];

    public override void AddAuthorizationParameters(OidcProviderOptions provider, string nonce, bool forceLogin, List<KeyValuePair<string, string?>> query)
    {
        base.AddAuthorizationParameters(provider, nonce, forceLogin, query);
        if (provider.Scope.Contains("offline_access")) query.Add(new("access_type", "offline"));
    }
}
