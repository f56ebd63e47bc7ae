using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.SelfService.Strategies.Oidc.Presets;

/// <summary>
/// <c>netid</c>: OpenID Connect at the netID broker, always <c>https://broker.netid.de/</c> (Kratos overrides
/// <c>issuer_url</c>) with <c>/authorize</c> and <c>/token</c>; <c>openid</c> is added to the scope. The ID token is
/// validated against the broker's discovery keys (client, nonce) and gives <c>iss</c> and <c>sub</c>; the other claims
/// are <c>/userinfo</c>'s, read with the access token. FedCM (Kratos's <c>ProviderNetID.Verify</c>): the browser's
/// assertion is exchanged at the broker's token endpoint (<c>grant_type=netid_fedcm</c>, <c>fedcm_token</c>, with
/// <c>net_id_token_origin_header</c> as <c>Origin</c>) for an ID token, verified with the broker's discovery keys.
/// </summary>
public sealed class NetIdPreset : OidcPreset
{
    private const string Broker = "https://broker.netid.de/";

    public override string Name => "netid";

    public override int ClaimsErrorStatus => StatusCodes.Status502BadGateway;

    protected override string Label => "netID";

    public override bool UsesDiscovery => false;

    public override void Check(OidcProviderOptions provider, string at) => provider.IssuerUrl = Broker;

    public override OidcProviderMetadata KnownEndpoints(OidcProviderOptions provider) =>
        new(Broker, Broker + "authorize", Broker + "token", Broker + "userinfo", "", []);

    public override bool SupportsFedcm => true;

    public override bool ExchangesFedcmToken => true;

    public override async Task<(string IdToken, OidcProviderMetadata Issuer)> FedcmIdTokenAsync(OidcUpstream upstream, OidcProviderOptions provider, string assertion, CancellationToken ct)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Broker + "token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", "netid_fedcm"), new("fedcm_token", assertion)]),
        };
        // The broker accepts the exchange only from one of the client's registered origins.
        if (!string.IsNullOrEmpty(provider.NetIdTokenOriginHeader)) request.Headers.TryAddWithoutValidation("Origin", provider.NetIdTokenOriginHeader);
        var answer = await upstream.SendAsync(request, "FedCM token exchange", ct);
        var idToken = answer["id_token"] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0
            ? s
            : throw new OidcUpstreamError("netID's FedCM token exchange answered without an id_token.");
        return (idToken, await upstream.Discovery.MetadataAsync(Broker, ct));
    }

    public override async Task<JsonObject> ClaimsAsync(OidcUpstream upstream, OidcClaimsRequest r, CancellationToken ct)
    {
        var keys = await upstream.Discovery.MetadataAsync(Broker, ct);
        var token = await upstream.IdTokenClaimsAsync(r, keys, ct);
        var claims = await upstream.GetJsonAsync(r.Metadata.UserinfoEndpoint!, r.Tokens, "userinfo", ct: ct) as JsonObject
            ?? throw new OidcUpstreamError("netID's userinfo response is not a JSON object.");
        claims["iss"] = token["iss"]?.DeepClone();
        claims["sub"] = token["sub"]?.DeepClone();
        return claims;
    }
}
