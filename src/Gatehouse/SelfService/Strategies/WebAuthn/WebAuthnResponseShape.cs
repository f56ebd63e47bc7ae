using System.Buffers.Binary;
using System.Buffers.Text;
using System.Formats.Cbor;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.SelfService.Strategies.WebAuthn;

/// <summary>
/// The structural checks Kratos's WebAuthn library (go-webauthn's <c>Parse</c> of a credential response) makes before
/// anything is verified, so that an answer Kratos cannot parse is refused here as a parse error too (Kratos's 4000001
/// "Unable to parse WebAuthn response…"), not as a verification failure or an unknown account.
/// </summary>
public static class WebAuthnResponseShape
{
    /// <summary>go-webauthn's detail for a registration answer that does not decode, or lacks its id or type.</summary>
    public const string RegistrationParseError = "Parse error for Registration";

    /// <summary>go-webauthn's detail for a registration answer whose attestation (client data, attestation object) does not parse.</summary>
    public const string AttestationParseError = "Error parsing attestation response";

    private const byte FlagAttestedCredentialData = 0x40;
    private const byte FlagExtensionData = 0x80;
    private const int MinAuthDataLength = 37;
    private const int MinAttestedAuthDataLength = 55;
    private const int MaxCredentialIdLength = 1023;

    /// <summary>Why an assertion answer (<c>navigator.credentials.get</c>) does not parse, or null when it does.</summary>
    public static string? AssertionProblem(string json)
    {
        if (Credential(json, out var credential) is { } problem) return problem;
        var response = credential!["response"];
        if (response is not (null or JsonObject)) return "response is not an object";
        if (Bytes(response?["clientDataJSON"], out var clientData) is { } c) return c;
        if (Bytes(response?["authenticatorData"], out var authData) is { } a) return a;
        if (Bytes(response?["signature"], out _) is { } s) return s;
        if (Bytes(response?["userHandle"], out _) is { } u) return u;
        return ClientDataProblem(clientData) ?? AuthenticatorDataProblem(authData);
    }

    /// <summary>
    /// Kratos's detail for a registration answer (<c>navigator.credentials.create</c>) that does not parse
    /// (<see cref="RegistrationParseError"/> or <see cref="AttestationParseError"/>), or null when it parses.
    /// </summary>
    public static string? AttestationProblem(string json)
    {
        if (Credential(json, out var credential) is not null) return RegistrationParseError;
        var response = credential!["response"];
        if (response is not (null or JsonObject)) return RegistrationParseError;
        if (Bytes(response?["clientDataJSON"], out var clientData) is not null || Bytes(response?["attestationObject"], out var attestation) is not null)
            return RegistrationParseError;
        if (response?["transports"] is not (null or JsonArray) || (response?["transports"] as JsonArray)?.Any(t => !IsString(t)) == true)
            return RegistrationParseError;
        if (Bytes(response?["authenticatorData"], out _) is not null || Bytes(response?["publicKey"], out _) is not null)
            return RegistrationParseError;
        if (response?["publicKeyAlgorithm"] is JsonValue algorithm && (algorithm.GetValueKind() != JsonValueKind.Number || !algorithm.TryGetValue<long>(out _)))
            return RegistrationParseError;
        if (ClientDataProblem(clientData) is not null) return AttestationParseError;
        var authData = AttestationAuthData(attestation);
        if (authData is null || AuthenticatorDataProblem(authData) is not null || (authData[32] & FlagAttestedCredentialData) == 0) return AttestationParseError;
        return null;
    }

    /// <summary>The outer object: JSON (one value, nothing after it), an object, with a base64url <c>id</c> and <c>type: public-key</c>.</summary>
    private static string? Credential(string json, out JsonObject? credential)
    {
        credential = null;
        JsonNode? parsed;
        try
        {
            parsed = JsonNode.Parse(json);
        }
        catch (JsonException)
        {
            return "not JSON";
        }
        // Go decodes null into an empty struct, which then has no id.
        if (parsed is null) return "id missing";
        if (parsed is not JsonObject o) return "not an object";
        credential = o;
        if (o["id"] is not JsonValue idValue || !idValue.TryGetValue<string>(out var id) || id.Length == 0) return "id missing";
        if (id.Contains('=') || !Base64Url.IsValid(id)) return "id is not base64url";
        if (Bytes(o["rawId"], out _) is { } rawId) return rawId;
        if (o["type"] is not JsonValue typeValue || !typeValue.TryGetValue<string>(out var type) || type != "public-key") return "type is not public-key";
        if (o["authenticatorAttachment"] is { } attachment && !IsString(attachment)) return "authenticatorAttachment is not a string";
        return null;
    }

    /// <summary>A base64url field as go-webauthn reads it: absent or null is empty; padding is ignored; anything else must decode.</summary>
    private static string? Bytes(JsonNode? node, out byte[] bytes)
    {
        bytes = [];
        if (node is null) return null;
        if (node is not JsonValue v || !v.TryGetValue<string>(out var text)) return "a byte field is not a string";
        text = text.TrimEnd('=');
        if (!Base64Url.IsValid(text)) return "a byte field is not base64url";
        bytes = Base64Url.DecodeFromChars(text);
        return null;
    }

    /// <summary>The client data: JSON whose known fields have their types (go's <c>json.Unmarshal</c> into CollectedClientData).</summary>
    private static string? ClientDataProblem(byte[] clientData)
    {
        JsonNode? parsed;
        try
        {
            parsed = JsonNode.Parse(clientData);
        }
        catch (JsonException)
        {
            return "client data is not JSON";
        }
        if (parsed is null) return null;
        if (parsed is not JsonObject o) return "client data is not an object";
        foreach (var name in (string[])["type", "challenge", "origin", "topOrigin", "new_keys_may_be_added_here"])
        {
            if (o[name] is { } field && !IsString(field)) return $"client data {name} is not a string";
        }
        if (o["crossOrigin"] is JsonValue cross && cross.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False)) return "client data crossOrigin is not a boolean";
        if (o["tokenBinding"] is { } binding && binding is not JsonObject) return "client data tokenBinding is not an object";
        return null;
    }

    /// <summary>go-webauthn's <c>AuthenticatorData.Unmarshal</c>: the fixed part, then exactly the attested data and extensions its flags announce.</summary>
    private static string? AuthenticatorDataProblem(byte[] data)
    {
        if (data.Length < MinAuthDataLength) return "Authenticator data length too short";
        var flags = data[32];
        var remaining = data.Length - MinAuthDataLength;
        if ((flags & FlagAttestedCredentialData) != 0)
        {
            if (data.Length <= MinAttestedAuthDataLength) return "Attested credential flag set but data is missing";
            var idLength = BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(53, 2));
            if (data.Length < 55 + idLength) return "Authenticator attestation data length too short";
            if (idLength > MaxCredentialIdLength) return "Authenticator attestation data credential id length too long";
            if (CborItemLength(data.AsMemory(55 + idLength)) is not { } keyLength) return "Authenticator attestation data public key does not parse";
            remaining -= 16 + 2 + idLength + keyLength;
        }
        else if ((flags & FlagExtensionData) == 0 && data.Length != MinAuthDataLength)
        {
            return "Attested credential flag not set";
        }
        if ((flags & FlagExtensionData) != 0)
        {
            if (remaining == 0) return "Extensions flag set but extensions data is missing";
            remaining = 0;
        }
        return remaining != 0 ? "Leftover bytes decoding AuthenticatorData" : null;
    }

    /// <summary>The length of the one CBOR item at the start of <paramref name="data"/> (the credential's public key), or null.</summary>
    private static int? CborItemLength(ReadOnlyMemory<byte> data)
    {
        try
        {
            var reader = new CborReader(data, CborConformanceMode.Lax, allowMultipleRootLevelValues: true);
            reader.SkipValue();
            return data.Length - reader.BytesRemaining;
        }
        catch (Exception e) when (e is CborContentException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    /// <summary>The attestation object's <c>authData</c> (a CBOR map with a byte-string <c>authData</c>), or null.</summary>
    private static byte[]? AttestationAuthData(byte[] attestationObject)
    {
        try
        {
            var reader = new CborReader(attestationObject, CborConformanceMode.Lax);
            byte[]? authData = null;
            var count = reader.ReadStartMap();
            for (var i = 0; count is null || i < count; i++)
            {
                if (reader.PeekState() == CborReaderState.EndMap) break;
                if (reader.PeekState() != CborReaderState.TextString) return null;
                var name = reader.ReadTextString();
                if (name == "authData")
                {
                    if (reader.PeekState() != CborReaderState.ByteString) return null;
                    authData = reader.ReadByteString();
                }
                else
                {
                    reader.SkipValue();
                }
            }
            reader.ReadEndMap();
            return reader.BytesRemaining == 0 ? authData : null;
        }
        catch (Exception e) when (e is CborContentException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    private static bool IsString(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.String;
}
