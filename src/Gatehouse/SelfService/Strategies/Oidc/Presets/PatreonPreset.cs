using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.SelfService.Strategies.Oidc.Presets;

/// <summary>
/// <c>patreon</c>: plain OAuth2 at <c>https://www.patreon.com/oauth2/authorize</c> and
/// <c>https://www.patreon.com/api/oauth2/token</c>; <c>prompt=consent</c> on a refresh, else <c>prompt=none</c>. The
/// account is API v2's <c>identity</c> with the user's name, e-mail and image fields: <c>sub</c> the id, <c>name</c> the
/// full name, <c>given_name</c>, <c>family_name</c> / <c>last_name</c>, <c>email</c>, <c>picture</c>.
/// </summary>
public sealed class PatreonPreset : OidcPreset
{
    private const string Identity = "https://www.patreon.com/api/oauth2/v2/identity?fields%5Buser%5D=first_name,last_name,url,full_name,email,image_url";

    public override string Name => "patreon";

    public override int ClaimsErrorStatus => StatusCodes.Status502BadGateway;

    protected override string Label => "Patreon";

    public override bool RequestsIdToken => false;

    public override bool UsesDiscovery => false;

    public override OidcProviderMetadata KnownEndpoints(OidcProviderOptions provider) =>
        new("https://www.patreon.com/", "https://www.patreon.com/oauth2/authorize", "https://www.patreon.com/api/oauth2/token", Identity, "", []);

    public override void AddAuthorizationParameters(OidcProviderOptions provider, string nonce, bool forceLogin, List<KeyValuePair<string, string?>> query) =>
        query.Add(new("prompt", forceLogin ? "consent" : "none"));

    public override async Task<JsonObject> ClaimsAsync(OidcUpstream upstream, OidcClaimsRequest r, CancellationToken ct)
    {
        var answer = await upstream.GetJsonAsync(r.Metadata.UserinfoEndpoint!, r.Tokens, "identity API", ct: ct) as JsonObject;
        var data = answer?["data"] as JsonObject ?? throw new OidcUpstreamError("Patreon's identity API did not answer with a user.");
        var attributes = data["attributes"] as JsonObject ?? [];
        var claims = new JsonObject { ["iss"] = r.Metadata.Issuer, ["sub"] = Str(data, "id") ?? throw new OidcUpstreamError("Patreon's identity API answered a user without an id.") };
        CopyStrings(attributes, claims, ("name", "full_name"), ("email", "email"), ("given_name", "first_name"), ("family_name", "last_name"), ("last_name", "last_name"), ("picture", "image_url"));
        return claims;
    }
}
