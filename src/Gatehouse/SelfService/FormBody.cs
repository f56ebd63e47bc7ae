using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Json;
using Microsoft.AspNetCore.Http.Features;

namespace Gatehouse.SelfService;

/// <summary>
/// Reads a flow submit body, JSON or <c>application/x-www-form-urlencoded</c>, into one JSON object; form keys with dots
/// (<c>traits.name.first</c>) become nested objects, as Kratos's decoder does.
/// </summary>
public static class FormBody
{
    public static async Task<JsonObject> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.HasFormContentType)
        {
            if (request.ContentLength > HttpJson.MaxBodyBytes) throw GatehouseError.PayloadTooLarge("The request body exceeds the maximum allowed size of 5 MB.");
            IFormCollection form;
            try
            {
                form = await request.ReadFormAsync(FormLimits, ct);
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException && !ct.IsCancellationRequested)
            {
                // The form reader's limits (field count, key and value length) and malformed multipart bodies.
                throw GatehouseError.BadRequest($"Unable to decode the request body as a form: {ex.Message}");
            }
            var root = new JsonObject();
            foreach (var (key, values) in form)
            {
                Set(root, key, values.Count > 0 ? values[^1] ?? "" : "");
            }
            Forms.AddOrUpdate(root, FormMarker);
            return root;
        }
        var contentType = request.ContentType ?? "";
        if (contentType.Length > 0 && !contentType.Contains("json", StringComparison.OrdinalIgnoreCase))
            throw new GatehouseError(415, $"The content type \"{contentType}\" is not supported; send application/json or application/x-www-form-urlencoded.");
        var node = await HttpJson.ReadBodyAsync(request, ct);
        return node as JsonObject ?? throw GatehouseError.BadRequest("The request body must be a JSON object.");
    }

    /// <summary>
    /// The form reader's bounds: no self-service form has more than a few dozen fields, so these leave room for any
    /// schema while a hostile body gets a 400 instead of costing memory and CPU. Values share the 5 MB body cap.
    /// </summary>
    public static readonly FormOptions FormLimits = new()
    {
        ValueCountLimit = 1024,
        KeyLengthLimit = 2048,
        ValueLengthLimit = (int)HttpJson.MaxBodyBytes,
        MultipartBodyLengthLimit = HttpJson.MaxBodyBytes,
        MultipartHeadersCountLimit = 16,
        MultipartHeadersLengthLimit = 16 * 1024,
    };

    /// <summary>
    /// The body of a GET submit (a link from a mail: <c>?flow=&amp;token=</c>): the named query parameters that are set,
    /// and no <c>method</c> — the method whose secret the body carries takes it.
    /// </summary>
    public static JsonObject FromQuery(IQueryCollection query, params string[] keys)
    {
        var body = new JsonObject();
        foreach (var key in keys)
        {
            if (query[key].ToString() is { Length: > 0 } value) body[key] = value;
        }
        return body;
    }

    /// <summary>
    /// A submit sent as a GET: Kratos's decoder reads a GET's query as it reads a form, so every query parameter but
    /// <paramref name="except"/> becomes a member, dotted keys nested and values typed as a form's.
    /// </summary>
    public static JsonObject FromQueryAsForm(IQueryCollection query, params string[] except)
    {
        var root = new JsonObject();
        foreach (var (key, values) in query)
        {
            if (!except.Contains(key, StringComparer.Ordinal)) Set(root, key, values.Count > 0 ? values[^1] ?? "" : "");
        }
        return MarkAsForm(root);
    }

    /// <summary>Marks a body as a form's (<see cref="IsForm"/>), for a form submit kept and read back (a paused settings submit).</summary>
    public static JsonObject MarkAsForm(JsonObject body)
    {
        Forms.AddOrUpdate(body, FormMarker);
        return body;
    }

    private static void Set(JsonObject root, string key, string value)
    {
        var parts = key.Split('.');
        // A dotted key nests one object per dot; as deep as a JSON body may nest, and no deeper.
        if (parts.Length > HttpJson.MaxDepth - 1)
            throw GatehouseError.BadRequest($"The form field name \"{key[..Math.Min(key.Length, 64)]}…\" nests more than {HttpJson.MaxDepth - 1} levels deep.");
        var current = root;
        for (var i = 0; i < parts.Length - 1; i++)
        {
            if (current[parts[i]] is not JsonObject next)
            {
                next = new JsonObject();
                current[parts[i]] = next;
            }
            current = next;
        }
        current[parts[^1]] = value;
    }

    public static string? String(JsonObject body, string key) =>
        body[key] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    /// <summary>Bodies <see cref="ReadAsync"/> made from a form (all values strings), told apart for typed decoding.</summary>
    private static readonly ConditionalWeakTable<JsonObject, object> Forms = new();
    private static readonly object FormMarker = new();

    /// <summary>Whether the body came from an <c>application/x-www-form-urlencoded</c> or multipart form.</summary>
    public static bool IsForm(JsonObject body) => Forms.TryGetValue(body, out _);

    /// <summary>
    /// Kratos's first step of a method's submit (<c>decoderx.Decode</c> into the method's Go struct): the reason of its
    /// herodot 400 for the first member, in body order as <c>encoding/json</c> reports it, whose value the struct's field
    /// cannot take — "Unable to decode JSON payload: json: cannot unmarshal number into Go struct field
    /// <paramref name="goStruct"/>.totp_code of type string" — or null. JSON null leaves a field unset. A form's values are
    /// strings converted by the method's JSON schema: a boolean field takes Go's <c>strconv.ParseBool</c> spellings (an
    /// empty value is left out), any other string fails as a string would in JSON. Members the struct does not have are
    /// ignored, as Go does. The flows show the reason as message 4000001 (<see cref="Text.Messages.Generic"/>).
    /// </summary>
    public static string? DecodeError(JsonObject body, string goStruct, IReadOnlyDictionary<string, GoField> fields)
    {
        var form = IsForm(body);
        foreach (var (name, value) in body)
        {
            if (value is null || !fields.TryGetValue(name, out var field)) continue;
            var fits = field switch
            {
                GoField.String => value.GetValueKind() == JsonValueKind.String || (form && value is JsonObject),
                _ => form
                    ? value.GetValueKind() != JsonValueKind.String || value.GetValue<string>() is "" || ParseBool(value.GetValue<string>()) is not null
                    : value.GetValueKind() is JsonValueKind.True or JsonValueKind.False,
            };
            if (fits) continue;
            var kind = value.GetValueKind() switch
            {
                JsonValueKind.String => "string",
                JsonValueKind.Number => "number",
                JsonValueKind.True or JsonValueKind.False => "bool",
                JsonValueKind.Array => "array",
                _ => "object",
            };
            return $"Unable to decode JSON payload: json: cannot unmarshal {kind} into Go struct field {goStruct}.{name} of type {(field == GoField.String ? "string" : "bool")}";
        }
        return null;
    }

    /// <summary>
    /// A boolean field of a method's submit, after <see cref="DecodeError"/> passed: JSON <c>true</c>, or in a form a value
    /// Go's <c>strconv.ParseBool</c> reads as true (<c>1</c>, <c>t</c>, <c>T</c>, <c>true</c>, <c>True</c>, <c>TRUE</c>).
    /// </summary>
    public static bool Bool(JsonObject body, string key) => body[key] is JsonValue v && v.GetValueKind() switch
    {
        JsonValueKind.True => true,
        JsonValueKind.String => IsForm(body) && ParseBool(v.GetValue<string>()) == true,
        _ => false,
    };

    private static bool? ParseBool(string value) => value switch
    {
        "1" or "t" or "T" or "true" or "True" or "TRUE" => true,
        "0" or "f" or "F" or "false" or "False" or "FALSE" => false,
        _ => null,
    };
}

/// <summary>The Go type of a field of a method's submit struct, for <see cref="FormBody.DecodeError"/>.</summary>
public enum GoField
{
    String,
    Bool,
}
