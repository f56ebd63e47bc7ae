using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.SelfService.Strategies.Oidc.Presets;

/// <summary>
/// <c>netid</c>: OpenID Connect at the netID broker, always <c>https://broker.netid.de/</c> (Kratos overrides
/// <c>issuer_url</c>) with <c>/authorize</c> and <c>/token</c>; <c>openid</c> is added to the scope. The ID token is
/// validated against the broker's discovery keys (client, nonce) and gives <c>iss</c> and <c>sub</c>; the other claims
/// are <c>/userinfo</c>'s, read with the access token. (Kratos's FedCM token exchange for native sign-in is not served.)
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
