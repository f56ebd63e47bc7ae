using Gatehouse.Http.Json;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace Gatehouse.OAuth2.Keys;

/// <summary>
/// A JSON Web Key (RFC 7517) as Hydra reads and writes it through go-jose: decoding checks what go-jose's
/// <c>JSONWebKey.UnmarshalJSON</c> checks (a known <c>kty</c> and that type's members), and the JSON is written with
/// go-jose's members in its order (<c>use, kty, kid, crv, alg, k, x, y, n, e, d, p, q, dp, dq, qi, x5c</c>); other
/// members are dropped, as go-jose drops them.
/// </summary>
public sealed class Jwk
{
    private static readonly string[] MemberOrder = ["use", "kty", "kid", "crv", "alg", "k", "x", "y", "n", "e", "d", "p", "q", "dp", "dq", "qi", "x5c"];
    private static readonly string[] PrivateMembers = ["k", "d", "p", "q", "dp", "dq", "qi"];

    /// <summary>What <c>createJsonWebKeySet</c> can generate (go-jose's signing algorithms; <c>EdDSA</c> through BouncyCastle).</summary>
    public static readonly IReadOnlySet<string> GeneratableAlgorithms = new HashSet<string>(StringComparer.Ordinal)
    {
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "HS256", "HS384", "HS512", "EdDSA",
    };

    /// <summary>The algorithms Gatehouse signs tokens with (asymmetric, verifiable from the published JWKS).</summary>
    public static readonly IReadOnlySet<string> SigningAlgorithms = new HashSet<string>(StringComparer.Ordinal)
    {
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
    };

    private readonly JsonObject _members;

    private Jwk(JsonObject members) => _members = members;

    public string Kty => Str("kty") ?? "";
    public string Kid => Str("kid") ?? "";
    public string Alg => Str("alg") ?? "";
    public string Use => Str("use") ?? "";

    /// <summary>True for symmetric keys and asymmetric keys with their private part.</summary>
    public bool IsPrivate => Kty == "oct" || Str("d") is not null;

    public JsonObject ToJson() => (JsonObject)_members.DeepClone();

    public string Serialize() => _members.ToJsonString();

    /// <summary>The key without its private members; null for symmetric keys (go-jose has no public part for them).</summary>
    public Jwk? Public()
    {
        if (Kty == "oct") return null;
        var o = new JsonObject();
        foreach (var (name, value) in _members)
        {
            if (!PrivateMembers.Contains(name)) o[name] = value?.DeepClone();
        }
        return new Jwk(o);
    }

    /// <summary>A stored key (already validated when it was stored).</summary>
    public static Jwk Load(string json) => new((JsonObject)JsonNode.Parse(json)!);

    /// <summary>Decodes a key from a request body; the failure reads like go-jose's, for Hydra's "Unable to decode the request body: …".</summary>
    public static bool TryParse(JsonNode? node, out Jwk key, out string error)
    {
        key = null!;
        error = "";
        if (node is not JsonObject o)
        {
            error = "json: cannot unmarshal " + GoJsonKind.Of(node) + " into Go value of type jose.rawJSONWebKey";
            return false;
        }
        var members = new JsonObject();
        foreach (var name in MemberOrder)
        {
            if (!o.TryGetPropertyValue(name, out var value) || value is null) continue;
            if (name == "x5c")
            {
                if (value is not JsonArray certs || certs.Any(c => c is not JsonValue v || v.GetValueKind() != JsonValueKind.String))
                {
                    error = "json: cannot unmarshal " + GoJsonKind.Of(value) + " into Go struct field rawJSONWebKey.x5c of type []string";
                    return false;
                }
                members[name] = certs.DeepClone();
                continue;
            }
            if (value is not JsonValue s || s.GetValueKind() != JsonValueKind.String)
            {
                error = $"json: cannot unmarshal {GoJsonKind.Of(value)} into Go struct field rawJSONWebKey.{name} of type string";
                return false;
            }
            var text = s.GetValue<string>();
            if (text.Length == 0) continue;
            if (name is "k" or "x" or "y" or "n" or "e" or "d" or "p" or "q" or "dp" or "dq" or "qi" && !IsBase64Url(text))
            {
                error = "illegal base64 data in member " + name;
                return false;
            }
            members[name] = text;
        }
        var candidate = new Jwk(members);
        error = candidate.Check();
        if (error.Length > 0) return false;
        key = candidate;
        return true;
    }

    /// <summary>go-jose's per-type checks, plus that the key material imports (a point on its curve, a consistent RSA key).</summary>
    private string Check()
    {
        try
        {
            switch (Kty)
            {
                case "RSA":
                    if (Str("n") is null || Str("e") is null) return "go-jose/go-jose: invalid RSA key, missing n/e values";
                    if (Str("d") is not null && (Str("p") is null || Str("q") is null)) return "go-jose/go-jose: invalid RSA private key, missing p/q values";
                    using (var rsa = RSA.Create()) rsa.ImportParameters(RsaParameters());
                    break;
                case "EC":
                    if (Curve() is null) return $"go-jose/go-jose: unsupported elliptic curve '{Str("crv")}'";
                    if (Str("x") is null || Str("y") is null) return "go-jose/go-jose: invalid EC key, missing x/y values";
                    using (var ec = ECDsa.Create()) ec.ImportParameters(EcParameters());
                    break;
                case "oct":
                    if (Str("k") is null) return "go-jose/go-jose: invalid oct key, missing k value";
                    break;
                case "OKP":
                    if (Str("crv") != "Ed25519") return $"go-jose/go-jose: unknown curve '{Str("crv")}'";
                    if (Str("x") is null || Bytes("x").Length != 32) return "go-jose/go-jose: invalid Ed25519 key, missing or malformed x value";
                    if (Str("d") is { } && Bytes("d").Length != 32) return "go-jose/go-jose: invalid Ed25519 private key, malformed d value";
                    break;
                default:
                    return $"go-jose/go-jose: unknown json web key type '{Kty}'";
            }
            if (_members["x5c"] is JsonArray certs)
            {
                foreach (var c in certs) X509CertificateLoader.LoadCertificate(Convert.FromBase64String(c!.GetValue<string>())).Dispose();
            }
        }
        catch (Exception e) when (e is CryptographicException or FormatException or ArgumentException)
        {
            return $"go-jose/go-jose: invalid {Kty} key material";
        }
        return "";
    }

    /// <summary>Generates a key as Hydra's <c>jwk.GenerateJWK</c>: RSA keys of <paramref name="rsaBits"/> bits, EC keys on the algorithm's curve.</summary>
    public static Jwk Generate(string alg, string kid, string use, int rsaBits)
    {
        var o = new JsonObject { ["use"] = use.Length == 0 ? "sig" : use };
        switch (alg)
        {
            case "RS256" or "RS384" or "RS512" or "PS256" or "PS384" or "PS512":
            {
                using var rsa = RSA.Create(rsaBits);
                var p = rsa.ExportParameters(true);
                o["kty"] = "RSA";
                o["kid"] = kid;
                o["alg"] = alg;
                o["n"] = Minimal(p.Modulus!);
                o["e"] = Minimal(p.Exponent!);
                o["d"] = Minimal(p.D!);
                o["p"] = Minimal(p.P!);
                o["q"] = Minimal(p.Q!);
                o["dp"] = Minimal(p.DP!);
                o["dq"] = Minimal(p.DQ!);
                o["qi"] = Minimal(p.InverseQ!);
                Array.Clear(p.D!);
                break;
            }
            case "ES256" or "ES384" or "ES512":
            {
                var (curve, name) = alg switch
                {
                    "ES256" => (ECCurve.NamedCurves.nistP256, "P-256"),
                    "ES384" => (ECCurve.NamedCurves.nistP384, "P-384"),
                    _ => (ECCurve.NamedCurves.nistP521, "P-521"),
                };
                using var ec = ECDsa.Create(curve);
                var p = ec.ExportParameters(true);
                o["kty"] = "EC";
                o["kid"] = kid;
                o["crv"] = name;
                o["alg"] = alg;
                o["x"] = Base64Url.EncodeToString(p.Q.X);
                o["y"] = Base64Url.EncodeToString(p.Q.Y);
                o["d"] = Base64Url.EncodeToString(p.D);
                break;
            }
            case "HS256" or "HS384" or "HS512":
                o["kty"] = "oct";
                o["kid"] = kid;
                o["alg"] = alg;
                o["k"] = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(int.Parse(alg[2..], System.Globalization.CultureInfo.InvariantCulture) / 8));
                break;
            case "EdDSA":
            {
                var generator = new Ed25519KeyPairGenerator();
                generator.Init(new Ed25519KeyGenerationParameters(new SecureRandom()));
                var pair = generator.GenerateKeyPair();
                o["kty"] = "OKP";
                o["kid"] = kid;
                o["crv"] = "Ed25519";
                o["alg"] = alg;
                o["x"] = Base64Url.EncodeToString(((Ed25519PublicKeyParameters)pair.Public).GetEncoded());
                o["d"] = Base64Url.EncodeToString(((Ed25519PrivateKeyParameters)pair.Private).GetEncoded());
                break;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(alg), alg, "unsupported key algorithm");
        }
        // Re-ordered into go-jose's member order.
        var ordered = new JsonObject();
        foreach (var name in MemberOrder)
        {
            if (o.TryGetPropertyValue(name, out var v)) ordered[name] = v?.DeepClone();
        }
        return new Jwk(ordered);
    }

    /// <summary>
    /// Signing credentials for the private key, when it is an RSA or EC key and its <c>alg</c> (or, without one, the
    /// key type's default) is a JWS algorithm Gatehouse signs with; else null.
    /// </summary>
    public SigningCredentials? SigningCredentials()
    {
        if (!IsPrivate) return null;
        var alg = Alg.Length > 0 ? Alg : Kty switch
        {
            "RSA" => "RS256",
            "EC" => Str("crv") switch { "P-256" => "ES256", "P-384" => "ES384", "P-521" => "ES512", _ => "" },
            _ => "",
        };
        if (!SigningAlgorithms.Contains(alg)) return null;
        if (alg.StartsWith("ES", StringComparison.Ordinal))
        {
            if (Kty != "EC" || alg != Str("crv") switch { "P-256" => "ES256", "P-384" => "ES384", "P-521" => "ES512", _ => "" }) return null;
            var ec = ECDsa.Create();
            ec.ImportParameters(EcParameters());
            return new SigningCredentials(new ECDsaSecurityKey(ec) { KeyId = Kid }, alg);
        }
        if (Kty != "RSA") return null;
        var rsa = RSA.Create();
        rsa.ImportParameters(RsaParameters());
        return new SigningCredentials(new RsaSecurityKey(rsa) { KeyId = Kid }, alg);
    }

    /// <summary>
    /// The key that verifies signatures of this public key: an RSA or EC (P-256/384/521) key without private members, as
    /// go-jose's <c>*rsa.PublicKey</c> / <c>*ecdsa.PublicKey</c>; null for anything else.
    /// </summary>
    public SecurityKey? PublicVerificationKey()
    {
        if (IsPrivate) return null;
        try
        {
            if (Kty == "RSA")
            {
                var rsa = RSA.Create();
                rsa.ImportParameters(RsaParameters());
                return new RsaSecurityKey(rsa) { KeyId = Kid };
            }
            if (Kty == "EC" && Curve() is not null)
            {
                var ec = ECDsa.Create();
                ec.ImportParameters(EcParameters());
                return new ECDsaSecurityKey(ec) { KeyId = Kid };
            }
        }
        catch (Exception e) when (e is CryptographicException or FormatException)
        {
            // A key that does not import (a point off its curve, a broken modulus) verifies nothing.
        }
        return null;
    }

    private RSAParameters RsaParameters()
    {
        var modulus = Trim(Bytes("n"));
        var p = new RSAParameters { Modulus = modulus, Exponent = Trim(Bytes("e")) };
        if (Str("d") is null) return p;
        var half = (modulus.Length + 1) / 2;
        p.D = Pad(Bytes("d"), modulus.Length);
        p.P = Pad(Bytes("p"), half);
        p.Q = Pad(Bytes("q"), half);
        if (Str("dp") is null || Str("dq") is null || Str("qi") is null)
        {
            // go-jose computes the CRT values when they are absent; .NET needs them, so derive them the same way.
            var d = new System.Numerics.BigInteger(p.D, isUnsigned: true, isBigEndian: true);
            var pi = new System.Numerics.BigInteger(p.P, isUnsigned: true, isBigEndian: true);
            var qi = new System.Numerics.BigInteger(p.Q, isUnsigned: true, isBigEndian: true);
            p.DP = Pad((d % (pi - 1)).ToByteArray(isUnsigned: true, isBigEndian: true), half);
            p.DQ = Pad((d % (qi - 1)).ToByteArray(isUnsigned: true, isBigEndian: true), half);
            p.InverseQ = Pad(System.Numerics.BigInteger.ModPow(qi, pi - 2, pi).ToByteArray(isUnsigned: true, isBigEndian: true), half);
        }
        else
        {
            p.DP = Pad(Bytes("dp"), half);
            p.DQ = Pad(Bytes("dq"), half);
            p.InverseQ = Pad(Bytes("qi"), half);
        }
        return p;
    }

    private ECCurve? Curve() => Str("crv") switch
    {
        "P-256" => ECCurve.NamedCurves.nistP256,
        "P-384" => ECCurve.NamedCurves.nistP384,
        "P-521" => ECCurve.NamedCurves.nistP521,
        _ => null,
    };

    private ECParameters EcParameters()
    {
        var size = Str("crv") switch { "P-256" => 32, "P-384" => 48, _ => 66 };
        return new ECParameters
        {
            Curve = Curve()!.Value,
            Q = new ECPoint { X = Pad(Bytes("x"), size), Y = Pad(Bytes("y"), size) },
            D = Str("d") is null ? null : Pad(Bytes("d"), size),
        };
    }

    private string? Str(string name) => _members[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    private byte[] Bytes(string name) => Base64Url.DecodeFromChars(Str(name) ?? throw new FormatException("missing " + name));

    private static bool IsBase64Url(string text)
    {
        if (text.Length > 16384) return false;
        try
        {
            Base64Url.DecodeFromChars(text);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static byte[] Trim(byte[] value)
    {
        var i = 0;
        while (i < value.Length - 1 && value[i] == 0) i++;
        return i == 0 ? value : value[i..];
    }

    private static byte[] Pad(byte[] value, int length)
    {
        value = Trim(value);
        if (value.Length >= length) return value;
        var padded = new byte[length];
        value.CopyTo(padded, length - value.Length);
        return padded;
    }

    private static string Minimal(byte[] value) => Base64Url.EncodeToString(Trim(value));
}
