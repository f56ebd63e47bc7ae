using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Http.Json;

namespace Gatehouse.SelfService.Strategies.WebAuthn;

/// <summary>
/// One registered WebAuthn public key credential as Kratos stores it in a <c>webauthn</c> or <c>passkey</c> credential's
/// config (<c>identity/credentials_webauthn.go</c>: byte fields as standard base64), so imported Kratos identities sign in
/// and the admin API shows the same shape. <c>last_used_at</c> is Gatehouse's addition.
/// </summary>
public sealed class WebAuthnKey
{
    public required byte[] Id { get; init; }

    /// <summary>The COSE-encoded public key (not a secret: it only verifies signatures).</summary>
    public required byte[] PublicKey { get; init; }
    public string AttestationType { get; init; } = "none";
    public byte[] Aaguid { get; init; } = new byte[16];
    public uint SignCount { get; set; }
    public bool CloneWarning { get; set; }
    public string DisplayName { get; set; } = "";
    public DateTime AddedAt { get; init; }
    public DateTime? LastUsedAt { get; set; }
    public bool IsPasswordless { get; init; }
    public bool UserPresent { get; init; }
    public bool UserVerified { get; init; }
    public bool BackupEligible { get; init; }
    public bool BackupState { get; set; }
    public IReadOnlyList<string> Transports { get; init; } = [];

    /// <summary>What Kratos's settings nodes and remove submits call the key: its id in lower-case hex.</summary>
    public string HexId => Convert.ToHexStringLower(Id);

    public JsonObject ToJson()
    {
        var o = new JsonObject
        {
            ["id"] = Convert.ToBase64String(Id),
            ["public_key"] = Convert.ToBase64String(PublicKey),
            ["attestation_type"] = AttestationType,
            ["authenticator"] = new JsonObject
            {
                ["aaguid"] = Convert.ToBase64String(Aaguid),
                ["sign_count"] = SignCount,
                ["clone_warning"] = CloneWarning,
            },
            ["display_name"] = DisplayName,
            ["added_at"] = GoTimeJsonConverter.Format(AddedAt),
            ["is_passwordless"] = IsPasswordless,
            ["flags"] = new JsonObject
            {
                ["user_present"] = UserPresent,
                ["user_verified"] = UserVerified,
                ["backup_eligible"] = BackupEligible,
                ["backup_state"] = BackupState,
            },
        };
        if (Transports.Count > 0) o["transport"] = new JsonArray([.. Transports.Select(t => (JsonNode)t)]);
        if (LastUsedAt is { } used) o["last_used_at"] = GoTimeJsonConverter.Format(used);
        return o;
    }

    /// <summary>A stored (or imported) key, or null when it lacks an id or a public key it could be verified with.</summary>
    public static WebAuthnKey? FromJson(JsonNode? node)
    {
        if (node is not JsonObject o || Bytes(o["id"]) is not { Length: > 0 } id || Bytes(o["public_key"]) is not { Length: > 0 } publicKey) return null;
        var authenticator = o["authenticator"] as JsonObject;
        var flags = o["flags"] as JsonObject;
        return new WebAuthnKey
        {
            Id = id,
            PublicKey = publicKey,
            AttestationType = Text(o["attestation_type"]) ?? "none",
            Aaguid = Bytes(authenticator?["aaguid"]) ?? new byte[16],
            SignCount = authenticator?["sign_count"] is JsonValue sc && sc.TryGetValue<uint>(out var count) ? count : 0,
            CloneWarning = Flag(authenticator?["clone_warning"]),
            DisplayName = Text(o["display_name"]) ?? "",
            AddedAt = Time(o["added_at"]) ?? DateTime.MinValue,
            LastUsedAt = Time(o["last_used_at"]),
            IsPasswordless = Flag(o["is_passwordless"]),
            UserPresent = Flag(flags?["user_present"]),
            UserVerified = Flag(flags?["user_verified"]),
            BackupEligible = Flag(flags?["backup_eligible"]),
            BackupState = Flag(flags?["backup_state"]),
            Transports = o["transport"] is JsonArray t ? [.. t.Select(Text).OfType<string>()] : [],
        };
    }

    /// <summary>The keys of a stored <c>{"credentials": [...], "user_handle": …}</c> config; unusable entries are skipped.</summary>
    public static List<WebAuthnKey> ListFrom(string config) =>
        JsonNode.Parse(config) is JsonObject o && o["credentials"] is JsonArray keys ? [.. keys.Select(FromJson).OfType<WebAuthnKey>()] : [];

    /// <summary>The config's <c>user_handle</c> (standard base64 of the bytes the authenticator returns as userHandle).</summary>
    public static byte[]? UserHandleFrom(string config) => JsonNode.Parse(config) is JsonObject o ? Bytes(o["user_handle"]) : null;

    /// <summary>A config holding these keys and user handle, in Kratos's shape.</summary>
    public static JsonObject Config(IEnumerable<WebAuthnKey> keys, byte[]? userHandle)
    {
        var o = new JsonObject { ["credentials"] = new JsonArray([.. keys.Select(k => (JsonNode)k.ToJson())]) };
        o["user_handle"] = userHandle is null ? null : Convert.ToBase64String(userHandle);
        return o;
    }

    /// <summary>
    /// Writes what a sign-in changed about <paramref name="key"/> (sign count, clone warning, backup state, last use) into its
    /// entry of a stored config, leaving everything else of the entry (e.g. an imported attestation) as it was.
    /// </summary>
    public static bool UpdateUse(JsonObject config, WebAuthnKey key)
    {
        if (config["credentials"] is not JsonArray keys) return false;
        var entry = keys.OfType<JsonObject>().FirstOrDefault(k => Bytes(k["id"]) is { } id && id.AsSpan().SequenceEqual(key.Id));
        if (entry is null) return false;
        var authenticator = entry["authenticator"] as JsonObject ?? (JsonObject)(entry["authenticator"] = new JsonObject { ["aaguid"] = Convert.ToBase64String(key.Aaguid) });
        authenticator["sign_count"] = key.SignCount;
        authenticator["clone_warning"] = key.CloneWarning;
        if (entry["flags"] is JsonObject flags) flags["backup_state"] = key.BackupState;
        if (key.LastUsedAt is { } used) entry["last_used_at"] = GoTimeJsonConverter.Format(used);
        return true;
    }

    private static byte[]? Bytes(JsonNode? node)
    {
        if (Text(node) is not { } text) return null;
        // Kratos writes standard base64; tolerate base64url from hand-written imports.
        text = text.Replace('-', '+').Replace('_', '/');
        text = text.PadRight(text.Length + (4 - text.Length % 4) % 4, '=');
        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static string? Text(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    private static bool Flag(JsonNode? node) => node?.GetValueKind() == JsonValueKind.True;

    private static DateTime? Time(JsonNode? node) =>
        Text(node) is { } s && DateTimeOffset.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var t)
            ? t.UtcDateTime : null;
}
