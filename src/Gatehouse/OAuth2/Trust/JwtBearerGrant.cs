using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.OAuth2.Clients;
using Gatehouse.OAuth2.Keys;
using Gatehouse.OAuth2.Protocol;
using Gatehouse.OAuth2.Tokens;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.OAuth2.Trust;

/// <summary>
/// <c>grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer</c> (RFC 7523 2.1) as fosite's <c>handler/rfc7523</c>: a JWT
/// of a trusted issuer (<see cref="TrustedJwtIssuer"/>) about a subject is exchanged by an authenticated client for an
/// access token of that subject, with scopes the trust allows. No refresh token, no ID token.
/// </summary>
public sealed class JwtBearerGrant(ITrustedJwtIssuerStore trusts, IJwtAssertionStore used, OAuth2TokenService tokens, OAuth2Settings settings, TimeProvider time, TokenHook hook)
{
    public const string GrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer";

    public async Task<JsonObject> ExchangeAsync(OAuth2ClientService.Loaded client, IFormCollection form, CancellationToken ct)
    {
        var doc = client.Document;
        if (!doc.GrantTypes.Contains(GrantType))
            throw TokenEndpoints.UnauthorizedClient($"The OAuth 2.0 Client is not allowed to use authorization grant \"{GrantType}\".");
        var assertion = form["assertion"].ToString();
        if (assertion.Length == 0)
            throw OAuth2Error.InvalidRequest($"The assertion request parameter must be set when using grant_type of '{GrantType}'.");
        var jws = CompactJws.TryParse(assertion) ?? throw OAuth2Error.InvalidGrant("Unable to parse JSON Web Token passed in \"assertion\" request parameter.");
        var issuer = jws.StringClaim("iss") ?? "";
        var subject = jws.StringClaim("sub") ?? "";
        if (issuer.Length == 0) throw OAuth2Error.InvalidGrant("The JWT in \"assertion\" request parameter MUST contain an \"iss\" (issuer) claim.");
        if (subject.Length == 0) throw OAuth2Error.InvalidGrant("The JWT in \"assertion\" request parameter MUST contain a \"sub\" (subject) claim.");

        var now = time.GetUtcNow();
        var trust = await FindTrustAsync(jws, issuer, subject, now.UtcDateTime, ct);
        ValidateClaims(jws, now);
        if (jws.StringClaim("jti") is { Length: > 0 } seen && await used.IsKnownAsync(SHA256.HashData(Encoding.UTF8.GetBytes(seen)), now.UtcDateTime, ct)) throw JtiKnown();

        var requested = ScopeStrategy.Split(form["scope"].ToString());
        var allowed = System.Text.Json.JsonSerializer.Deserialize<string[]>(trust.Scope) ?? [];
        foreach (var s in requested)
        {
            if (!settings.AllowsScope(allowed, s))
                throw OAuth2Error.InvalidScope($"The public key registered for issuer \"{issuer}\" and subject \"{subject}\" is not allowed to request scope \"{s}\".");
        }

        if (jws.StringClaim("jti") is { Length: > 0 } jti
            && !await used.TryRecordAsync(SHA256.HashData(Encoding.UTF8.GetBytes(jti)), DateTimeOffset.FromUnixTimeSeconds(jws.NumericDate("exp")!.Value).UtcDateTime, now.UtcDateTime, ct))
            throw JtiKnown();

        var lifespan = doc.Lifespan("jwt_bearer_grant_access_token_lifespan") ?? settings.AccessTokenLifespan;
        // Hydra's token hook runs for this grant too, after fosite's checks (the jti is already spent then).
        var extra = hook.Configured ? await hook.RunForClientAsync(new TokenHookRequest(client.ClientId, requested, requested, [], form), subject, doc, lifespan, ct) : null;
        var issued = await tokens.NewAccessTokenAsync(doc, Guid.CreateVersion7(), client.ClientId, subject, requested, [], extra, lifespan, ct);
        await tokens.AddAsync([issued.Row], ct);
        return new JsonObject
        {
            ["access_token"] = issued.Token,
            ["expires_in"] = (long)Math.Round((issued.Row.ExpiresAt - issued.Row.IssuedAt).TotalSeconds),
            ["scope"] = string.Join(' ', requested),
            ["token_type"] = "bearer",
        };
    }

    private static OAuth2Error JtiKnown() => new(400, "jti_known", "The jti was already used.");

    /// <summary>fosite's <c>findPublicKeyForToken</c>: the trust of the header's <c>kid</c>, else the first trusted key that verifies.</summary>
    private async Task<TrustedJwtIssuer> FindTrustAsync(CompactJws jws, string issuer, string subject, DateTime now, CancellationToken ct)
    {
        var notFound = OAuth2Error.InvalidGrant($"No public JWK was registered for issuer \"{issuer}\" and subject \"{subject}\", and public key is required to check signature of JWT in \"assertion\" request parameter.");
        var candidates = await trusts.FindForAsync(issuer, subject, now, ct);
        if (jws.KeyId is { Length: > 0 } kid)
        {
            var trust = candidates.FirstOrDefault(t => t.KeyId == kid) ?? throw notFound;
            if (!await jws.VerifyAsync(Key(trust))) throw OAuth2Error.InvalidGrant("Unable to verify the integrity of the 'assertion' value.");
            return trust;
        }
        foreach (var trust in candidates)
        {
            if (await jws.VerifyAsync(Key(trust))) return trust;
        }
        throw notFound;
    }

    private static SecurityKey Key(TrustedJwtIssuer trust) =>
        Jwk.Load(trust.PublicKey).PublicVerificationKey() ?? throw OAuth2Error.InvalidGrant("Unable to verify the integrity of the 'assertion' value.");

    /// <summary>fosite's <c>validateTokenClaims</c> with Hydra's <c>oauth2.grant.jwt.*</c> settings.</summary>
    private void ValidateClaims(CompactJws jws, DateTimeOffset now)
    {
        var audience = jws.Audience;
        if (audience.Count == 0) throw OAuth2Error.InvalidGrant("The JWT in \"assertion\" request parameter MUST contain an \"aud\" (audience) claim.");
        var urls = settings.TokenUrls;
        if (!audience.Any(a => urls.Contains(a, StringComparer.Ordinal)))
            throw OAuth2Error.InvalidGrant($"The JWT in \"assertion\" request parameter MUST contain an \"aud\" (audience) claim containing a value \"{string.Join("\" or \"", urls)}\" that identifies the authorization server as an intended audience.");
        var exp = jws.NumericDate("exp") ?? throw OAuth2Error.InvalidGrant("The JWT in \"assertion\" request parameter MUST contain an \"exp\" (expiration time) claim.");
        var nowSeconds = now.ToUnixTimeSeconds();
        if (exp < nowSeconds) throw OAuth2Error.InvalidGrant("The JWT in \"assertion\" request parameter expired.");
        if (jws.NumericDate("nbf") is { } nbf && nbf >= nowSeconds)
            throw OAuth2Error.InvalidGrant($"The JWT in \"assertion\" request parameter contains an \"nbf\" (not before) claim, that identifies the time '{Rfc3339(nbf)}' before which the token MUST NOT be accepted.");
        var iat = jws.NumericDate("iat");
        if (!settings.JwtGrantIatOptional && iat is null)
            throw OAuth2Error.InvalidGrant("The JWT in \"assertion\" request parameter MUST contain an \"iat\" (issued at) claim.");
        var issued = iat ?? nowSeconds;
        if (TimeSpan.FromSeconds(exp - issued) > settings.JwtGrantMaxTtl)
            throw OAuth2Error.InvalidGrant($"The JWT in \"assertion\" request parameter contains an \"exp\" (expiration time) claim with value \"{Rfc3339(exp)}\" that is unreasonably far in the future, considering token issued at \"{Rfc3339(issued)}\".");
        if (!settings.JwtGrantJtiOptional && jws.StringClaim("jti") is not { Length: > 0 })
            throw OAuth2Error.InvalidGrant("The JWT in \"assertion\" request parameter MUST contain an \"jti\" (JWT ID) claim.");
    }

    private static string Rfc3339(long unix) => DateTimeOffset.FromUnixTimeSeconds(unix).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
