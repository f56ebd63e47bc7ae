using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.SelfService.Strategies.Oidc.Presets;

/// <summary>
/// <c>dingtalk</c>: DingTalk's OAuth2 at <c>https://login.dingtalk.com/oauth2/auth</c> (with <c>prompt=consent</c>; DingTalk
/// takes the scopes <c>openid</c> or <c>openid corpid</c>) and its own token exchange, as Kratos does it: a JSON
/// <c>POST https://api.dingtalk.com/v1.0/oauth2/userAccessToken</c> of <c>{clientId, clientSecret, code, grantType}</c>
/// answered by <c>{accessToken, expireIn}</c> (a non-zero <c>code</c> is a refusal). DingTalk returns the code as
/// <c>authCode</c>. The account is <c>GET https://api.dingtalk.com/v1.0/contact/users/me</c> with the token in the
/// <c>x-acs-dingtalk-access-token</c> header: <c>sub</c> the <c>openId</c>, <c>name</c> and <c>nickname</c> the
/// <c>nick</c>, <c>picture</c> (<c>avatarUrl</c>), <c>email</c>; <c>iss</c> is that URL. Only the access token is kept.
/// </summary>
public sealed class DingTalkPreset : OidcPreset
{
    private const string UserInfo = "https://api.dingtalk.com/v1.0/contact/users/me";

    public override string Name => "dingtalk";

    public override int ClaimsErrorStatus => StatusCodes.Status502BadGateway;

    protected override string Label => "DingTalk";

    public override bool RequestsIdToken => false;

    public override bool UsesDiscovery => false;

    public override OidcProviderMetadata KnownEndpoints(OidcProviderOptions provider) =>
        new(UserInfo, "https://login.dingtalk.com/oauth2/auth", "https://api.dingtalk.com/v1.0/oauth2/userAccessToken", UserInfo, "", []);

    public override void AddAuthorizationParameters(OidcProviderOptions provider, string nonce, bool forceLogin, List<KeyValuePair<string, string?>> query) =>
        query.Add(new("prompt", "consent"));

    /// <summary>DingTalk's JSON exchange (no redirect URI, no PKCE verifier: Kratos sends neither).</summary>
    public override async Task<OidcTokens> ExchangeAsync(OidcUpstream upstream, OidcExchangeRequest r, CancellationToken ct)
    {
        var payload = new JsonObject
        {
            ["clientId"] = r.Provider.ClientId,
            ["clientSecret"] = r.Provider.ClientSecret ?? "",
            ["code"] = r.Code,
            ["grantType"] = "authorization_code",
        };
        var content = new StringContent(payload.ToJsonString());
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/json;charset=UTF-8");
        var request = new HttpRequestMessage(HttpMethod.Post, r.Provider.TokenUrl ?? r.Metadata.TokenEndpoint) { Content = content };
        var body = await upstream.SendAsync(request, "token", ct);
        if (body["code"] is JsonValue code && !(code.TryGetValue<long>(out var number) && number == 0))
            throw new OidcUpstreamError($"DingTalk refused the token request: code {code.ToJsonString()}, message {Str(body, "message") ?? "(none)"}.");
        if (Str(body, "accessToken") is not { } accessToken)
            throw new OidcUpstreamError("DingTalk's token response has no accessToken.");
        return new OidcTokens(null, accessToken, null, null, body);
    }

    public override async Task<JsonObject> ClaimsAsync(OidcUpstream upstream, OidcClaimsRequest r, CancellationToken ct)
    {
        var user = await upstream.GetJsonAsync(r.Metadata.UserinfoEndpoint!, r.Tokens, "user", request =>
        {
            request.Headers.Authorization = null;
            request.Headers.Accept.Clear();
            request.Headers.Add("x-acs-dingtalk-access-token", r.Tokens.AccessToken);
        }, ct: ct) as JsonObject ?? throw new OidcUpstreamError("DingTalk's user response is not a JSON object.");
        if (Str(user, "message") is { } message)
            throw new OidcUpstreamError($"DingTalk refused the user request: code {Str(user, "code") ?? "(none)"}, message {message}.");
        var claims = new JsonObject
        {
            ["iss"] = r.Metadata.UserinfoEndpoint,
            ["sub"] = Str(user, "openId") ?? throw new OidcUpstreamError("DingTalk's user response has no openId."),
        };
        CopyStrings(user, claims, ("nickname", "nick"), ("name", "nick"), ("picture", "avatarUrl"), ("email", "email"));
        return claims;
    }
}
