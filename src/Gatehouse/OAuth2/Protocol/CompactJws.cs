using System.Buffers.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.OAuth2.Protocol;

/// <summary>
/// A compact JWS read before its key is known (the header names the algorithm and key id, the claims name the client or
/// issuer that owns the key), then verified with the key found: as fosite's <c>jwt.ParseWithClaims</c> with a key function.
/// </summary>
public sealed class CompactJws
{
    private static readonly JsonWebTokenHandler Handler = new();

    private CompactJws(string raw, string alg, string? kid, JsonObject claims)
    {
        Raw = raw;
        Algorithm = alg;
        KeyId = kid;
        Claims = claims;
    }

    public string Raw { get; }
    public string Algorithm { get; }
    public string? KeyId { get; }

    /// <summary>The unverified claims; trust them only after <see cref="VerifyAsync"/>.</summary>
    public JsonObject Claims { get; }

    /// <summary>The parsed JWS, or null when it is not a signed compact JWT with JSON header and claims.</summary>
    public static CompactJws? TryParse(string raw)
    {
        if (raw.Length is 0 or > 65536 || raw.Count(c => c == '.') != 2) return null;
        try
        {
            var parts = raw.Split('.');
            if (JsonNode.Parse(Base64Url.DecodeFromChars(parts[0])) is not JsonObject header) return null;
            if (JsonNode.Parse(Base64Url.DecodeFromChars(parts[1])) is not JsonObject claims) return null;
            if (header["alg"] is not JsonValue a || !a.TryGetValue<string>(out var alg) || alg.Length == 0 || alg == "none") return null;
            if (parts[2].Length == 0) return null;
            var kid = header["kid"] is JsonValue k && k.TryGetValue<string>(out var s) ? s : null;
            return new CompactJws(raw, alg, kid, claims);
        }
        catch (Exception e) when (e is FormatException or JsonException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>
    /// True when the signature verifies with <paramref name="key"/> under the header's algorithm (times are checked by the
    /// caller); <paramref name="crypto"/> supplies algorithms the token library lacks (Ed25519).
    /// </summary>
    public async Task<bool> VerifyAsync(SecurityKey key, CryptoProviderFactory? crypto = null)
    {
        var parameters = new TokenValidationParameters
        {
            IssuerSigningKey = key,
            ValidAlgorithms = [Algorithm],
            ValidateIssuer = false,
            ValidateAudience = false,
            ValidateLifetime = false,
            RequireExpirationTime = false,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = false,
            TryAllIssuerSigningKeys = true,
        };
        if (crypto is not null) parameters.CryptoProviderFactory = crypto;
        var result = await Handler.ValidateTokenAsync(Raw, parameters);
        return result.IsValid;
    }

    /// <summary>A NumericDate claim as fosite's <c>MapClaims.toInt64</c> reads it (JSON numbers only), or null.</summary>
    public long? NumericDate(string name) =>
        Claims[name] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<double>(out var d) ? (long)d : null;

    public string? StringClaim(string name) => Claims[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary><c>aud</c> as a list (a string or an array of strings).</summary>
    public IReadOnlyList<string> Audience => Claims["aud"] switch
    {
        JsonArray a => [.. a.Select(x => x is JsonValue v && v.TryGetValue<string>(out var s) ? s : "")],
        JsonValue v when v.TryGetValue<string>(out var s) => [s],
        _ => [],
    };
}
