using System.Globalization;
using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.SelfService.Strategies.Oidc.Presets;

/// <summary>
/// <c>salesforce</c>: the org's login host at <c>issuer_url</c> (required, e.g. <c>https://login.salesforce.com</c> or a
/// My Domain URL) with <c>/services/oauth2/authorize</c> and <c>/services/oauth2/token</c>; the claims are
/// <c>/services/oauth2/userinfo</c>'s, read with the access token (no ID token validated, so no nonce; <c>openid</c>
/// belongs in <c>scope</c>); <c>prompt=login</c> and <c>requested_claims</c> go along as for a generic provider.
/// Salesforce may send <c>updated_at</c> as an RFC 3339 string (Kratos works around it): it becomes seconds since the
/// epoch; <c>iss</c> defaults to <c>issuer_url</c>.
/// </summary>
public sealed class SalesforcePreset : OidcPreset
{
    public override string Name => "salesforce";

    public override int ClaimsErrorStatus => StatusCodes.Status502BadGateway;

    protected override string Label => "Salesforce";

    public override bool RequestsIdToken => false;

    protected override bool SendsOpenIdParameters => true;

    public override bool UsesDiscovery => false;

    public override void Check(OidcProviderOptions provider, string at)
    {
        if (string.IsNullOrEmpty(provider.IssuerUrl))
            throw new ConfigException($"{at}.issuer_url: is required for a salesforce provider (the login host, e.g. https://login.salesforce.com)");
    }

    public override OidcProviderMetadata KnownEndpoints(OidcProviderOptions provider)
    {
        var issuer = provider.IssuerUrl ?? "";
        var root = issuer.TrimEnd('/') + "/services/oauth2/";
        return new OidcProviderMetadata(issuer, root + "authorize", root + "token", root + "userinfo", "", []);
    }

    public override async Task<JsonObject> ClaimsAsync(OidcUpstream upstream, OidcClaimsRequest r, CancellationToken ct)
    {
        var claims = await upstream.GetJsonAsync(r.Metadata.UserinfoEndpoint!, r.Tokens, "userinfo", ct: ct) as JsonObject
            ?? throw new OidcUpstreamError("Salesforce's userinfo response is not a JSON object.");
        if (Str(claims, "sub") is null) throw new OidcUpstreamError("Salesforce's userinfo response has no subject (sub).");
        if (claims["updated_at"] is JsonValue u && u.TryGetValue<string>(out var text))
        {
            if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
                throw new OidcUpstreamError("Salesforce's userinfo response has an updated_at that is no RFC 3339 time.");
            claims["updated_at"] = at.ToUnixTimeSeconds();
        }
        if (Str(claims, "iss") is null) claims["iss"] = r.Provider.IssuerUrl;
        return claims;
    }
}
