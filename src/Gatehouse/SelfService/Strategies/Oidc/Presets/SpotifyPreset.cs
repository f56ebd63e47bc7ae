using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.SelfService.Strategies.Oidc.Presets;

/// <summary>
/// <c>spotify</c>: plain OAuth2 at <c>https://accounts.spotify.com/{authorize,api/token}</c>. Every configured scope must
/// be granted; the account is the Web API's <c>GET https://api.spotify.com/v1/me</c>: <c>sub</c> the id, <c>name</c> and
/// <c>nickname</c> the display name, <c>email</c>, <c>picture</c> the first image, <c>profile</c> the Spotify URL,
/// <c>birthdate</c>; <c>iss</c> is the token URL.
/// </summary>
public sealed class SpotifyPreset : OidcPreset
{
    private const string Token = "https://accounts.spotify.com/api/token";

    public override string Name => "spotify";

    public override int ClaimsErrorStatus => StatusCodes.Status502BadGateway;

    protected override string Label => "Spotify";

    public override bool RequestsIdToken => false;

    public override bool UsesDiscovery => false;

    public override OidcProviderMetadata KnownEndpoints(OidcProviderOptions provider) =>
        new(Token, "https://accounts.spotify.com/authorize", Token, "https://api.spotify.com/v1/me", "", []);

    public override async Task<JsonObject> ClaimsAsync(OidcUpstream upstream, OidcClaimsRequest r, CancellationToken ct)
    {
        RequireGrantedScopes(r.Provider, r.Tokens.Scope, ' ');
        var user = await upstream.GetJsonAsync(r.Metadata.UserinfoEndpoint!, r.Tokens, "Web API /me", ct: ct) as JsonObject
            ?? throw new OidcUpstreamError("Spotify's Web API did not answer with a user.");
        var claims = new JsonObject { ["sub"] = Str(user, "id") ?? throw new OidcUpstreamError("Spotify's Web API answered a user without an id."), ["iss"] = r.Metadata.Issuer };
        CopyStrings(user, claims, ("name", "display_name"), ("nickname", "display_name"), ("email", "email"), ("birthdate", "birthdate"));
        if (Str((user["images"] as JsonArray)?.FirstOrDefault(), "url") is { } picture) claims["picture"] = picture;
        if (Str(user["external_urls"], "spotify") is { } profile) claims["profile"] = profile;
        return claims;
    }
}
