using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Json;
using Microsoft.AspNetCore.Http.Features;

namespace Gatehouse.SelfService;

/// <summary>
/// Reads a flow submit body, JSON or <c>application/x-www-form-urlencoded</c>, into one JSON object; keys with dots
/// (<c>traits.name.first</c>) become nested objects, as Kratos's decoder does. Every self-service method of Kratos reads
/// JSON "as a form" (<c>decoderx.HTTPDecoderJSONFollowsFormFormat</c>): each member becomes its text first and is then
/// typed by the method's schema, so a JSON body here holds what the same form would: strings, with objects and arrays
/// kept as they are.
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
        return FollowFormFormat(node as JsonObject ?? throw GatehouseError.BadRequest("The request body must be a JSON object."));
    }

    /// <summary>
    /// Kratos's <c>decodeJSONForm</c>: each member of a JSON body is taken as gjson's text of it — a string as is, a number
    /// as written (digits) or Go's plain <c>%f</c> form, <c>true</c>/<c>false</c>, null as an empty value (left out) — and
    /// dotted keys nest as a form's do; an array is its JSON text (no method has an array field at the top). Objects stay
    /// nodes: Kratos hands their raw JSON to object-typed fields such as <c>traits</c> and <c>transient_payload</c>, and
    /// its text to a string field (<see cref="String"/>). So <c>{"totp_code": 123456}</c> is the code "123456" and
    /// <c>{"lookup_secret_confirm": "true"}</c> a true button, as in Kratos.
    /// </summary>
    private static JsonObject FollowFormFormat(JsonObject json)
    {
        var root = new JsonObject();
        var members = json.ToList();
        // Detaches every member at once (removing them one by one costs quadratic time on a body with many keys).
        json.Clear();
        foreach (var (key, value) in members)
        {
            JsonNode? text = value?.GetValueKind() switch
            {
                null or JsonValueKind.Null => null,
                JsonValueKind.String => value.GetValue<string>(),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                JsonValueKind.Number => GoNumberText(value.ToJsonString()),
                JsonValueKind.Array => value.ToJsonString(),
                _ => value,
            };
            if (text is not null) Set(root, key, text);
        }
        return root;
    }

    /// <summary>
    /// gjson's <c>Result.String()</c> of a JSON number: the literal when it is an integer, else Go's
    /// <c>strconv.FormatFloat(f, 'f', -1, 64)</c> (shortest round-trip digits, never an exponent). Written here because
    /// .NET's shortest round-trip format switches to exponents for large and small values.
    /// </summary>
    internal static string GoNumberText(string literal)
    {
        var integer = literal.Length > 0 && literal.AsSpan(literal[0] == '-' ? 1 : 0).IndexOfAnyExceptInRange('0', '9') < 0 && literal != "-";
        if (integer) return literal;
        var f = double.Parse(literal, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture);
        if (double.IsPositiveInfinity(f)) return "+Inf";
        if (double.IsNegativeInfinity(f)) return "-Inf";
        var shortest = f.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        var e = shortest.IndexOf('E');
        if (e < 0) return shortest;
        var exponent = int.Parse(shortest[(e + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        var mantissa = shortest[..e];
        var sign = mantissa.StartsWith('-') ? "-" : "";
        mantissa = mantissa.TrimStart('-');
        var dot = mantissa.IndexOf('.');
        var digits = mantissa.Replace(".", "", StringComparison.Ordinal);
        var point = (dot < 0 ? mantissa.Length : dot) + exponent;
        var plain = point <= 0 ? "0." + new string('0', -point) + digits
            : point >= digits.Length ? digits + new string('0', point - digits.Length)
            : digits[..point] + "." + digits[point..];
        return sign + plain;
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

    private static void Set(JsonObject root, string key, JsonNode value)
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

    /// <summary>
    /// A string field: a string as is; an object as its JSON text, as Kratos's decoder hands an object member of a JSON
    /// body to a string field (<c>{"webauthn_register": {…}}</c> is the credential's JSON); else null.
    /// </summary>
    public static string? String(JsonObject body, string key) => body[key] switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonObject o => o.ToJsonString(),
        _ => null,
    };

    /// <summary>Bodies <see cref="ReadAsync"/> made from a form (all values strings), told apart for typed decoding.</summary>
    private static readonly ConditionalWeakTable<JsonObject, object> Forms = new();
    private static readonly object FormMarker = new();

    /// <summary>Whether the body came from an <c>application/x-www-form-urlencoded</c> or multipart form.</summary>
    public static bool IsForm(JsonObject body) => Forms.TryGetValue(body, out _);

    /// <summary>
    /// Kratos's typing of a method's boolean fields (<c>totp_unlink</c>, the <c>lookup_secret_*</c> buttons): a value Go's
    /// <c>strconv.ParseBool</c> refuses stays a string (decoderx's <c>ParseErrorIgnoreConversionErrors</c>), which the
    /// method's Go struct then cannot take. Answers Go's text for the first such field in body order — "json: cannot
    /// unmarshal string into Go struct field <paramref name="goStruct"/>.totp_unlink of type bool" — or null. An empty
    /// value is left out. String fields cannot fail: every value reaches them as its text.
    /// </summary>
    public static string? UndecodableBoolean(JsonObject body, string goStruct, IReadOnlyCollection<string> booleans)
    {
        foreach (var (name, value) in body)
        {
            if (value is null || !booleans.Contains(name)) continue;
            if (value.GetValueKind() == JsonValueKind.String && value.GetValue<string>() is var text && (text.Length == 0 || ParseBool(text) is not null)) continue;
            return $"json: cannot unmarshal string into Go struct field {goStruct}.{name} of type bool";
        }
        return null;
    }

    /// <summary>
    /// How Kratos answers <see cref="UndecodableBoolean"/>'s failure. A form's decoder wraps it in a herodot 400 ("Unable
    /// to decode JSON payload: …"), which the flow shows as message 4000001: that message is returned. A JSON body's
    /// decoder (<c>decodeJSONForm</c>) returns Go's error unwrapped, which the flow's error handler writes as an error
    /// envelope with status 400: that is thrown. (Kratos's envelope says code 500, herodot's fallback for an unwrapped
    /// error; Gatehouse's says 400, the status it is sent with, so that the body does not claim a server fault.)
    /// </summary>
    public static string? BooleanDecodeFailure(JsonObject body, string goStruct, IReadOnlyCollection<string> booleans)
    {
        if (UndecodableBoolean(body, goStruct, booleans) is not { } failure) return null;
        if (!IsForm(body)) throw new GatehouseError(400, message: failure);
        return $"Unable to decode JSON payload: {failure}";
    }

    /// <summary>
    /// A boolean field of a method's submit: JSON <c>true</c>, or a value Go's <c>strconv.ParseBool</c> reads as true
    /// (<c>1</c>, <c>t</c>, <c>T</c>, <c>true</c>, <c>True</c>, <c>TRUE</c>), from a form or from JSON read as a form.
    /// </summary>
    public static bool Bool(JsonObject body, string key) => body[key] is JsonValue v && v.GetValueKind() switch
    {
        JsonValueKind.True => true,
        JsonValueKind.String => ParseBool(v.GetValue<string>()) == true,
        _ => false,
    };

    private static bool? ParseBool(string value) => value switch
    {
        "1" or "t" or "T" or "true" or "True" or "TRUE" => true,
        "0" or "f" or "F" or "false" or "False" or "FALSE" => false,
        _ => null,
    };
}
