using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.SelfService.Strategies.Oidc.Presets;

/// <summary>
/// <c>lark</c> (Lark / Feishu): plain OAuth2 at <c>https://passport.feishu.cn/suite/passport/oauth/{authorize,token}</c>,
/// the client id and secret in the token request's form, no extra authorization parameters. The account is
/// <c>/suite/passport/oauth/userinfo</c>, read with the access token: <c>sub</c> the <c>open_id</c>, <c>name</c> and
/// <c>nickname</c> the name, <c>picture</c> (<c>avatar_url</c>), <c>email</c>, <c>phone_number</c> (<c>mobile</c>);
/// <c>iss</c> is the userinfo URL.
/// </summary>
public sealed class LarkPreset : OidcPreset
{
    private const string Passport = "https://passport.feishu.cn/suite/passport/oauth/";

    public override string Name => "lark";

    public override int ClaimsErrorStatus => StatusCodes.Status502BadGateway;

    protected override string Label => "Lark";

    public override bool RequestsIdToken => false;

    public override bool UsesDiscovery => false;

    public override TokenEndpointAuth TokenEndpointAuth => TokenEndpointAuth.InForm;

    public override OidcProviderMetadata KnownEndpoints(OidcProviderOptions provider) =>
        new(Passport + "userinfo", Passport + "authorize", Passport + "token", Passport + "userinfo", "", []);

    public override void AddAuthorizationParameters(OidcProviderOptions provider, string nonce, bool forceLogin, List<KeyValuePair<string, string?>> query)
    {
    }

    public override async Task<JsonObject> ClaimsAsync(OidcUpstream upstream, OidcClaimsRequest r, CancellationToken ct)
    {
        var user = await upstream.GetJsonAsync(r.Metadata.UserinfoEndpoint!, r.Tokens, "userinfo", ct: ct) as JsonObject
            ?? throw new OidcUpstreamError("Lark's userinfo response is not a JSON object.");
        var claims = new JsonObject
        {
            ["iss"] = r.Metadata.UserinfoEndpoint,
            ["sub"] = Str(user, "open_id") ?? throw new OidcUpstreamError("Lark's userinfo response has no open_id."),
        };
        CopyStrings(user, claims, ("name", "name"), ("nickname", "name"), ("picture", "avatar_url"), ("email", "email"), ("phone_number", "mobile"));
        return claims;
    }
}
