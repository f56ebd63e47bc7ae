using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.SelfService.Strategies.Oidc.Presets;

/// <summary>
/// <c>uaepass</c> (the UAE's digital identity): <c>issuer_url</c> picks the environment (default production
/// <c>https://id.uaepass.ae</c>; staging <c>https://stg-id.uaepass.ae</c>) with <c>/idshub/{authorize,token}</c>, HTTP
/// Basic. UAE PASS supports PKCE without advertising it, so <c>pkce: auto</c> means <c>force</c> (Kratos). The
/// authorization request carries <c>acr_values=urn:safelayer:tws:policies:authentication:level:low</c> (web sign-in;
/// <c>upstream_parameters.acr_values</c> replaces it, e.g. for app-to-app). The claims are <c>/idshub/userinfo</c>'s,
/// read with the access token: <c>sub</c>, <c>email</c>, <c>name</c> (<c>fullnameEN</c>), <c>given_name</c>
/// (<c>firstnameEN</c>), <c>last_name</c> (<c>lastnameEN</c>); the whole profile under <c>raw_claims</c>; <c>iss</c> is
/// the environment's URL.
/// </summary>
public sealed class UaePassPreset : OidcPreset
{
    /// <summary>Kratos's <c>UAEPassACRWeb</c>: the authentication level of a web sign-in.</summary>
    public const string WebAcr = "urn:safelayer:tws:policies:authentication:level:low";

    public override string Name => "uaepass";

    public override int ClaimsErrorStatus => StatusCodes.Status502BadGateway;

    protected override string Label => "UAE PASS";

    public override bool RequestsIdToken => false;

    public override string? DefaultIssuerUrl => "https://id.uaepass.ae";

    public override bool UsesDiscovery => false;

    public override void Check(OidcProviderOptions provider, string at)
    {
        provider.IssuerUrl = (string.IsNullOrEmpty(provider.IssuerUrl) ? DefaultIssuerUrl! : provider.IssuerUrl).TrimEnd('/');
        if (provider.Pkce is "" or "auto") provider.Pkce = "force";
    }

    public override OidcProviderMetadata KnownEndpoints(OidcProviderOptions provider)
    {
        var root = (provider.IssuerUrl ?? DefaultIssuerUrl!).TrimEnd('/');
        return new OidcProviderMetadata(root, root + "/idshub/authorize", root + "/idshub/token", root + "/idshub/userinfo", "", []);
    }

    public override void AddAuthorizationParameters(OidcProviderOptions provider, string nonce, bool forceLogin, List<KeyValuePair<string, string?>> query) =>
        query.Add(new("acr_values", WebAcr));

    public override async Task<JsonObject> ClaimsAsync(OidcUpstream upstream, OidcClaimsRequest r, CancellationToken ct)
    {
        var user = await upstream.GetJsonAsync(r.Metadata.UserinfoEndpoint!, r.Tokens, "userinfo", ct: ct) as JsonObject
            ?? throw new OidcUpstreamError("UAE PASS's userinfo response is not a JSON object.");
        if (Str(user, "sub") is null) throw new OidcUpstreamError("UAE PASS's userinfo response has no subject (sub).");
        // The whole profile goes along (the mapper sees it under raw_claims), the standard claims named over it.
        var claims = user.DeepClone().AsObject();
        claims["iss"] = r.Metadata.Issuer;
        CopyStrings(user, claims, ("name", "fullnameEN"), ("given_name", "firstnameEN"), ("last_name", "lastnameEN"));
        return claims;
    }
}
