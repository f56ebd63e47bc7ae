using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Identities;

namespace Gatehouse.SelfService.Strategies.LookupSecret;

/// <summary>
/// Recovery (lookup) codes: one second factor while any code is unused; the admin API removes them all. Stored as
/// <c>{"recovery_codes":[{"hash", "used_at"}]}</c> — Kratos's shape with the code replaced by its hash
/// (<see cref="RecoveryCodeHasher"/>); the admin API shows each code's <c>used_at</c> only.
/// </summary>
public sealed class LookupSecretCredentials(RecoveryCodeHasher hasher) : ICredentialKind
{
    public const string CodesKey = "recovery_codes";
    public const string HashKey = "hash";
    public const string UsedAtKey = "used_at";

    public string Type => CredentialTypes.LookupSecret;

    public int CountFirstFactor(IdentityCredential credential) => 0;

    public int CountMultiFactor(IdentityCredential credential) => Entries(credential.Config).Any(c => !IsUsed(c)) ? 1 : 0;

    /// <summary>Kratos shows <c>{"recovery_codes":[{"code", "used_at"}]}</c>; Gatehouse has no plain code to show, so only <c>used_at</c>.</summary>
    public string AdminConfig(string config)
    {
        if (JsonNode.Parse(config) is not JsonObject o || o[CodesKey] is not JsonArray codes) return config;
        var shown = new JsonArray();
        foreach (var entry in codes.OfType<JsonObject>()) shown.Add(new JsonObject { [UsedAtKey] = entry[UsedAtKey]?.DeepClone() });
        o[CodesKey] = shown;
        return o.ToJsonString();
    }

    /// <summary>
    /// Plain codes an admin imports (<c>{"code": …}</c>, from create/PUT/PATCH) become hashes; entries already hashed stay;
    /// entries as the admin view shows them (no code, no hash: a PATCH of that view) are the stored ones, matched in order
    /// by <c>used_at</c>. A PATCH that leaves the list as shown keeps it exactly as stored.
    /// </summary>
    public JsonObject ToStored(JsonObject written, string? stored, Guid identityId)
    {
        if (written[CodesKey] is not JsonArray codes) return written;
        if (stored is not null && JsonNode.DeepEquals(written, JsonNode.Parse(AdminConfig(stored)))) return JsonNode.Parse(stored) as JsonObject ?? written;
        var pool = new Queue<JsonObject>(Entries(stored));
        var result = new JsonArray();
        foreach (var entry in codes.OfType<JsonObject>())
        {
            var usedAt = UsedAt(entry);
            if (entry["code"] is JsonValue c && c.GetValueKind() == JsonValueKind.String && c.GetValue<string>() is { Length: > 0 } code)
            {
                result.Add(Entry(hasher.Hash(identityId, code), usedAt));
            }
            else if (entry[HashKey] is JsonValue h && h.GetValueKind() == JsonValueKind.String)
            {
                result.Add(Entry(h.GetValue<string>(), usedAt));
            }
            else
            {
                // The admin view's entry: the next stored code with the same used state (skipping the ones the patch removed).
                while (pool.TryDequeue(out var candidate))
                {
                    if (UsedAt(candidate) != usedAt) continue;
                    result.Add(candidate.DeepClone());
                    break;
                }
            }
        }
        var copy = (JsonObject)written.DeepClone();
        copy[CodesKey] = result;
        return copy;
    }

    public void Remove(Identity identity, IdentityCredential credential, string? identifier, DateTime now) => identity.Credentials.Remove(credential);

    public static JsonObject Entry(string hash, string? usedAt) => new() { [HashKey] = hash, [UsedAtKey] = usedAt };

    public static IEnumerable<JsonObject> Entries(string? config) =>
        (config is null ? null : (JsonNode.Parse(config) as JsonObject)?[CodesKey] as JsonArray)?.OfType<JsonObject>() ?? [];

    public static string? UsedAt(JsonObject entry) =>
        entry[UsedAtKey] is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() is { Length: > 0 } s && s != "0001-01-01T00:00:00Z" ? s : null;

    public static bool IsUsed(JsonObject entry) => UsedAt(entry) is not null;
}
