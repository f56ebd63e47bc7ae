using System.Buffers.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.OAuth2.Keys;
using Gatehouse.OAuth2.Protocol;
using Gatehouse.Sessions.Tokenizer;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.OAuth2.Credentials;

/// <summary>
/// The proof-of-possession JWT of a credential request, read as Hydra's <c>createVerifiableCredential</c> reads it: the
/// holder's public key is the <c>jwk</c> member of the JWS header, the JWS must verify with that key under the header's
/// <c>alg</c> (RS/PS/ES 256–512, EdDSA), <c>exp</c>/<c>iat</c>/<c>nbf</c> are checked when present (fosite's
/// <c>MapClaims.Valid</c>), and the <c>nonce</c> claim names the <c>c_nonce</c>. Like Hydra, neither <c>typ</c> nor
/// <c>iss</c>/<c>aud</c> is checked; the nonce binds the proof to the access token.
/// </summary>
public sealed class CredentialProof
{

    private CredentialProof(Jwk holderKey, string nonce)
    {
        HolderKey = holderKey;
        Nonce = nonce;
    }

    /// <summary>The holder's public key, with go-jose's members in its order (what Hydra marshals into the <c>did:jwk</c>).</summary>
    public Jwk HolderKey { get; }

    public string Nonce { get; }

    /// <summary>Hydra's <c>did:jwk</c> of the holder key: <c>did:jwk:</c> and the base64url of the key's JSON.</summary>
    public string HolderDid => "did:jwk:" + Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(HolderKey.Serialize()));

    /// <summary>Reads and verifies <paramref name="jwt"/>, or throws Hydra's <c>invalid_request</c> for the first rule it breaks.</summary>
    public static async Task<CredentialProof> VerifyAsync(string jwt, DateTimeOffset now)
    {
        var dot = jwt.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0) throw OAuth2Error.InvalidRequest("The JWT in the proof is malformed.");
        byte[] header;
        try
        {
            header = Base64Url.DecodeFromChars(jwt.AsSpan(0, dot));
        }
        catch (FormatException)
        {
            throw OAuth2Error.InvalidRequest("The JWT header in the proof is malformed.");
        }
        var key = HolderKeyOf(header) ?? throw OAuth2Error.InvalidRequest("The JWK in the JWT header is malformed.");
        var claims = await VerifiedClaimsAsync(jwt, key, now)
            ?? throw OAuth2Error.InvalidRequest("The JWT was not signed with the correct key supplied in the JWK header.");
        if (claims["nonce"] is not JsonValue n || n.GetValueKind() != JsonValueKind.String)
            throw OAuth2Error.InvalidRequest("The JWT did not contain the \"nonce\" claim.");
        return new CredentialProof(key, n.GetValue<string>());
    }

    /// <summary>
    /// The header's <c>jwk</c> as go-jose's <c>LoadJSONWebKey(…, pub: true)</c> accepts it: a well-formed RSA, EC or Ed25519
    /// key without private members (EC coordinates of the curve's size), re-encoded as go-jose marshals it (RSA <c>n</c>
    /// and <c>e</c> without leading zeros). Keys with certificates (<c>x5c</c>) are refused: nothing here checks that a
    /// certificate belongs to the key, and it would end up in the signed credential.
    /// </summary>
    private static Jwk? HolderKeyOf(byte[] header)
    {
        JsonObject? h;
        try
        {
            h = JsonNode.Parse(header) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
        if (h?["jwk"] is not JsonObject raw || raw.ContainsKey("x5c")) return null;
        if (!Jwk.TryParse(raw, out var key, out _) || key.IsPrivate || key.Kty is not ("RSA" or "EC" or "OKP")) return null;
        var o = key.ToJson();
        switch (key.Kty)
        {
            case "EC":
                var size = o["crv"]!.GetValue<string>() switch { "P-256" => 32, "P-384" => 48, _ => 66 };
                if (Base64Url.DecodeFromChars(o["x"]!.GetValue<string>()).Length != size || Base64Url.DecodeFromChars(o["y"]!.GetValue<string>()).Length != size) return null;
                break;
            case "RSA":
                o["n"] = Minimal(o["n"]!.GetValue<string>());
                o["e"] = Minimal(o["e"]!.GetValue<string>());
                break;
        }
        return Jwk.TryParse(o, out var normalized, out _) ? normalized : null;
    }

    /// <summary>The claims when the compact JWS verifies with <paramref name="key"/> and its times hold at <paramref name="now"/>; else null.</summary>
    private static async Task<JsonObject?> VerifiedClaimsAsync(string jwt, Jwk key, DateTimeOffset now)
    {
        if (CompactJws.TryParse(jwt) is not { } jws) return null;
        var alg = jws.Algorithm;
        SecurityKey? verification = key.Kty == "OKP"
            ? alg == Ed25519CryptoProvider.Algorithm ? new Ed25519SecurityKey(Base64Url.DecodeFromChars(key.ToJson()["x"]!.GetValue<string>()), null) : null
            : Jwk.SigningAlgorithms.Contains(alg) ? key.PublicVerificationKey() : null;
        if (verification is null || !await jws.VerifyAsync(verification, Ed25519CryptoProvider.Factory)) return null;
        // fosite's MapClaims.Valid: numeric exp, iat, nbf are checked (whole seconds, no leeway); other values are ignored.
        var seconds = now.ToUnixTimeSeconds();
        if (jws.NumericDate("exp") is { } exp and not 0 && seconds > exp) return null;
        if (jws.NumericDate("iat") is { } iat and not 0 && seconds < iat) return null;
        if (jws.NumericDate("nbf") is { } nbf and not 0 && seconds < nbf) return null;
        return jws.Claims;
    }

    private static string Minimal(string base64Url)
    {
        var bytes = Base64Url.DecodeFromChars(base64Url);
        var i = 0;
        while (i < bytes.Length - 1 && bytes[i] == 0) i++;
        return Base64Url.EncodeToString(bytes.AsSpan(i));
    }
}
