using System.Globalization;
using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.SelfService.Strategies.Oidc.Presets;

/// <summary>
/// <c>vk</c>: plain OAuth2 at <c>https://oauth.vk.com/{authorize,access_token}</c>, no extra authorization parameters.
/// The account is <c>GET https://api.vk.com/method/users.get?fields=photo_200,nickname,bdate,sex&amp;access_token=…&amp;v=5.103</c>
/// (VK takes the token in the query; it is also sent as bearer): the first user of <c>response</c> — <c>sub</c> its id,
/// <c>given_name</c>, <c>family_name</c>, <c>nickname</c>, <c>picture</c> (<c>photo_200</c>), <c>gender</c> (1 female,
/// 2 male), <c>birthdate</c> (<c>bdate</c>); <c>email</c> comes from the token response, where VK puts it.
/// <c>iss</c> is the users.get URL.
/// </summary>
public sealed class VkPreset : OidcPreset
{
    private const string UsersGet = "https://api.vk.com/method/users.get";

    public override string Name => "vk";

    public override int ClaimsErrorStatus => StatusCodes.Status502BadGateway;

    protected override string Label => "VK";

    public override bool RequestsIdToken => false;

    public override bool UsesDiscovery => false;

    public override OidcProviderMetadata KnownEndpoints(OidcProviderOptions provider) =>
        new(UsersGet, "https://oauth.vk.com/authorize", "https://oauth.vk.com/access_token", UsersGet, "", []);

    public override void AddAuthorizationParameters(OidcProviderOptions provider, string nonce, bool forceLogin, List<KeyValuePair<string, string?>> query)
    {
    }

    public override async Task<JsonObject> ClaimsAsync(OidcUpstream upstream, OidcClaimsRequest r, CancellationToken ct)
    {
        var url = $"{UsersGet}?fields=photo_200,nickname,bdate,sex&access_token={Uri.EscapeDataString(r.Tokens.AccessToken ?? "")}&v=5.103";
        var answer = await upstream.GetJsonAsync(url, r.Tokens, "users.get", ct: ct) as JsonObject
            ?? throw new OidcUpstreamError("VK's users.get did not answer with an object.");
        if ((answer["response"] as JsonArray)?.FirstOrDefault() is not JsonObject user)
            throw new OidcUpstreamError("VK did not return a user in the userinfo request.");
        if (user["id"] is not JsonValue idValue || !idValue.TryGetValue<long>(out var id))
            throw new OidcUpstreamError("VK's users.get answered a user without an id.");
        var claims = new JsonObject { ["iss"] = UsersGet, ["sub"] = id.ToString(CultureInfo.InvariantCulture) };
        CopyStrings(user, claims, ("given_name", "first_name"), ("family_name", "last_name"), ("nickname", "nickname"), ("picture", "photo_200"), ("birthdate", "bdate"));
        if (Str(r.Tokens.Response, "email") is { } email) claims["email"] = email;
        var sex = user["sex"] is JsonValue s && s.TryGetValue<int>(out var n) ? n : 0;
        if (sex is 1 or 2) claims["gender"] = sex == 1 ? "female" : "male";
        return claims;
    }
}
