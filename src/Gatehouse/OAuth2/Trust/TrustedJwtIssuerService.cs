using Gatehouse.Http.Json;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.OAuth2.Keys;

namespace Gatehouse.OAuth2.Trust;

/// <summary>Hydra's trusted JWT-bearer issuer admin operations (<c>oauth2/trust/handler.go</c>, <c>validator.go</c>).</summary>
public sealed class TrustedJwtIssuerService(ITrustedJwtIssuerStore store, TimeProvider time)
{
    public const int DefaultPageSize = 250;
    public const int MaxPageSize = 1000;

    /// <summary>Hydra's <c>ErrMissingRequiredParameter</c>.</summary>
    private static OAuth2Error Missing(string hint) => new(400, "missing_required_parameter", "One of the required parameters is missing. Check your request parameters.", hint);

    /// <summary>A body Go's decoder refuses: Hydra answers <c>{"error":"error","error_description":"&lt;decoder error&gt;"}</c>.</summary>
    private static OAuth2Error Undecodable(string reason) => new(400, "error", reason);

    public async Task<TrustedJwtIssuer> CreateAsync(JsonNode? body, CancellationToken ct)
    {
        if (body is not JsonObject o) throw Undecodable($"json: cannot unmarshal {GoJsonKind.Of(body)} into Go value of type trust.createGrantRequest");
        // expires_at is a time.Time: Time.UnmarshalJSON's error (not a string, or not RFC 3339 as time.Parse reads it)
        // stops Go's decoder, ahead of any type error it recorded; it is checked first for that reason.
        DateTime? expiresAt = o["expires_at"] switch
        {
            null => null,
            JsonValue v when v.GetValueKind() == JsonValueKind.String => Gatehouse.Config.GoTime.TryParseRfc3339(v.GetValue<string>(), out var t, out var timeError) ? t : throw Undecodable(timeError!),
            _ => throw Undecodable(Gatehouse.Config.GoTime.NotAJsonString),
        };
        var issuer = Str(o, "issuer");
        var subject = Str(o, "subject");
        var any = o["allow_any_subject"] switch
        {
            null => false,
            JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
            var other => throw Undecodable($"json: cannot unmarshal {GoJsonKind.Of(other)} into Go struct field createGrantRequest.allow_any_subject of type bool"),
        };
        var scope = o["scope"] switch
        {
            null => [],
            JsonArray a => a.Select(x => x is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>()
                : throw Undecodable($"json: cannot unmarshal {GoJsonKind.Of(x)} into Go struct field createGrantRequest.scope of type string")).ToList(),
            var other => throw Undecodable($"json: cannot unmarshal {GoJsonKind.Of(other)} into Go struct field createGrantRequest.scope of type []string"),
        };
        Jwk? key = null;
        if (o["jwk"] is { } jwkNode && !Jwk.TryParse(jwkNode, out key, out var error)) throw Undecodable(error);

        // validateGrant, in Hydra's order.
        if (issuer.Length == 0) throw Missing("Field 'issuer' is required.");
        if (subject.Length == 0 && !any) throw Missing("One of 'subject' or 'allow_any_subject' field must be set.");
        if (subject.Length > 0 && any) throw Missing("Both 'subject' and 'allow_any_subject' fields cannot be set at the same time.");
        if (expiresAt is null) throw Missing("Field 'expires_at' is required.");
        if (key is null || key.Kid.Length == 0) throw Missing("Field 'jwk' must contain JWK with kid header.");
        // Gatehouse checks what Hydra leaves to the first grant: the key must be able to verify JWTs.
        var publicKey = key.Public();
        if (publicKey?.PublicVerificationKey() is null)
            throw Undecodable("The 'jwk' must be an RSA or EC (P-256, P-384, P-521) key.");
        if (issuer.Length > 255 || subject.Length > 255 || key.Kid.Length > 255) throw Undecodable("Fields 'issuer', 'subject' and the key's 'kid' must be at most 255 characters long.");

        var now = time.GetUtcNow().UtcDateTime;
        var trust = new TrustedJwtIssuer
        {
            Id = Guid.CreateVersion7(),
            Issuer = issuer,
            Subject = subject,
            AllowAnySubject = any,
            Scope = JsonSerializer.Serialize(scope),
            KeyId = key.Kid,
            PublicKey = publicKey.Serialize(),
            CreatedAt = RoundToSecond(now),
            ExpiresAt = RoundToSecond(expiresAt.Value),
        };
        if (!await store.AddAsync(trust, ct)) throw OAuth2Error.Conflict();
        return trust;
    }

    public async Task<TrustedJwtIssuer> GetAsync(string id, CancellationToken ct) =>
        await store.FindAsync(ParseId(id), ct) ?? throw OAuth2Error.NotFound();

    public async Task DeleteAsync(string id, CancellationToken ct)
    {
        if (!await store.DeleteAsync(ParseId(id), ct)) throw OAuth2Error.NotFound();
    }

    public async Task<(List<TrustedJwtIssuer> Items, Guid? Next)> ListAsync(int size, Guid after, string? issuer, CancellationToken ct)
    {
        var rows = await store.ListAsync(size + 1, after, issuer is { Length: > 0 } ? issuer : null, ct);
        return rows.Count > size ? (rows[..size], rows[size - 1].Id) : (rows, null);
    }

    /// <summary>Hydra's <c>trustedOAuth2JwtGrantIssuer</c> JSON, in its field order.</summary>
    public static JsonObject ToJson(TrustedJwtIssuer t) => new()
    {
        ["id"] = t.Id.ToString(),
        ["issuer"] = t.Issuer,
        ["subject"] = t.Subject,
        ["allow_any_subject"] = t.AllowAnySubject,
        ["scope"] = JsonNode.Parse(t.Scope),
        ["public_key"] = new JsonObject { ["set"] = t.Issuer, ["kid"] = t.KeyId },
        ["created_at"] = GoTime(t.CreatedAt),
        ["expires_at"] = GoTime(t.ExpiresAt),
    };

    private static string GoTime(DateTime t) => DateTime.SpecifyKind(t, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static DateTime RoundToSecond(DateTime t)
    {
        var rounded = new DateTime((t.Ticks + TimeSpan.TicksPerSecond / 2) / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, DateTimeKind.Utc);
        return rounded;
    }

    private static Guid ParseId(string id) => Guid.TryParse(id, out var g)
        ? g
        : throw OAuth2Error.BadRequest($"Unable to parse parameter id: uuid: incorrect UUID length {id.Length} in string \"{id}\"");

    private static string Str(JsonObject o, string name) => o[name] switch
    {
        null => "",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        var other => throw Undecodable($"json: cannot unmarshal {GoJsonKind.Of(other)} into Go struct field createGrantRequest.{name} of type string"),
    };
}
