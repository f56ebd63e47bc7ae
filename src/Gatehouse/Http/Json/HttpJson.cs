using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Http.Errors;

namespace Gatehouse.Http.Json;

public static class HttpJson
{
    /// <summary>Kratos caps request bodies at 5 MB on both listeners.</summary>
    public const long MaxBodyBytes = 5 * 1024 * 1024;

    /// <summary>How deep a request body may nest (System.Text.Json's default, far beyond any Kratos payload).</summary>
    public const int MaxDepth = 64;

    private static readonly JsonDocumentOptions BodyOptions = new() { MaxDepth = MaxDepth, AllowDuplicateProperties = false };

    /// <summary>Reads a JSON request body; any malformed body is a 400 in the envelope, an oversized one a 413.</summary>
    public static async Task<JsonNode?> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        try
        {
            return await ParseBodyAsync(request, ct);
        }
        catch (JsonException ex)
        {
            throw GatehouseError.BadRequest($"Unable to decode the request body as JSON: {ex.Message}");
        }
    }

    /// <summary>
    /// The one JSON body parser: throws <see cref="JsonException"/> for anything that is not a well-formed document of
    /// well-formed values, so no malformed part is found later by whoever reads it (as a 500). Beyond JSON syntax it
    /// refuses duplicate member names, strings (values and names) that are not valid Unicode — invalid UTF-8 and lone or
    /// swapped UTF-16 surrogate escapes such as <c>"\ud800"</c>, which System.Text.Json only notices when the string is
    /// read — and numbers no float64 holds (<c>1e999</c>), which Go's decoder in Kratos refuses as well.
    /// </summary>
    public static async Task<JsonNode?> ParseBodyAsync(HttpRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength > MaxBodyBytes) throw GatehouseError.PayloadTooLarge("The request body exceeds the maximum allowed size of 5 MB.");
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, ct);
        if (buffer.Length > MaxBodyBytes) throw GatehouseError.PayloadTooLarge("The request body exceeds the maximum allowed size of 5 MB.");
        var bytes = new ReadOnlyMemory<byte>(buffer.GetBuffer(), 0, (int)buffer.Length);
        CheckValues(bytes.Span);
        return JsonNode.Parse(bytes.Span, documentOptions: BodyOptions);
    }

    private static void CheckValues(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxDepth });
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.String:
                case JsonTokenType.PropertyName:
                    try
                    {
                        reader.GetString();
                    }
                    catch (InvalidOperationException ex)
                    {
                        throw new JsonException($"{ex.Message} Path: {Position(reader)}.", ex);
                    }
                    break;
                case JsonTokenType.Number:
                    if (!reader.TryGetDouble(out var number) || !double.IsFinite(number))
                        throw new JsonException($"The number at {Position(reader)} is out of range.");
                    break;
            }
        }
    }

    private static string Position(Utf8JsonReader reader) => $"byte {reader.TokenStartIndex}";

    public static Task WriteAsync(HttpContext context, int status, byte[] utf8Json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.ContentLength = utf8Json.Length;
        return context.Response.Body.WriteAsync(utf8Json, context.RequestAborted).AsTask();
    }

    /// <summary>Go's encoder escapes only &lt;, &gt; and &amp; in strings; the relaxed encoder keeps the rest readable, as Kratos's output is.</summary>
    public static readonly JsonSerializerOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Task WriteAsync(HttpContext context, int status, JsonNode node) =>
        WriteAsync(context, status, JsonSerializer.SerializeToUtf8Bytes(node, Options));
}
