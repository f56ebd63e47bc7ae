using System.Security.Cryptography;
using System.Text;
using Gatehouse.OAuth2.Clients;
using Gatehouse.OAuth2.Keys;
using Gatehouse.OAuth2.Tokens;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.OAuth2.Protocol;

/// <summary>
/// <c>private_key_jwt</c> client authentication (RFC 7523 2.2, OpenID Connect Core 9) as fosite's
/// <c>DefaultClientAuthenticationStrategy</c>: the <c>client_assertion</c> is a JWT signed with a key of the client's
/// <c>jwks</c> or <c>jwks_uri</c> under its <c>token_endpoint_auth_signing_alg</c>; <c>iss</c> and <c>sub</c> are the client
/// id, <c>aud</c> a token endpoint URL, <c>exp</c> is required and the <c>jti</c> works once until the assertion expires.
/// </summary>
public sealed class ClientAssertionAuthenticator(OAuth2ClientService clients, ClientJwksFetcher fetcher, IJwtAssertionStore used,
    OAuth2Settings settings, TimeProvider time)
{
    public const string JwtBearerType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    public async Task<OAuth2ClientService.Loaded> AuthenticateAsync(IFormCollection form, CancellationToken ct)
    {
        var assertion = form["client_assertion"].ToString();
        if (assertion.Length == 0)
            throw OAuth2Error.InvalidRequest($"The client_assertion request parameter must be set when using client_assertion_type of '{JwtBearerType}'.");
        var jws = CompactJws.TryParse(assertion) ?? throw IntegrityFailure();

        // fosite's key function: the client (form client_id, else the assertion's sub), its method and algorithm, its key.
        var clientId = form["client_id"].ToString();
        if (clientId.Length == 0)
            clientId = jws.StringClaim("sub") ?? throw ClientAuthenticator.InvalidClient("The claim 'sub' from the client_assertion JSON Web Token is undefined.");
        var client = await clients.FindAsync(clientId, ct) ?? throw ClientAuthenticator.InvalidClient();
        var doc = client.Document;
        switch (doc.TokenEndpointAuthMethod)
        {
            case "private_key_jwt":
                break;
            case "none":
                throw ClientAuthenticator.InvalidClient("This requested OAuth 2.0 client does not support client authentication, however 'client_assertion' was provided in the request.");
            case "client_secret_post" or "client_secret_basic":
                throw ClientAuthenticator.InvalidClient($"This requested OAuth 2.0 client only supports client authentication method '{doc.TokenEndpointAuthMethod}', however 'client_assertion' was provided in the request.");
            default:
                throw ClientAuthenticator.InvalidClient($"This requested OAuth 2.0 client only supports client authentication method '{doc.TokenEndpointAuthMethod}', however that method is not supported by this server.");
        }
        if (doc.TokenEndpointAuthSigningAlg != jws.Algorithm)
            throw ClientAuthenticator.InvalidClient($"The 'client_assertion' uses signing algorithm '{jws.Algorithm}' but the requested OAuth 2.0 Client enforces signing algorithm '{doc.TokenEndpointAuthSigningAlg}'.");
        var expectsRsa = jws.Algorithm switch
        {
            "RS256" or "RS384" or "RS512" or "PS256" or "PS384" or "PS512" => true,
            "ES256" or "ES384" or "ES512" => false,
            "HS256" or "HS384" or "HS512" => throw ClientAuthenticator.InvalidClient("This authorization server does not support client authentication method 'client_secret_jwt'."),
            _ => throw ClientAuthenticator.InvalidClient($"The 'client_assertion' request parameter uses unsupported signing algorithm '{jws.Algorithm}'."),
        };
        var key = await FindClientKeyAsync(doc, jws, expectsRsa, ct);
        if (!await jws.VerifyAsync(key)) throw IntegrityFailure();

        // Time claims as jwt.MapClaims.Valid (each optional there; exp is required below). fosite hands the plain
        // "Token is expired" error on, which Hydra answers as a 500; Gatehouse answers fosite's own hint for claims
        // that do not validate instead.
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var exp = jws.NumericDate("exp");
        var iat = jws.NumericDate("iat");
        var nbf = jws.NumericDate("nbf");
        if (exp is > 0 && now > exp || iat is > 0 && now < iat || nbf is > 0 && now < nbf)
            throw ClientAuthenticator.InvalidClient("Unable to verify the request object because its claims could not be validated, check if the expiry time is set correctly.");

        if (jws.StringClaim("iss") is not { } iss || iss != clientId)
            throw ClientAuthenticator.InvalidClient("Claim 'iss' from 'client_assertion' must match the 'client_id' of the OAuth 2.0 Client.");
        if (jws.StringClaim("sub") is not { } sub || sub != clientId)
            throw ClientAuthenticator.InvalidClient("Claim 'sub' from 'client_assertion' must match the 'client_id' of the OAuth 2.0 Client.");
        if (jws.StringClaim("jti") is not { Length: > 0 } jti)
            throw ClientAuthenticator.InvalidClient("Claim 'jti' from 'client_assertion' must be set but is not.");
        var jtiHash = SHA256.HashData(Encoding.UTF8.GetBytes(jti));
        var nowTime = time.GetUtcNow().UtcDateTime;
        if (await used.IsKnownAsync(jtiHash, nowTime, ct)) throw JtiKnown();
        if (exp is null or 0)
            throw ClientAuthenticator.InvalidClient("Unable to type assert the expiry time from claims. This should not happen as we validate the expiry time already earlier with token.Claims.Valid()");
        // fosite records the jti before it checks the audience; Gatehouse checks first, so a refused assertion writes nothing.
        var tokenUrls = settings.TokenUrls;
        if (!jws.Audience.Any(a => tokenUrls.Contains(a, StringComparer.Ordinal)))
            throw ClientAuthenticator.InvalidClient($"Claim 'audience' from 'client_assertion' must match the authorization server's token endpoint '{string.Join("' or '", tokenUrls)}'.");
        if (!await used.TryRecordAsync(jtiHash, DateTimeOffset.FromUnixTimeSeconds(Math.Min(exp.Value, 253402300799)).UtcDateTime, nowTime, ct))
            throw JtiKnown();
        return client;
    }

    private static OAuth2Error IntegrityFailure() => ClientAuthenticator.InvalidClient("Unable to verify the integrity of the 'client_assertion' value.");

    internal static OAuth2Error JtiKnown() => new(400, "jti_known", "The jti was already used.", "Claim 'jti' from 'client_assertion' MUST only be used once.");

    /// <summary>fosite's <c>findClientPublicJWK</c>: the client's <c>jwks</c>, else its <c>jwks_uri</c> (cached, fetched again on a miss).</summary>
    private async Task<SecurityKey> FindClientKeyAsync(OAuth2ClientDocument doc, CompactJws jws, bool expectsRsa, CancellationToken ct)
    {
        if (doc.Jwks is { } inline)
        {
            var keys = inline["keys"] is System.Text.Json.Nodes.JsonArray a
                ? a.Select(k => Jwk.TryParse(k, out var key, out _) ? key : null).OfType<Jwk>().ToList()
                : [];
            return FindPublicKey(keys, jws, expectsRsa);
        }
        if (doc.JwksUri.Length > 0)
        {
            try
            {
                return FindPublicKey(await fetcher.ResolveAsync(doc.JwksUri, ignoreCache: false, ct), jws, expectsRsa);
            }
            catch (OAuth2Error e) when (e.Error == "invalid_request")
            {
                // The cached set lacks the key: the client may have rotated its keys since.
                return FindPublicKey(await fetcher.ResolveAsync(doc.JwksUri, ignoreCache: true, ct), jws, expectsRsa);
            }
        }
        throw ClientAuthenticator.InvalidClient("The OAuth 2.0 Client has no JSON Web Keys set registered, but they are needed to complete the request.");
    }

    /// <summary>fosite's <c>findPublicKey</c>: by the header's <c>kid</c> when it has one; only public keys with <c>use: sig</c> of the algorithm's type.</summary>
    internal static SecurityKey FindPublicKey(IReadOnlyList<Jwk> set, CompactJws jws, bool expectsRsa)
    {
        if (set.Count == 0) throw OAuth2Error.InvalidRequest("The retrieved JSON Web Key Set does not contain any key.");
        var kid = jws.KeyId;
        var keys = kid is null ? set : [.. set.Where(k => k.Kid == kid)];
        if (keys.Count == 0) throw OAuth2Error.InvalidRequest($"The JSON Web Token uses signing key with kid '{kid}', which could not be found.");
        foreach (var key in keys)
        {
            if (key.Use != "sig" || key.Kty != (expectsRsa ? "RSA" : "EC")) continue;
            if (key.PublicVerificationKey() is { } verification) return verification;
        }
        throw OAuth2Error.InvalidRequest(expectsRsa
            ? $"Unable to find RSA public key with use='sig' for kid '{kid}' in JSON Web Key Set."
            : $"Unable to find ECDSA public key with use='sig' for kid '{kid}' in JSON Web Key Set.");
    }
}
