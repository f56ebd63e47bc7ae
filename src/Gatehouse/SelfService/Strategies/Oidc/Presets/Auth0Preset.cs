using System.Globalization;
using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.SelfService.Strategies.Oidc.Presets;

/// <summary>
/// <c>auth0</c>: the tenant at <c>issuer_url</c> (required) with <c>/authorize</c> and <c>/oauth/token</c>; the claims are
/// <c>/userinfo</c>'s, read with the access token (no ID token validated, so no nonce; <c>openid</c> belongs in
/// <c>scope</c>). Auth0 may send <c>updated_at</c> as an RFC 3339 string; it becomes seconds since the epoch, as the
/// standard claim is.
/// </summary>
public sealed class Auth0Preset : OidcPreset
{
    public override string Name => "auth0";

    public override int ClaimsErrorStatus => StatusCodes.Status502BadGateway;

    protected override string Label => "Auth0";

    public override bool RequestsIdToken => false;

    protected override bool SendsOpenIdParameters => true;

    public override bool UsesDiscovery => false;

    public override void Check(OidcProviderOptions provider, string at)
    {
        if (string.IsNullOrEmpty(provider.IssuerUrl))
            throw new ConfigException($"{at}.issuer_url: is required for an auth0 provider (the tenant's URL, e.g. https://example.eu.auth0.com)");
    }

    public override OidcProviderMetadata KnownEndpoints(OidcProviderOptions provider)
    {
        var issuer = provider.IssuerUrl ?? "";
        var root = issuer.TrimEnd('/');
        return new OidcProviderMetadata(issuer, root + "/authorize", root + "/oauth/token", root + "/userinfo", "", []);
    }

    public override async Task<JsonObject> ClaimsAsync(OidcUpstream upstream, OidcClaimsRequest r, CancellationToken ct)
    {
        var claims = await upstream.GetJsonAsync(r.Metadata.UserinfoEndpoint!, r.Tokens, "userinfo", ct: ct) as JsonObject
            ?? throw new OidcUpstreamError("Auth0's userinfo response is not a JSON object.");
        if (Str(claims, "sub") is null) throw new OidcUpstreamError("Auth0's userinfo response has no subject (sub).");
        if (claims["updated_at"] is JsonValue u && u.TryGetValue<string>(out var text))
        {
            if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
                throw new OidcUpstreamError("Auth0's userinfo response has an updated_at that is no RFC 3339 time.");
            claims["updated_at"] = at.ToUnixTimeSeconds();
        }
        if (Str(claims, "iss") is null) claims["iss"] = r.Provider.IssuerUrl;
        return claims;
    }
}
