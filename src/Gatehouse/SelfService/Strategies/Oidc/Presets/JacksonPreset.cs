using Gatehouse.Config;

namespace Gatehouse.SelfService.Strategies.Oidc.Presets;

/// <summary>
/// <c>jackson</c>: SAML identity providers through BoxyHQ's SAML Jackson, which speaks OpenID Connect towards Gatehouse
/// (Kratos's <c>ProviderJackson</c>). <c>issuer_url</c>, <c>auth_url</c> and <c>token_url</c> are all required; the
/// user info and key set are on the token URL's host (<c>&lt;host&gt;/api/oauth/userinfo</c>, <c>&lt;host&gt;/oauth/jwks</c>
/// for <c>&lt;host&gt;/api/oauth/token</c>). The redirect URI is Kratos's SAML callback,
/// <c>&lt;selfservice.methods.saml.config.base_redirect_uri or the public URL&gt;/self-service/methods/saml/callback/&lt;id&gt;</c>.
/// The claims are the ID token's (RS256 only, audience the client id, nonce checked); its issuer must be
/// <c>issuer_url</c> or one of the comma-separated <c>SAML_SP_TRUSTED_ISSUERS</c> (Kratos's environment variable for moving
/// Jackson to another domain). The client authenticates with HTTP Basic, then in the form if Jackson refuses that
/// (golang.org/x/oauth2's auto-detection). With <c>pkce: auto</c> PKCE is used when the discovery document at
/// <c>issuer_url</c> advertises S256 (none when there is none, as Kratos goes on without).
/// </summary>
public sealed class JacksonPreset : OidcPreset
{
    /// <summary>Kratos's environment variable of further trusted ID token issuers.</summary>
    public const string TrustedIssuersVariable = "SAML_SP_TRUSTED_ISSUERS";

    private const string TokenPath = "/api/oauth/token";

    public override string Name => "jackson";

    protected override string Label => "SAML Jackson";

    public override bool UsesDiscovery => false;

    public override bool UsesSamlCallback => true;

    public override TokenEndpointAuth TokenEndpointAuth => TokenEndpointAuth.AutoDetect;

    public override void Check(OidcProviderOptions provider, string at)
    {
        foreach (var (key, value) in new[] { ("issuer_url", provider.IssuerUrl), ("auth_url", provider.AuthUrl), ("token_url", provider.TokenUrl) })
        {
            if (string.IsNullOrEmpty(value))
                throw new ConfigException($"{at}.{key}: is required for a jackson provider (SAML Jackson's issuer, authorization and token URLs)");
        }
    }

    public override OidcProviderMetadata KnownEndpoints(OidcProviderOptions provider)
    {
        var host = provider.TokenUrl!.EndsWith(TokenPath, StringComparison.Ordinal) ? provider.TokenUrl[..^TokenPath.Length] : provider.TokenUrl;
        return new(provider.IssuerUrl!, provider.AuthUrl!, provider.TokenUrl, host + "/api/oauth/userinfo", host + "/oauth/jwks", []);
    }

    public override async Task<OidcProviderMetadata> MetadataAsync(OidcUpstream upstream, OidcProviderOptions provider, CancellationToken ct)
    {
        var known = KnownEndpoints(provider);
        if (provider.Pkce != "auto") return known;
        try
        {
            return known with { CodeChallengeMethods = (await upstream.Discovery.MetadataAsync(provider.IssuerUrl!, ct)).CodeChallengeMethods };
        }
        catch (OidcUpstreamError)
        {
            // Kratos logs that PKCE support could not be discovered and goes on without it.
            return known;
        }
    }

    public override Task<System.Text.Json.Nodes.JsonObject> ClaimsAsync(OidcUpstream upstream, OidcClaimsRequest r, CancellationToken ct) =>
        upstream.IdTokenClaimsAsync(r, r.Metadata, ct, TrustedIssuers(), ["RS256"]);

    /// <summary>The issuers of <see cref="TrustedIssuersVariable"/>, read at each sign-in as Kratos does.</summary>
    private static string[] TrustedIssuers() =>
        Environment.GetEnvironmentVariable(TrustedIssuersVariable) is { Length: > 0 } list
            ? list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            : [];
}
