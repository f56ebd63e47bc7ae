using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.SelfService.Strategies.Oidc.Presets;

/// <summary>
/// <c>amazon</c> (Login with Amazon): plain OAuth2 at <c>https://www.amazon.com/ap/oa</c> and
/// <c>https://api.amazon.com/auth/o2/token</c>. Only the scopes <c>profile</c>, <c>profile:user_id</c> and
/// <c>postal_code</c> exist, and Amazon publishes no PKCE support, so <c>pkce</c> must say <c>force</c> or <c>never</c>
/// (both checked at start-up). The account is <c>GET https://api.amazon.com/user/profile</c> with the token in
/// <c>x-amz-access-token</c> (and as bearer): <c>sub</c> the user id, <c>name</c>, <c>email</c>, and — as Kratos maps it —
/// the postal code as <c>zoneinfo</c>; <c>iss</c> is the token URL.
/// </summary>
public sealed class AmazonPreset : OidcPreset
{
    private const string Token = "https://api.amazon.com/auth/o2/token";
    private static readonly string[] Supported = ["profile", "profile:user_id", "postal_code"];

    public override string Name => "amazon";

    public override int ClaimsErrorStatus => StatusCodes.Status502BadGateway;

    protected override string Label => "Amazon";

    public override bool RequestsIdToken => false;

    public override bool UsesDiscovery => false;

    public override void Check(OidcProviderOptions provider, string at)
    {
        if (provider.Scope.FirstOrDefault(s => !Supported.Contains(s)) is { } scope)
            throw new ConfigException($"{at}.scope: \"{scope}\" is not a scope Amazon supports; use {string.Join(", ", Supported)}");
        if (provider.Pkce == "auto")
            throw new ConfigException($"{at}.pkce: auto is not possible for amazon (Amazon publishes no PKCE support to discover); set force or never");
    }

    public override OidcProviderMetadata KnownEndpoints(OidcProviderOptions provider) =>
        new(Token, "https://www.amazon.com/ap/oa", Token, "https://api.amazon.com/user/profile", "", []);

    public override async Task<JsonObject> ClaimsAsync(OidcUpstream upstream, OidcClaimsRequest r, CancellationToken ct)
    {
        var profile = await upstream.GetJsonAsync(r.Metadata.UserinfoEndpoint!, r.Tokens, "profile API",
            request => request.Headers.Add("x-amz-access-token", r.Tokens.AccessToken), ct: ct) as JsonObject
            ?? throw new OidcUpstreamError("Amazon's profile API did not answer with a profile.");
        var claims = new JsonObject { ["iss"] = r.Metadata.Issuer, ["sub"] = Str(profile, "user_id") ?? throw new OidcUpstreamError("Amazon's profile API answered without a user_id.") };
        CopyStrings(profile, claims, ("name", "name"), ("email", "email"), ("zoneinfo", "postal_code"));
        return claims;
    }
}
