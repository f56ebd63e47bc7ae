using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.SelfService.Strategies.Oidc.Presets;

/// <summary>
/// <c>yandex</c>: plain OAuth2 at <c>https://oauth.yandex.com/{authorize,token}</c>; the account is
/// <c>https://login.yandex.ru/info?format=json</c>: <c>sub</c> the id, <c>given_name</c>, <c>family_name</c>,
/// <c>email</c> (<c>default_email</c>), <c>picture</c> (the avatar's 200 px URL unless the avatar is empty),
/// <c>gender</c>, <c>birthdate</c>. The token goes in Yandex's <c>Authorization: OAuth</c> header, not the URL.
/// </summary>
public sealed class YandexPreset : OidcPreset
{
    public override string Name => "yandex";

    public override int ClaimsErrorStatus => StatusCodes.Status502BadGateway;

    protected override string Label => "Yandex";

    public override bool RequestsIdToken => false;

    public override bool UsesDiscovery => false;

    public override OidcProviderMetadata KnownEndpoints(OidcProviderOptions provider) =>
        new("https://login.yandex.ru/info", "https://oauth.yandex.com/authorize", "https://oauth.yandex.com/token", "https://login.yandex.ru/info?format=json", "", []);

    public override async Task<JsonObject> ClaimsAsync(OidcUpstream upstream, OidcClaimsRequest r, CancellationToken ct)
    {
        var user = await upstream.GetJsonAsync(r.Metadata.UserinfoEndpoint!, r.Tokens, "login API",
            request => request.Headers.Authorization = new AuthenticationHeaderValue("OAuth", r.Tokens.AccessToken), ct: ct) as JsonObject
            ?? throw new OidcUpstreamError("Yandex's login API did not answer with a user.");
        var claims = new JsonObject { ["iss"] = r.Metadata.Issuer, ["sub"] = Str(user, "id") ?? throw new OidcUpstreamError("Yandex's login API answered a user without an id.") };
        CopyStrings(user, claims, ("given_name", "first_name"), ("family_name", "last_name"), ("email", "default_email"), ("gender", "sex"), ("birthdate", "birthday"));
        var emptyAvatar = user["is_avatar_empty"] is JsonValue v && v.TryGetValue<bool>(out var empty) && empty;
        if (!emptyAvatar && Str(user, "default_avatar_id") is { } avatar) claims["picture"] = $"https://avatars.yandex.net/get-yapic/{avatar}/islands-200";
        return claims;
    }
}
