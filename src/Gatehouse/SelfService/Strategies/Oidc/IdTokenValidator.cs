using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.SelfService.Strategies.Oidc;

/// <summary>
/// Validates an upstream ID token (OpenID Connect Core §3.1.3.7): signature by a key of the provider's published key set
/// (refetched once when the token names a key the cached set lacks: rotation), issuer, audience (the client id or one of
/// <c>additional_id_token_audiences</c>), expiry (no clock skew, as Kratos's go-oidc verifier) and the nonce Gatehouse sent.
/// The claims come back as JSON; anything wrong is an <see cref="OidcUpstreamError"/> saying what.
/// </summary>
public sealed class IdTokenValidator(OidcMetadataCache metadata, TimeProvider time)
{
    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    /// <param name="expectedNonce">The nonce sent in the authorization request; null when none was sent (native sign-in may skip it).</param>
    /// <param name="additionalIssuers">Issuers accepted besides the provider's own.</param>
    /// <param name="algorithms">The signature algorithms accepted; null: any the keys allow.</param>
    public async Task<JsonObject> ValidateAsync(string idToken, OidcProviderMetadata provider, IReadOnlyCollection<string> audiences, string? expectedNonce, CancellationToken ct,
        IReadOnlyCollection<string>? additionalIssuers = null, IReadOnlyCollection<string>? algorithms = null)
    {
        var keys = await metadata.KeysAsync(provider.JwksUri, refresh: false, ct);
        var result = await Handler.ValidateTokenAsync(idToken, Parameters(provider, audiences, keys, additionalIssuers, algorithms));
        if (result.Exception is SecurityTokenSignatureKeyNotFoundException)
        {
            keys = await metadata.KeysAsync(provider.JwksUri, refresh: true, ct);
            result = await Handler.ValidateTokenAsync(idToken, Parameters(provider, audiences, keys, additionalIssuers, algorithms));
        }
        if (!result.IsValid) throw Invalid(Describe(result.Exception));
        var token = (JsonWebToken)result.SecurityToken;
        var claims = JsonNode.Parse(Base64UrlEncoder.Decode(token.EncodedPayload)) as JsonObject
            ?? throw Invalid("its payload is not a JSON object.");
        if (claims["sub"] is not JsonValue sub || sub.GetValueKind() != System.Text.Json.JsonValueKind.String || sub.GetValue<string>().Length == 0)
            throw Invalid("it has no subject (sub).");
        if (expectedNonce is not null)
        {
            var nonce = claims["nonce"] is JsonValue n && n.GetValueKind() == System.Text.Json.JsonValueKind.String ? n.GetValue<string>() : null;
            if (nonce is null || !System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                    System.Text.Encoding.UTF8.GetBytes(nonce), System.Text.Encoding.UTF8.GetBytes(expectedNonce)))
                throw Invalid("its nonce does not match the one sent with the request.");
        }
        return claims;
    }

    private static OidcUpstreamError Invalid(string why) => new("The ID token is invalid: " + why) { Step = OidcTestSteps.IdTokenVerify };

    private TokenValidationParameters Parameters(OidcProviderMetadata provider, IReadOnlyCollection<string> audiences, JsonWebKeySet keys,
        IReadOnlyCollection<string>? additionalIssuers, IReadOnlyCollection<string>? algorithms) => new()
    {
        ValidIssuer = provider.Issuer,
        ValidIssuers = additionalIssuers,
        ValidAlgorithms = algorithms,
        ValidAudiences = audiences,
        IssuerSigningKeys = keys.GetSigningKeys(),
        RequireSignedTokens = true,
        RequireExpirationTime = true,
        ValidateLifetime = true,
        ClockSkew = TimeSpan.Zero,
        // The lifetime is checked against the injected clock (tests move it), with no skew.
        LifetimeValidator = (notBefore, expires, _, _) =>
        {
            var now = time.GetUtcNow().UtcDateTime;
            if (expires is null) throw new SecurityTokenNoExpirationException("no exp");
            if (now >= expires.Value) throw new SecurityTokenExpiredException("expired") { Expires = expires.Value };
            if (notBefore is { } nbf && nbf > now) throw new SecurityTokenNotYetValidException("not yet valid") { NotBefore = nbf };
            return true;
        },
        // Which key signed is decided by the key set alone (no "kid"-less guessing across sets).
        TryAllIssuerSigningKeys = true,
    };

    private static string Describe(Exception? e) => e switch
    {
        SecurityTokenInvalidIssuerException => "it was issued by another issuer.",
        SecurityTokenInvalidAudienceException => "it was issued to another client (audience).",
        SecurityTokenExpiredException => "it has expired.",
        SecurityTokenNotYetValidException => "it is not valid yet.",
        SecurityTokenNoExpirationException => "it has no expiry (exp).",
        SecurityTokenSignatureKeyNotFoundException => "it is signed with a key the provider does not publish.",
        SecurityTokenInvalidAlgorithmException => "it is signed with an algorithm the provider does not use.",
        SecurityTokenInvalidSignatureException => "its signature does not verify.",
        SecurityTokenMalformedException or ArgumentException => "it is not a well-formed JWT.",
        _ => "it could not be validated.",
    };
}
