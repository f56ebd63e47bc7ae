using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.SelfService.Strategies.Oidc.Presets;

/// <summary>
/// <c>gitlab</c>: <c>issuer_url</c> (default <c>https://gitlab.com</c>, or a self-managed instance) with
/// <c>/oauth/authorize</c> and <c>/oauth/token</c>; the claims are <c>/oauth/userinfo</c>'s, read with the access token
/// (Kratos does not validate GitLab's ID token, so no nonce is sent and <c>openid</c> is not added: configure it in
/// <c>scope</c>); <c>prompt=login</c> and <c>requested_claims</c> go along as for a generic provider.
/// </summary>
public sealed class GitLabPreset : OidcPreset
{
    public override string Name => "gitlab";

    public override int ClaimsErrorStatus => StatusCodes.Status502BadGateway;

    protected override string Label => "GitLab";

    public override bool RequestsIdToken => false;

    protected override bool SendsOpenIdParameters => true;

    public override string? DefaultIssuerUrl => "https://gitlab.com";

    public override bool UsesDiscovery => false;

    public override OidcProviderMetadata KnownEndpoints(OidcProviderOptions provider)
    {
        var issuer = provider.IssuerUrl ?? DefaultIssuerUrl!;
        var root = issuer.TrimEnd('/');
        return new OidcProviderMetadata(issuer, root + "/oauth/authorize", root + "/oauth/token", root + "/oauth/userinfo", "", []);
    }

    public override async Task<JsonObject> ClaimsAsync(OidcUpstream upstream, OidcClaimsRequest r, CancellationToken ct)
    {
        var claims = await upstream.GetJsonAsync(r.Metadata.UserinfoEndpoint!, r.Tokens, "userinfo", ct: ct) as JsonObject
            ?? throw new OidcUpstreamError("GitLab's userinfo response is not a JSON object.");
        if (Str(claims, "sub") is null) throw new OidcUpstreamError("GitLab's userinfo response has no subject (sub).");
        if (Str(claims, "iss") is null) claims["iss"] = r.Provider.IssuerUrl;
        return claims;
    }
}
