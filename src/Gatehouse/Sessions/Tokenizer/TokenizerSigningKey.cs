using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text.Json;
using Gatehouse.Http.Errors;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Sessions.Tokenizer;

/// <summary>
/// The key a tokenizer template signs with: the <b>first</b> key of its JSON Web Key Set (or the single key the
/// document is), with the key's own <c>alg</c> and <c>kid</c>, as Kratos's <c>session/tokenizer.go</c> does.
/// <para>
/// The failures and their order follow Kratos: a document that is not a key set, or has a key that does not parse,
/// is 400 "failed to parse JWK set"; an empty set is 400 "Could not find key a suitable key ..."; an <c>alg</c>
/// that golang-jwt does not know is 400 "The JSON Web Key must include a valid "alg" ..." — all three when the set
/// is read. A key whose material cannot be decoded (400 "Unable to decode the given private key.") or that cannot
/// sign with its <c>alg</c> (a public key, another key type, an EC key of another curve, <c>none</c>: 400 "Unable to
/// sign JSON Web Token.") fails only in <see cref="Sign"/>, after the claims mapper has run, as in Kratos.
/// </para>
/// Key material is never written to errors or logs.
/// </summary>
public sealed class TokenizerSigningKey
{
    /// <summary>golang-jwt's registered signing methods: Kratos refuses any other <c>alg</c>.</summary>
    private static readonly FrozenSet<string> KnownAlgorithms = FrozenSet.ToFrozenSet(
        ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "none"],
        StringComparer.Ordinal);

    private static readonly FrozenSet<string> KeyTypes = FrozenSet.ToFrozenSet(["EC", "RSA", "oct", "OKP"], StringComparer.Ordinal);

    private static readonly JsonWebTokenHandler Handler = new();

    private readonly SigningCredentials? _credentials;
    private readonly string? _failure;

    private TokenizerSigningKey(JsonWebKey key, string algorithm)
    {
        Algorithm = algorithm;
        // Kratos always writes the kid header, empty when the key has none.
        KeyId = key.Kid ?? "";
        SecurityKey? material;
        bool isPrivate;
        try
        {
            (material, isPrivate) = Decode(key, KeyId);
        }
        catch (Exception e) when (e is FormatException or CryptographicException or ArgumentException)
        {
            _failure = DecodeFailed;
            return;
        }
        if (material is null)
        {
            _failure = DecodeFailed;
        }
        else if (!CanSign(key, isPrivate, algorithm))
        {
            _failure = SignFailed;
        }
        else
        {
            _credentials = new SigningCredentials(material, algorithm);
            if (material is Ed25519SecurityKey) _credentials.CryptoProviderFactory = Ed25519CryptoProvider.Factory;
        }
    }

    public const string ParseFailed = "failed to parse JWK set";
    public const string NoKey = "Could not find key a suitable key for tokenization in the JWKS url.";
    public const string DecodeFailed = "Unable to decode the given private key.";
    public const string SignFailed = "Unable to sign JSON Web Token.";

    public static string InvalidAlgorithm(string alg) => $"The JSON Web Key must include a valid \"alg\" parameter but \"{alg}\" was given.";

    /// <summary>The JWS algorithm, the key's <c>alg</c>.</summary>
    public string Algorithm { get; }

    /// <summary>The key's <c>kid</c>, empty when it has none (the header then carries <c>"kid":""</c>, as Kratos's does).</summary>
    public string KeyId { get; }

    /// <summary>Reads a JSON Web Key Set (or a single JSON Web Key) and picks its first key.</summary>
    /// <exception cref="GatehouseError">400 with Kratos's reason when the set does not parse, is empty or its first key's <c>alg</c> is unknown.</exception>
    public static TokenizerSigningKey Parse(ReadOnlySpan<byte> document)
    {
        List<JsonWebKey> keys = [];
        try
        {
            var reader = new Utf8JsonReader(document, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            using var json = JsonDocument.ParseValue(ref reader);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw GatehouseError.BadRequest(ParseFailed);
            // As lestrrat-go/jwx: an object with "keys" is a set, any other object is one key.
            if (root.TryGetProperty("keys", out var list))
            {
                if (list.ValueKind == JsonValueKind.Array)
                {
                    foreach (var element in list.EnumerateArray()) keys.Add(ParseKey(element));
                }
                else if (list.ValueKind != JsonValueKind.Null)
                {
                    throw GatehouseError.BadRequest(ParseFailed);
                }
            }
            else
            {
                keys.Add(ParseKey(root));
            }
        }
        catch (JsonException)
        {
            throw GatehouseError.BadRequest(ParseFailed);
        }
        if (keys.Count == 0) throw GatehouseError.BadRequest(NoKey);
        var first = keys[0];
        var algorithm = first.Alg ?? "";
        if (!KnownAlgorithms.Contains(algorithm)) throw GatehouseError.BadRequest(InvalidAlgorithm(algorithm));
        return new TokenizerSigningKey(first, algorithm);
    }

    /// <summary>Signs <paramref name="payload"/> (the claims as JSON, used as they are) into a compact JWS.</summary>
    /// <exception cref="GatehouseError">400 "Unable to decode the given private key." or "Unable to sign JSON Web Token.".</exception>
    public string Sign(string payload)
    {
        if (_credentials is null) throw GatehouseError.BadRequest(_failure ?? SignFailed);
        try
        {
            return Handler.CreateToken(payload, _credentials);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException or SecurityTokenException or NotSupportedException or InvalidOperationException)
        {
            // e.g. an HMAC key shorter than the 128 bits Microsoft.IdentityModel requires.
            throw GatehouseError.BadRequest(SignFailed);
        }
    }

    private static JsonWebKey ParseKey(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object) throw GatehouseError.BadRequest(ParseFailed);
        JsonWebKey key;
        try
        {
            key = new JsonWebKey(element.GetRawText());
        }
        catch (ArgumentException)
        {
            throw GatehouseError.BadRequest(ParseFailed);
        }
        if (key.Kty is null || !KeyTypes.Contains(key.Kty)) throw GatehouseError.BadRequest(ParseFailed);
        return key;
    }

    /// <summary>
    /// The key material by key type (jwx's <c>Raw</c>) and whether it is the private key; null when a required member
    /// is missing. X25519 keys decode (to nothing that signs).
    /// </summary>
    private static (SecurityKey? Key, bool Private) Decode(JsonWebKey key, string keyId)
    {
        switch (key.Kty)
        {
            case "oct":
                return string.IsNullOrEmpty(key.K) ? (null, false) : (new SymmetricSecurityKey(Base64UrlEncoder.DecodeBytes(key.K)) { KeyId = keyId }, true);
            case "RSA":
            {
                if (string.IsNullOrEmpty(key.N) || string.IsNullOrEmpty(key.E)) return (null, false);
                var parameters = new RSAParameters { Modulus = Bytes(key.N), Exponent = Bytes(key.E) };
                var isPrivate = !string.IsNullOrEmpty(key.D);
                if (isPrivate)
                {
                    parameters.D = Bytes(key.D);
                    parameters.P = Bytes(key.P);
                    parameters.Q = Bytes(key.Q);
                    parameters.DP = Bytes(key.DP);
                    parameters.DQ = Bytes(key.DQ);
                    parameters.InverseQ = Bytes(key.QI);
                }
                var rsa = RSA.Create();
                rsa.ImportParameters(parameters);
                return (new RsaSecurityKey(rsa) { KeyId = keyId }, isPrivate);
            }
            case "EC":
            {
                if (string.IsNullOrEmpty(key.X) || string.IsNullOrEmpty(key.Y)) return (null, false);
                var isPrivate = !string.IsNullOrEmpty(key.D);
                var parameters = new ECParameters
                {
                    Curve = key.Crv switch
                    {
                        "P-256" => ECCurve.NamedCurves.nistP256,
                        "P-384" => ECCurve.NamedCurves.nistP384,
                        "P-521" => ECCurve.NamedCurves.nistP521,
                        _ => throw new CryptographicException("unsupported curve"),
                    },
                    Q = new ECPoint { X = Bytes(key.X), Y = Bytes(key.Y) },
                    D = isPrivate ? Bytes(key.D) : null,
                };
                var ecdsa = ECDsa.Create();
                ecdsa.ImportParameters(parameters);
                return (new ECDsaSecurityKey(ecdsa) { KeyId = keyId }, isPrivate);
            }
            case "OKP":
            {
                if (string.IsNullOrEmpty(key.X)) return (null, false);
                var isPrivate = !string.IsNullOrEmpty(key.D);
                return key.Crv switch
                {
                    "Ed25519" => (new Ed25519SecurityKey(Bytes(key.X), isPrivate ? Bytes(key.D) : null) { KeyId = keyId }, isPrivate),
                    // An X25519 key is a valid key, but cannot sign anything.
                    "X25519" => (new SymmetricSecurityKey(Bytes(key.X)) { KeyId = keyId }, isPrivate),
                    _ => throw new CryptographicException("unsupported curve"),
                };
            }
            default:
                return (null, false);
        }
    }

    /// <summary>
    /// golang-jwt's rules: HMAC needs an oct key, RSA and RSA-PSS an RSA private key, ECDSA a private key on the
    /// algorithm's curve, EdDSA an Ed25519 private key; <c>none</c> never signs.
    /// </summary>
    private static bool CanSign(JsonWebKey key, bool isPrivate, string algorithm) => algorithm switch
    {
        "HS256" or "HS384" or "HS512" => key.Kty == "oct",
        "RS256" or "RS384" or "RS512" or "PS256" or "PS384" or "PS512" => key.Kty == "RSA" && isPrivate,
        "ES256" => key.Kty == "EC" && key.Crv == "P-256" && isPrivate,
        "ES384" => key.Kty == "EC" && key.Crv == "P-384" && isPrivate,
        "ES512" => key.Kty == "EC" && key.Crv == "P-521" && isPrivate,
        "EdDSA" => key.Kty == "OKP" && key.Crv == "Ed25519" && isPrivate,
        _ => false,
    };

    private static byte[] Bytes(string? value) =>
        string.IsNullOrEmpty(value) ? throw new FormatException("missing key member") : Base64UrlEncoder.DecodeBytes(value);
}
