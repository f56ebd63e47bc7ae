using System.Text.Json.Nodes;
using Gatehouse.Config;
using Microsoft.AspNetCore.WebUtilities;

namespace Gatehouse.SelfService.Strategies.Oidc.Presets;

/// <summary>
/// <c>x</c>: X (Twitter) with OAuth 1.0a, as Kratos signs in to X — <c>client_id</c> and <c>client_secret</c> are the
/// app's consumer key and secret. The submit asks <c>POST https://api.twitter.com/oauth/request_token</c> for a request
/// token, with the callback <c>&lt;redirect URI&gt;?state=&lt;state&gt;&amp;code=unused</c> (Kratos's way of getting the state
/// back), and sends the browser to <c>https://api.twitter.com/oauth/authenticate?oauth_token=…</c>. X returns with
/// <c>oauth_token</c> and <c>oauth_verifier</c> (or <c>denied</c>), which <c>POST …/oauth/access_token</c> turns into an
/// access token; <c>GET https://api.twitter.com/1.1/account/verify_credentials.json</c> (with <c>?include_email=true</c>
/// when <c>email</c> is in the scope), signed with it, gives <c>sub</c> (<c>id_str</c>), <c>name</c>, <c>picture</c>
/// (<c>profile_image_url_https</c>), <c>email</c>, <c>preferred_username</c> (<c>screen_name</c>), <c>website</c>
/// (<c>url</c>); <c>iss</c> is that URL. Every request is signed HMAC-SHA1. No PKCE, no nonce, and — as in Kratos — no
/// upstream token is kept in the credential.
/// </summary>
public sealed class XPreset : OidcPreset
{
    private const string RequestTokenUrl = "https://api.twitter.com/oauth/request_token";
    private const string AuthorizeUrl = "https://api.twitter.com/oauth/authenticate";
    private const string AccessTokenUrl = "https://api.twitter.com/oauth/access_token";
    private const string VerifyCredentials = "https://api.twitter.com/1.1/account/verify_credentials.json";

    public override string Name => "x";

    public override int ClaimsErrorStatus => StatusCodes.Status502BadGateway;

    protected override string Label => "X";

    public override bool RequestsIdToken => false;

    public override bool UsesDiscovery => false;

    public override bool SupportsPkce => false;

    public override OidcProviderMetadata KnownEndpoints(OidcProviderOptions provider) =>
        new(VerifyCredentials, AuthorizeUrl, AccessTokenUrl, VerifyCredentials, "", []);

    /// <summary>Kratos's <c>AuthURL</c>: a request token for a callback carrying the state, then X's authenticate page.</summary>
    public override async Task<string?> AuthorizationUrlAsync(OidcUpstream upstream, OidcProviderOptions provider, OidcProviderMetadata meta, string state, CancellationToken ct)
    {
        var callback = upstream.RedirectUri(provider) + "?state=" + Uri.EscapeDataString(state) + "&code=unused";
        var answer = await TokenRequestAsync(upstream, provider, RequestTokenUrl, "", [new("oauth_callback", callback)], ct,
            "Unable to sign in with X because the OAuth1 request token could not be initialized: ");
        if (answer.GetValueOrDefault("oauth_callback_confirmed") != "true")
            throw new OidcUpstreamError("Unable to sign in with X because the OAuth1 request token could not be initialized: oauth1: oauth_callback_confirmed was not true");
        if (answer.GetValueOrDefault("oauth_token") is not { Length: > 0 } requestToken)
            throw new OidcUpstreamError("Unable to sign in with X because the OAuth1 request token could not be initialized: oauth1: Response missing oauth_token or oauth_token_secret");
        return QueryHelpers.AddQueryString(provider.AuthUrl ?? AuthorizeUrl, "oauth_token", requestToken);
    }

    /// <summary>Kratos's <c>ExchangeToken</c>: the request token and verifier for an access token (signed with an empty token secret, as Kratos).</summary>
    public override async Task<OidcTokens> ExchangeAsync(OidcUpstream upstream, OidcExchangeRequest r, CancellationToken ct)
    {
        if (r.CallbackParameters.ContainsKey("denied")) throw new OidcUpstreamError("Unable to sign in with X because the user denied the request.") { Status = StatusCodes.Status400BadRequest };
        if (r.CallbackParameters.GetValueOrDefault("oauth_token") is not { Length: > 0 } requestToken
            || r.CallbackParameters.GetValueOrDefault("oauth_verifier") is not { Length: > 0 } verifier)
            throw new OidcUpstreamError("oauth1: Request missing oauth_token or oauth_verifier");
        var answer = await TokenRequestAsync(upstream, r.Provider, r.Provider.TokenUrl ?? r.Metadata.TokenEndpoint, "",
            [new("oauth_token", requestToken), new("oauth_verifier", verifier)], ct, "");
        if (answer.GetValueOrDefault("oauth_token") is not { Length: > 0 } token || answer.GetValueOrDefault("oauth_token_secret") is not { Length: > 0 } secret)
            throw new OidcUpstreamError("oauth1: Response missing oauth_token or oauth_token_secret");
        // The access token signs the account request only; Kratos keeps no OAuth 1.0a token in the credential.
        return new OidcTokens(null, null, null, null, new JsonObject { ["oauth_token"] = token, ["oauth_token_secret"] = secret });
    }

    public override async Task<JsonObject> ClaimsAsync(OidcUpstream upstream, OidcClaimsRequest r, CancellationToken ct)
    {
        var endpoint = r.Metadata.UserinfoEndpoint! + (r.Provider.Scope.Contains("email") ? "?include_email=true" : "");
        var token = (string)r.Tokens.Response!["oauth_token"]!;
        var secret = (string)r.Tokens.Response!["oauth_token_secret"]!;
        var request = new HttpRequestMessage(HttpMethod.Get, endpoint);
        request.Headers.TryAddWithoutValidation("Authorization",
            OAuth1Signature.Header(HttpMethod.Get, endpoint, r.Provider.ClientId, r.Provider.ClientSecret ?? "", secret, upstream.Time, [new("oauth_token", token)]));
        var user = await upstream.SendAsync(request, "user", ct);
        var claims = new JsonObject
        {
            ["iss"] = endpoint,
            ["sub"] = Str(user, "id_str") ?? throw new OidcUpstreamError("X's account answer has no id_str."),
        };
        CopyStrings(user, claims, ("name", "name"), ("picture", "profile_image_url_https"), ("email", "email"), ("preferred_username", "screen_name"), ("website", "url"));
        return claims;
    }

    /// <summary>A signed POST to a token endpoint of OAuth 1.0a, whose answer is form-encoded.</summary>
    private static async Task<Dictionary<string, string>> TokenRequestAsync(OidcUpstream upstream, OidcProviderOptions provider, string url, string tokenSecret,
        KeyValuePair<string, string>[] protocol, CancellationToken ct, string reasonPrefix)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url);
        request.Headers.TryAddWithoutValidation("Authorization",
            OAuth1Signature.Header(HttpMethod.Post, url, provider.ClientId, provider.ClientSecret ?? "", tokenSecret, upstream.Time, protocol));
        using var client = upstream.HttpClient();
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            var bytes = await OidcMetadataCache.ReadLimitedAsync(response.Content, OidcMetadataCache.MaxDocumentBytes, ct);
            var body = System.Text.Encoding.UTF8.GetString(bytes);
            if (!response.IsSuccessStatusCode)
                throw new OidcUpstreamError($"{reasonPrefix}oauth1: invalid status {(int)response.StatusCode}: {Shorten(body)}");
            return QueryHelpers.ParseQuery(body).ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            throw new OidcUpstreamError($"{reasonPrefix}X could not be reached: {e.Message}", e);
        }
    }

    private static string Shorten(string body) => body.Length <= 200 ? body : body[..200] + "…";
}
