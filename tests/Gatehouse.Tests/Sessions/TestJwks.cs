using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace Gatehouse.Tests.Sessions;

/// <summary>Keys made in the test, written as JSON Web Keys, and validation of the tokens signed with them.</summary>
public static class TestJwks
{
    private static string B64(byte[] bytes) => Base64UrlEncoder.Encode(bytes);

    public static JsonObject Rsa(RSA rsa, string alg = "RS256", string? kid = "rsa-key", bool withPrivate = true)
    {
        var p = rsa.ExportParameters(withPrivate);
        var key = new JsonObject { ["use"] = "sig", ["kty"] = "RSA", ["alg"] = alg, ["n"] = B64(p.Modulus!), ["e"] = B64(p.Exponent!) };
        if (kid is not null) key["kid"] = kid;
        if (withPrivate)
        {
            key["d"] = B64(p.D!);
            key["p"] = B64(p.P!);
            key["q"] = B64(p.Q!);
            key["dp"] = B64(p.DP!);
            key["dq"] = B64(p.DQ!);
            key["qi"] = B64(p.InverseQ!);
        }
        return key;
    }

    public static JsonObject Ec(ECDsa ecdsa, string alg = "ES256", string? kid = "ec-key", bool withPrivate = true)
    {
        var p = ecdsa.ExportParameters(withPrivate);
        var crv = p.Q.X!.Length switch { 32 => "P-256", 48 => "P-384", _ => "P-521" };
        var key = new JsonObject { ["use"] = "sig", ["kty"] = "EC", ["crv"] = crv, ["alg"] = alg, ["x"] = B64(p.Q.X!), ["y"] = B64(p.Q.Y!) };
        if (kid is not null) key["kid"] = kid;
        if (withPrivate) key["d"] = B64(p.D!);
        return key;
    }

    public static JsonObject Oct(byte[] secret, string alg = "HS256", string kid = "hmac-key") =>
        new() { ["kty"] = "oct", ["alg"] = alg, ["kid"] = kid, ["k"] = B64(secret) };

    /// <summary>A new Ed25519 key pair (BouncyCastle) as an OKP JSON Web Key, and its public key.</summary>
    public static (JsonObject Jwk, Ed25519PublicKeyParameters Public) Ed25519(string kid = "ed-key")
    {
        var privateKey = new Ed25519PrivateKeyParameters(new SecureRandom());
        var publicKey = privateKey.GeneratePublicKey();
        var jwk = new JsonObject { ["kty"] = "OKP", ["crv"] = "Ed25519", ["alg"] = "EdDSA", ["kid"] = kid, ["x"] = B64(publicKey.GetEncoded()), ["d"] = B64(privateKey.GetEncoded()) };
        return (jwk, publicKey);
    }

    public static string Set(params JsonObject[] keys) => new JsonObject { ["keys"] = new JsonArray([.. keys.Select(k => k.DeepClone())]) }.ToJsonString();

    public static string Base64Url(string document) => "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(document));

    /// <summary>Validates signature, issuer and lifetime with Microsoft.IdentityModel; returns the token.</summary>
    public static async Task<JsonWebToken> ValidateAsync(string token, SecurityKey publicKey, string issuer)
    {
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            IssuerSigningKey = publicKey,
            ValidIssuer = issuer,
            ValidateAudience = false,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            ClockSkew = TimeSpan.Zero,
        });
        Assert.True(result.IsValid, $"the token does not validate: {result.Exception}");
        return (JsonWebToken)result.SecurityToken;
    }

    /// <summary>The token's decoded header and payload as JSON.</summary>
    public static (JsonObject Header, JsonObject Payload) Decode(string token)
    {
        var parts = token.Split('.');
        Assert.Equal(3, parts.Length);
        return (JsonNode.Parse(Base64UrlEncoder.DecodeBytes(parts[0]))!.AsObject(), JsonNode.Parse(Base64UrlEncoder.DecodeBytes(parts[1]))!.AsObject());
    }

    /// <summary>Checks an EdDSA token's signature with BouncyCastle (Microsoft.IdentityModel has no EdDSA).</summary>
    public static bool VerifyEd25519(string token, Ed25519PublicKeyParameters publicKey)
    {
        var lastDot = token.LastIndexOf('.');
        var signed = Encoding.ASCII.GetBytes(token[..lastDot]);
        var signature = Base64UrlEncoder.DecodeBytes(token[(lastDot + 1)..]);
        var verifier = new Org.BouncyCastle.Crypto.Signers.Ed25519Signer();
        verifier.Init(false, publicKey);
        verifier.BlockUpdate(signed, 0, signed.Length);
        return verifier.VerifySignature(signature);
    }
}
