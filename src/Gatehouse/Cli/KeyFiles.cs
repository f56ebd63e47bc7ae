using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Gatehouse.Cli;

/// <summary>
/// Reads one key for <c>gatehouse oauth2 import jwk</c> as Hydra's <c>josex.LoadPrivateKey</c> / <c>LoadPublicKey</c> do:
/// a JSON Web Key, or PEM / DER (PKCS#8, PKCS#1, SEC1, SubjectPublicKeyInfo) of an RSA or EC key, private first.
/// </summary>
public static class KeyFiles
{
    public static JsonObject ToJwk(byte[] content)
    {
        var text = Encoding.UTF8.GetString(content).Trim();
        if (text.StartsWith('{'))
        {
            return JsonNode.Parse(text) as JsonObject ?? throw new FormatException("Could not decode key: expected a JSON Web Key object.");
        }
        if (text.Contains("-----BEGIN", StringComparison.Ordinal))
        {
            return FromPem(text) ?? throw new FormatException("Could not decode key to public nor private keys: unsupported PEM (RSA or EC keys only).");
        }
        return FromDer(content) ?? throw new FormatException("Could not decode key to public nor private keys.");
    }

    private static JsonObject? FromPem(string pem)
    {
        try
        {
            using var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return Rsa(rsa);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
        }
        try
        {
            using var ec = ECDsa.Create();
            ec.ImportFromPem(pem);
            return Ec(ec);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            return null;
        }
    }

    private static JsonObject? FromDer(byte[] der)
    {
        foreach (var import in new Func<RSA, int>[] { r => { r.ImportPkcs8PrivateKey(der, out var n); return n; }, r => { r.ImportRSAPrivateKey(der, out var n); return n; }, r => { r.ImportSubjectPublicKeyInfo(der, out var n); return n; }, r => { r.ImportRSAPublicKey(der, out var n); return n; } })
        {
            using var rsa = RSA.Create();
            try
            {
                if (import(rsa) == der.Length) return Rsa(rsa);
            }
            catch (CryptographicException)
            {
            }
        }
        foreach (var import in new Func<ECDsa, int>[] { e => { e.ImportPkcs8PrivateKey(der, out var n); return n; }, e => { e.ImportECPrivateKey(der, out var n); return n; }, e => { e.ImportSubjectPublicKeyInfo(der, out var n); return n; } })
        {
            using var ec = ECDsa.Create();
            try
            {
                if (import(ec) == der.Length) return Ec(ec);
            }
            catch (CryptographicException)
            {
            }
        }
        return null;
    }

    private static JsonObject Rsa(RSA rsa)
    {
        RSAParameters p;
        var hasPrivate = true;
        try
        {
            p = rsa.ExportParameters(true);
        }
        catch (CryptographicException)
        {
            p = rsa.ExportParameters(false);
            hasPrivate = false;
        }
        var jwk = new JsonObject { ["kty"] = "RSA", ["n"] = B64(p.Modulus!), ["e"] = B64(p.Exponent!) };
        if (hasPrivate && p.D is not null)
        {
            jwk["d"] = B64(p.D);
            jwk["p"] = B64(p.P!);
            jwk["q"] = B64(p.Q!);
            jwk["dp"] = B64(p.DP!);
            jwk["dq"] = B64(p.DQ!);
            jwk["qi"] = B64(p.InverseQ!);
        }
        return jwk;
    }

    private static JsonObject Ec(ECDsa ec)
    {
        ECParameters p;
        try
        {
            p = ec.ExportParameters(true);
        }
        catch (CryptographicException)
        {
            p = ec.ExportParameters(false);
        }
        var crv = p.Curve.Oid.FriendlyName switch
        {
            "nistP256" or "ECDSA_P256" => "P-256",
            "nistP384" or "ECDSA_P384" => "P-384",
            "nistP521" or "ECDSA_P521" => "P-521",
            var other => throw new FormatException($"Could not decode key: unsupported curve {other}."),
        };
        var jwk = new JsonObject { ["kty"] = "EC", ["crv"] = crv, ["x"] = B64(p.Q.X!), ["y"] = B64(p.Q.Y!) };
        if (p.D is not null) jwk["d"] = B64(p.D);
        return jwk;
    }

    private static string B64(byte[] bytes) => Base64Url.EncodeToString(bytes);
}
