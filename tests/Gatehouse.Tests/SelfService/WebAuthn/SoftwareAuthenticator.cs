using System.Buffers.Binary;
using System.Buffers.Text;
using System.Formats.Cbor;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Gatehouse.Tests.SelfService.WebAuthn;

/// <summary>
/// A software WebAuthn authenticator (ES256, "none" attestation) that answers the options Gatehouse puts in its forms the
/// way a browser with a platform authenticator would, producing the JSON webauthn.js submits. Real keys and real
/// signatures: the server verifies them with the Fido2 library exactly as it would a device's. Knobs let tests make the
/// answers wrong in one respect at a time (origin, RP id, sign count, challenge).
/// </summary>
public sealed class SoftwareAuthenticator : IDisposable
{
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public SoftwareAuthenticator(string origin) => Origin = origin;

    public string Origin { get; set; }
    public byte[] CredentialId { get; } = RandomNumberGenerator.GetBytes(16);
    public byte[] Aaguid { get; init; } = RandomNumberGenerator.GetBytes(16);
    public byte[]? UserHandle { get; private set; }
    public uint SignCount { get; set; } = 1;

    /// <summary>Overrides the RP id whose hash goes into authenticator data (default: the one in the options).</summary>
    public string? RpIdOverride { get; set; }

    /// <summary>The credential's public key as a COSE key (what a stored or imported credential holds).</summary>
    public byte[] CosePublicKey()
    {
        var parameters = _key.ExportParameters(false);
        var cose = new CborWriter(CborConformanceMode.Ctap2Canonical);
        cose.WriteStartMap(5);
        cose.WriteInt32(1); cose.WriteInt32(2);     // kty: EC2
        cose.WriteInt32(3); cose.WriteInt32(-7);    // alg: ES256
        cose.WriteInt32(-1); cose.WriteInt32(1);    // crv: P-256
        cose.WriteInt32(-2); cose.WriteByteString(parameters.Q.X!);
        cose.WriteInt32(-3); cose.WriteByteString(parameters.Q.Y!);
        cose.WriteEndMap();
        return cose.Encode();
    }

    /// <summary>Holds a credential made elsewhere (e.g. one imported with this key) for <paramref name="userHandle"/>.</summary>
    public void Holds(byte[] userHandle) => UserHandle = userHandle;

    /// <summary>Answers <c>navigator.credentials.create</c> for options shaped <c>{"publicKey": …}</c> (or the bare publicKey object).</summary>
    public string Create(JsonNode options, string[]? transports = null)
    {
        var pk = options["publicKey"] ?? options;
        var rpId = RpIdOverride ?? pk["rp"]!["id"]!.GetValue<string>();
        UserHandle = Base64Url.DecodeFromChars(pk["user"]!["id"]!.GetValue<string>());
        var clientData = ClientData("webauthn.create", pk["challenge"]!.GetValue<string>());
        var idLength = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(idLength, (ushort)CredentialId.Length);
        // UP | UV | BE | BS | AT: a synced platform passkey.
        byte[] authData = [.. AuthDataHead(rpId, 0x01 | 0x04 | 0x08 | 0x10 | 0x40), .. Aaguid, .. idLength, .. CredentialId, .. CosePublicKey()];
        var attestation = new CborWriter(CborConformanceMode.Ctap2Canonical);
        attestation.WriteStartMap(3);
        attestation.WriteTextString("fmt"); attestation.WriteTextString("none");
        attestation.WriteTextString("attStmt"); attestation.WriteStartMap(0); attestation.WriteEndMap();
        attestation.WriteTextString("authData"); attestation.WriteByteString(authData);
        attestation.WriteEndMap();
        return new JsonObject
        {
            ["id"] = Base64Url.EncodeToString(CredentialId),
            ["rawId"] = Base64Url.EncodeToString(CredentialId),
            ["type"] = "public-key",
            ["response"] = new JsonObject
            {
                ["attestationObject"] = Base64Url.EncodeToString(attestation.Encode()),
                ["clientDataJSON"] = Base64Url.EncodeToString(clientData),
                ["transports"] = new JsonArray([.. (transports ?? ["internal", "hybrid"]).Select(t => (JsonNode)t)]),
            },
        }.ToJsonString();
    }

    /// <summary>Answers <c>navigator.credentials.get</c>; the sign count goes up by one first (unless a test set it).</summary>
    public string Get(JsonNode options, bool bumpCount = true, string? challengeOverride = null)
    {
        var pk = options["publicKey"] ?? options;
        var rpId = RpIdOverride ?? pk["rpId"]!.GetValue<string>();
        if (bumpCount) SignCount++;
        var clientData = ClientData("webauthn.get", challengeOverride ?? pk["challenge"]!.GetValue<string>());
        var authData = AuthDataHead(rpId, 0x01 | 0x04 | 0x08 | 0x10);
        byte[] signed = [.. authData, .. SHA256.HashData(clientData)];
        var signature = _key.SignData(signed, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        return new JsonObject
        {
            ["id"] = Base64Url.EncodeToString(CredentialId),
            ["rawId"] = Base64Url.EncodeToString(CredentialId),
            ["type"] = "public-key",
            ["response"] = new JsonObject
            {
                ["authenticatorData"] = Base64Url.EncodeToString(authData),
                ["clientDataJSON"] = Base64Url.EncodeToString(clientData),
                ["signature"] = Base64Url.EncodeToString(signature),
                ["userHandle"] = UserHandle is null ? "" : Base64Url.EncodeToString(UserHandle),
            },
        }.ToJsonString();
    }

    private byte[] ClientData(string type, string challenge) =>
        Encoding.UTF8.GetBytes(new JsonObject { ["type"] = type, ["challenge"] = challenge, ["origin"] = Origin, ["crossOrigin"] = false }.ToJsonString());

    private byte[] AuthDataHead(string rpId, byte flags)
    {
        var count = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(count, SignCount);
        return [.. SHA256.HashData(Encoding.UTF8.GetBytes(rpId)), flags, .. count];
    }

    public void Dispose() => _key.Dispose();
}
