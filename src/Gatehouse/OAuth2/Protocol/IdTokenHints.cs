using System.Buffers.Text;
using System.Text.Json.Nodes;
using Gatehouse.OAuth2.Keys;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.OAuth2.Protocol;

/// <summary>
/// An <c>id_token_hint</c> (at <c>/oauth2/auth</c> and at logout), read as Hydra's <c>OpenIDJWTSigner().Decode</c> reads
/// it: an ID token this server signed, expired or not.
/// </summary>
public sealed class IdTokenHints(JsonWebKeyManager keys, TimeProvider time)
{
    private static readonly JsonWebTokenHandler Handler = new();

    /// <summary>
    /// The hint's claims: signed by one of this server's keys; expired tokens are accepted (Hydra), tokens issued in the
    /// future are not. Anything else is <c>invalid_request</c> with go-jose's words.
    /// </summary>
    public async Task<JsonObject> DecodeAsync(string hint, CancellationToken ct)
    {
        if (hint.Count(c => c == '.') != 2) throw OAuth2Error.InvalidRequest("go-jose/go-jose: compact JWS format must have three parts");
        var publicKeys = (await keys.PublicKeysAsync(ct)).Select(k => (SecurityKey)new JsonWebKey(k.Serialize())).ToList();
        var result = await Handler.ValidateTokenAsync(hint, new TokenValidationParameters
        {
            IssuerSigningKeys = publicKeys,
            ValidateIssuer = false,
            ValidateAudience = false,
            ValidateLifetime = false,
            RequireExpirationTime = false,
            TryAllIssuerSigningKeys = true,
        });
        if (!result.IsValid || result.SecurityToken is not JsonWebToken token)
            throw OAuth2Error.InvalidRequest(result.Exception is SecurityTokenMalformedException or ArgumentException
                ? "go-jose/go-jose: compact JWS format must have three parts"
                : "go-jose/go-jose: error in cryptographic primitive");
        JsonObject claims;
        try
        {
            claims = JsonNode.Parse(Base64Url.DecodeFromChars(token.EncodedPayload)) as JsonObject ?? throw OAuth2Error.InvalidRequest("The ID token hint's payload is not a JSON object.");
        }
        catch (System.Text.Json.JsonException)
        {
            throw OAuth2Error.InvalidRequest("The ID token hint's payload is not a JSON object.");
        }
        if (claims["iat"] is JsonValue iat && iat.TryGetValue<double>(out var issuedAt) && issuedAt > time.GetUtcNow().ToUnixTimeSeconds())
            throw OAuth2Error.InvalidRequest("Token used before issued");
        return claims;
    }

    /// <summary>The hint's <c>sub</c>, or "" when it has none (or not as a string).</summary>
    public static string Subject(JsonObject claims) => claims["sub"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";
}
