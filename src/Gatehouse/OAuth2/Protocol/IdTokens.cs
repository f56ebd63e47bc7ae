using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.OAuth2.Flows;
using Gatehouse.OAuth2.Keys;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Gatehouse.OAuth2.Protocol;

/// <summary>
/// ID tokens and userinfo claims of a login/consent grant (Hydra's <c>oauth2/session.go</c> + fosite's
/// <c>IDTokenClaims</c>): the consent's <c>session.id_token</c> claims at the top level, then the standard claims over
/// them (<c>iss, sub, aud, exp, iat, rat, auth_time, nonce, at_hash, c_hash, acr, amr, sid, jti</c>). Signed with the newest key of
/// <c>hydra.openid.id-token</c>, whose <c>kid</c> is in the header.
/// </summary>
public sealed class IdTokens(JsonWebKeyManager keys, OAuth2Settings settings)
{
    private static readonly JsonWebTokenHandler Handler = new();

    /// <summary>
    /// The claims every ID token and userinfo answer of the grant share; <paramref name="extra"/>, when given, replaces the
    /// consent's <c>session.id_token</c> (a token hook's claims).
    /// </summary>
    public JsonObject Claims(OAuth2Flow flow, string clientId, DateTime issuedAt, JsonObject? extra = null)
    {
        var login = JsonNode.Parse(flow.Login) as JsonObject ?? [];
        var consent = JsonNode.Parse(flow.Consent) as JsonObject ?? [];
        var claims = extra is not null ? (JsonObject)extra.DeepClone() : consent["session"]?["id_token"] is JsonObject stored ? (JsonObject)stored.DeepClone() : [];
        claims["iss"] = settings.Issuer;
        // The subject the client sees (pairwise or public), fixed when the consent verifier was spent; flows older than that: the subject.
        claims["sub"] = consent[LoginConsentService.SubjectObfuscatedKey]?.GetValue<string>() ?? flow.Subject;
        claims["aud"] = new JsonArray(clientId);
        claims["iat"] = Unix(issuedAt);
        claims["rat"] = Unix(flow.RequestedAt);
        if (login["authenticated_at"] is JsonValue authTime) claims["auth_time"] = authTime.GetValue<long>();
        if (login["acr"]?.GetValue<string>() is { Length: > 0 } acr) claims["acr"] = acr;
        else claims.Remove("acr");
        if (login["amr"] is JsonArray { Count: > 0 } amr) claims["amr"] = amr.DeepClone();
        else claims.Remove("amr");
        return claims;
    }

    /// <summary>
    /// The lifespan an ID token is signed with, as fosite's <c>DefaultStrategy.GenerateIDToken</c> (<c>handler/openid/strategy_jwt.go</c>)
    /// takes it: zero means one hour; a negative one (a client's lifespan may be negative, Hydra stores it) would put
    /// <c>exp</c> in the past, which fosite refuses with <c>server_error</c> ("expiry claim can not be in the past", a debug
    /// text Hydra does not show), so no ID token — and no token answer — is given.
    /// </summary>
    public static TimeSpan EffectiveLifespan(TimeSpan lifespan) =>
        lifespan == TimeSpan.Zero ? TimeSpan.FromHours(1)
        : lifespan < TimeSpan.Zero ? throw OAuth2Error.ServerError()
        : lifespan;

    /// <summary>
    /// Signs an ID token for the grant; <paramref name="accessToken"/> gives <c>at_hash</c>, <paramref name="code"/> <c>c_hash</c>.
    /// <paramref name="extra"/> (the claims a token hook set, <see cref="SessionClaims.IdToken"/>) replaces the consent's claims
    /// and carries <c>sid</c> itself: in Hydra <c>sid</c> is one of the ID token claims' <c>Extra</c>, which a hook's 200 answer
    /// replaces whole.
    /// </summary>
    /// <param name="refresh">A refresh grant's ID token: fosite's <c>GenerateIDToken</c> skips its authorization-request
    /// checks then, the <c>acr</c> fallback among them.</param>
    public async Task<string> IssueAsync(OAuth2Flow flow, AuthorizeRequest request, string clientId, string? accessToken, DateTime issuedAt, TimeSpan lifespan, string? code, CancellationToken ct,
        JsonObject? extra = null, bool refresh = false)
    {
        var signing = await keys.GetSigningKeyAsync(JsonWebKeyManager.IdTokenSet, ct);
        var claims = Claims(flow, clientId, issuedAt, extra);
        // fosite GenerateIDToken (handler/openid/strategy_jwt.go): acr_values was requested but the login gave no acr — "0",
        // least confidence. Not on refresh (its form is the token request's); not at /userinfo (the stored session has none).
        if (!refresh && request.AcrValues.Length > 0 && !claims.ContainsKey("acr")) claims["acr"] = "0";
        claims["exp"] = Unix(issuedAt + EffectiveLifespan(lifespan));
        claims["jti"] = Guid.NewGuid().ToString();
        if (request.Nonce.Length > 0) claims["nonce"] = request.Nonce;
        else claims.Remove("nonce");
        if (accessToken is not null) claims["at_hash"] = HalfHash(accessToken, signing.Credentials.Algorithm);
        var login = JsonNode.Parse(flow.Login) as JsonObject ?? [];
        if (extra is null && login["session_id"]?.GetValue<string>() is { Length: > 0 } sid) claims["sid"] = sid;
        if (code is not null) claims["c_hash"] = HalfHash(code, signing.Credentials.Algorithm);
        else claims.Remove("c_hash");
        return Handler.CreateToken(claims.ToJsonString(), signing.Credentials);
    }

    /// <summary>OpenID Connect Core 3.1.3.6: the left half of the hash (of the algorithm's size) of the ASCII token, base64url.</summary>
    public static string HalfHash(string value, string algorithm)
    {
        var bytes = Encoding.ASCII.GetBytes(value);
        var hash = algorithm[^3..] switch
        {
            "384" => SHA384.HashData(bytes),
            "512" => SHA512.HashData(bytes),
            _ => SHA256.HashData(bytes),
        };
        return System.Buffers.Text.Base64Url.EncodeToString(hash.AsSpan(0, hash.Length / 2));
    }

    public static long Unix(DateTime t) => new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)).ToUnixTimeSeconds();
}
