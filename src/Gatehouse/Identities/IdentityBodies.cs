using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Http.Errors;

namespace Gatehouse.Identities;

/// <summary>
/// <c>createIdentityBody</c> / <c>updateIdentityBody</c> decoded strictly, as Kratos's decoder does:
/// unknown fields and wrong types are a 400 naming the field.
/// </summary>
public sealed class IdentityBody
{
    private static readonly HashSet<string> CreateFields =
    [
        "schema_id", "traits", "state", "metadata_public", "metadata_admin", "external_id", "organization_id",
        "region", "verifiable_addresses", "recovery_addresses", "credentials",
    ];

    private static readonly HashSet<string> UpdateFields =
        ["schema_id", "traits", "state", "metadata_public", "metadata_admin", "external_id", "credentials", "region"];

    public string? SchemaId { get; init; }
    public JsonNode? Traits { get; init; }
    public string? State { get; init; }
    public JsonNode? MetadataPublic { get; init; }
    public JsonNode? MetadataAdmin { get; init; }
    public string? ExternalId { get; init; }
    public Guid? OrganizationId { get; init; }
    public JsonArray? VerifiableAddresses { get; init; }
    public JsonArray? RecoveryAddresses { get; init; }
    public JsonObject? Credentials { get; init; }

    public static IdentityBody ParseCreate(JsonNode? node, string where = "") => Parse(node, CreateFields, where);

    public static IdentityBody ParseUpdate(JsonNode? node)
    {
        // Kratos keeps the current schema_id and state when the body leaves them out (or empty).
        var body = Parse(node, UpdateFields, "");
        if (body.Traits is null) throw GatehouseError.BadRequest("The field traits is required.");
        return body;
    }

    private static IdentityBody Parse(JsonNode? node, HashSet<string> allowed, string where)
    {
        if (node is not JsonObject o) throw GatehouseError.BadRequest($"{where}The request body must be a JSON object.");
        foreach (var (key, _) in o)
        {
            if (!allowed.Contains(key)) throw GatehouseError.BadRequest($"{where}json: unknown field \"{key}\"");
        }
        return new IdentityBody
        {
            SchemaId = OptionalString(o, "schema_id", where),
            Traits = o["traits"]?.DeepClone(),
            State = OptionalString(o, "state", where),
            MetadataPublic = o["metadata_public"]?.DeepClone(),
            MetadataAdmin = o["metadata_admin"]?.DeepClone(),
            ExternalId = OptionalString(o, "external_id", where),
            OrganizationId = OptionalGuid(o, "organization_id", where),
            VerifiableAddresses = OptionalArray(o, "verifiable_addresses", where),
            RecoveryAddresses = OptionalArray(o, "recovery_addresses", where),
            Credentials = OptionalObject(o, "credentials", where),
        };
    }

    internal static string? OptionalString(JsonObject o, string key, string where = "")
    {
        var v = o[key];
        if (v is null) return null;
        if (v.GetValueKind() != JsonValueKind.String) throw GatehouseError.BadRequest($"{where}json: field \"{key}\" must be a string");
        return v.GetValue<string>();
    }

    private static Guid? OptionalGuid(JsonObject o, string key, string where)
    {
        var s = OptionalString(o, key, where);
        if (string.IsNullOrEmpty(s)) return null;
        return Guid.TryParse(s, out var g) ? g : throw GatehouseError.BadRequest($"{where}json: field \"{key}\" must be a UUID");
    }

    private static JsonArray? OptionalArray(JsonObject o, string key, string where) => o[key] switch
    {
        null => null,
        JsonArray a => (JsonArray)a.DeepClone(),
        _ => throw GatehouseError.BadRequest($"{where}json: field \"{key}\" must be an array"),
    };

    private static JsonObject? OptionalObject(JsonObject o, string key, string where) => o[key] switch
    {
        null => null,
        JsonObject x => (JsonObject)x.DeepClone(),
        _ => throw GatehouseError.BadRequest($"{where}json: field \"{key}\" must be an object"),
    };
}
