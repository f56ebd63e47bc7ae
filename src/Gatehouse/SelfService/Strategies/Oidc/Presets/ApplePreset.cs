using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.SelfService.Strategies.Oidc.Presets;

/// <summary>
/// <c>apple</c> (Sign in with Apple): OpenID Connect at <c>https://appleid.apple.com</c>, the client authenticating in the
/// token request's form with a client secret Gatehouse signs itself when <c>apple_team_id</c>,
/// <c>apple_private_key_id</c> and <c>apple_private_key</c> are set: an ES256 JWT (<c>iss</c> the team, <c>sub</c> the
/// client id, <c>aud</c> <c>https://appleid.apple.com</c>, <c>kid</c> the key id) valid for five minutes and reused until
/// a minute before that. Asking for <c>email</c> or <c>name</c> makes Apple answer with <c>response_mode=form_post</c>;
/// on the first sign-in the post carries the user's name (the <c>user</c> field), which fills <c>given_name</c>,
/// <c>family_name</c> and <c>last_name</c> where the ID token has none. Natively obtained ID tokens are accepted; one
/// without a nonce only when it says <c>nonce_supported: false</c> (devices that cannot set one).
/// </summary>
public sealed class ApplePreset : OidcPreset
{
    public const string Audience = "https://appleid.apple.com";
    private static readonly TimeSpan SecretLifetime = TimeSpan.FromMinutes(5);

    public override string Name => "apple";

    public override string? DefaultIssuerUrl => "https://appleid.apple.com";

    public override TokenEndpointAuth TokenEndpointAuth => TokenEndpointAuth.InForm;

    public override bool VerifiesNativeIdTokens => true;

    public override bool CanSkipNonce(JsonObject claims) =>
        !(claims["nonce_supported"] is JsonValue v && (v.TryGetValue<bool>(out var b) ? b : v.TryGetValue<string>(out var t) && t == "true"));

    public override void Check(OidcProviderOptions provider, string at)
    {
        base.Check(provider, at);
        string?[] keys = [provider.AppleTeamId, provider.ApplePrivateKeyId, provider.ApplePrivateKey];
        if (keys.All(string.IsNullOrEmpty)) return;
        if (string.IsNullOrEmpty(provider.AppleTeamId)) throw new ConfigException($"{at}.apple_team_id: is required with apple_private_key (the client secret JWT's issuer)");
        if (string.IsNullOrEmpty(provider.ApplePrivateKeyId)) throw new ConfigException($"{at}.apple_private_key_id: is required with apple_private_key (the client secret JWT's key id)");
        if (string.IsNullOrEmpty(provider.ApplePrivateKey)) throw new ConfigException($"{at}.apple_private_key: is required with apple_team_id and apple_private_key_id (the key signing the client secret)");
        try
        {
            using var _ = LoadKey(provider.ApplePrivateKey);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            throw new ConfigException($"{at}.apple_private_key: {e.Message}", e);
        }
    }

    public override void AddAuthorizationParameters(OidcProviderOptions provider, string nonce, bool forceLogin, List<KeyValuePair<string, string?>> query)
    {
        base.AddAuthorizationParameters(provider, nonce, forceLogin, query);
        // Apple refuses to return the name or the address to a query redirect.
        if (provider.Scope.Any(s => s is "email" or "name")) query.Add(new("response_mode", "form_post"));
    }

    public override GeneratedClientSecret? GenerateClientSecret(OidcProviderOptions provider, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(provider.ApplePrivateKey)) return null;
        using var ecdsa = LoadKey(provider.ApplePrivateKey);
        var expires = now + SecretLifetime;
        var jwt = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = provider.AppleTeamId,
            Audience = Audience,
            Claims = new Dictionary<string, object> { ["sub"] = provider.ClientId },
            IssuedAt = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            // No cached signature provider: it would outlive the key disposed below.
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(ecdsa) { KeyId = provider.ApplePrivateKeyId }, SecurityAlgorithms.EcdsaSha256)
            {
                CryptoProviderFactory = new CryptoProviderFactory { CacheSignatureProviders = false },
            },
        });
        return new GeneratedClientSecret(jwt, expires);
    }

    /// <summary>The PEM key Apple hands out (PKCS #8, P-256).</summary>
    private static ECDsa LoadKey(string pem)
    {
        var ecdsa = ECDsa.Create();
        try
        {
            ecdsa.ImportFromPem(pem);
            if (ecdsa.ExportParameters(false).Curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
                throw new ArgumentException("the key is not on the P-256 curve, which ES256 needs");
            return ecdsa;
        }
        catch
        {
            ecdsa.Dispose();
            throw;
        }
    }

    public override async Task<JsonObject> ClaimsAsync(OidcUpstream upstream, OidcClaimsRequest r, CancellationToken ct)
    {
        var claims = await upstream.OpenIdClaimsAsync(r, ct);
        if (!r.CallbackParameters.TryGetValue("user", out var user)) return claims;
        JsonObject? name;
        try
        {
            name = (JsonNode.Parse(user) as JsonObject)?["name"] as JsonObject;
        }
        catch (JsonException)
        {
            return claims;
        }
        if (Str(name, "firstName") is { } first && Str(claims, "given_name") is null) claims["given_name"] = first;
        if (Str(name, "lastName") is { } last)
        {
            if (Str(claims, "last_name") is null) claims["last_name"] = last;
            if (Str(claims, "family_name") is null) claims["family_name"] = last;
        }
        return claims;
    }
}
