using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.SelfService.Strategies.Oidc.Presets;

/// <summary>
/// <c>facebook</c>: <c>https://facebook.com/dialog/oauth</c> and <c>https://graph.facebook.com/oauth/access_token</c>
/// (<c>openid</c> added to the scope, <c>prompt=login</c> / <c>requested_claims</c> as for a generic provider); the
/// account is the unversioned Graph API's <c>/me</c> with its fields, the call proved with <c>appsecret_proof</c>
/// (HMAC-SHA256 of the access token keyed with the app secret, hex), so a stolen token is useless without the secret.
/// An address Facebook returns counts as verified (it returns confirmed ones only).
/// </summary>
public sealed class FacebookPreset : OidcPreset
{
    private const string Me = "https://graph.facebook.com/me?fields=id,name,first_name,last_name,middle_name,email,picture,birthday,gender";

    public override string Name => "facebook";

    public override int ClaimsErrorStatus => StatusCodes.Status502BadGateway;

    protected override string Label => "Facebook";

    public override bool UsesDiscovery => false;

    // The ID token is not read (the Graph API is), so no nonce is bound to it.
    public override void AddAuthorizationParameters(OidcProviderOptions provider, string nonce, bool forceLogin, List<KeyValuePair<string, string?>> query)
    {
        if (provider.RequestedClaims is { Count: > 0 } claims) query.Add(new("claims", claims.ToJsonString()));
        if (forceLogin) query.Add(new("prompt", "login"));
    }

    public override OidcProviderMetadata KnownEndpoints(OidcProviderOptions provider) =>
        new("https://www.facebook.com", "https://facebook.com/dialog/oauth", "https://graph.facebook.com/oauth/access_token", Me, "", []);

    /// <summary>Graph API's <c>appsecret_proof</c>: hex HMAC-SHA256 of the access token, keyed with the app secret.</summary>
    public static string AppSecretProof(string secret, string accessToken) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(accessToken)));

    public override async Task<JsonObject> ClaimsAsync(OidcUpstream upstream, OidcClaimsRequest r, CancellationToken ct)
    {
        var proof = AppSecretProof(r.Provider.ClientSecret ?? "", r.Tokens.AccessToken ?? "");
        var user = await upstream.GetJsonAsync(r.Metadata.UserinfoEndpoint + "&appsecret_proof=" + proof, r.Tokens, "Graph API", ct: ct) as JsonObject
            ?? throw new OidcUpstreamError("Facebook's Graph API did not answer with a user.");
        var id = Str(user, "id") ?? throw new OidcUpstreamError("Facebook's Graph API answered a user without an id.");
        var email = Str(user, "email");
        var name = Str(user, "name") ?? "";
        // Kratos names the Graph URL as the issuer; Gatehouse leaves the proof out of it, as the mapper and logs see it.
        var claims = new JsonObject { ["iss"] = Me, ["sub"] = id, ["nickname"] = name, ["preferred_username"] = name };
        CopyStrings(user, claims, ("name", "name"), ("given_name", "first_name"), ("family_name", "last_name"), ("middle_name", "middle_name"),
            ("gender", "gender"), ("birthdate", "birthday"));
        if (Str((user["picture"] as JsonObject)?["data"], "url") is { } picture) claims["picture"] = picture;
        claims["email"] = email ?? "";
        claims["email_verified"] = email is not null;
        return claims;
    }
}
