using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Http.Errors;

namespace Gatehouse.Http.Json;

public static class HttpJson
{
    /// <summary>Kratos caps request bodies at 5 MB on both listeners.</summary>
    public const long MaxBodyBytes = 5 * 1024 * 1024;

    public static async Task<JsonNode?> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxBodyBytes) throw GatehouseError.PayloadTooLarge("The request body exceeds the maximum allowed size of 5 MB.");
        try
        {
            return await JsonNode.ParseAsync(request.Body, cancellationToken: ct);
        }
        catch (JsonException ex)
        {
            throw GatehouseError.BadRequest($"Unable to decode the request body as JSON: {ex.Message}");
        }
    }

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
