using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Gatehouse.Http.Outbound;

/// <summary>One answer from a web hook receiver (the body read up to <see cref="WebHookSender.MaxResponseBytes"/>).</summary>
public sealed record WebHookAnswer(int Status, byte[] Body);

/// <summary>A web hook call that did not produce an answer.</summary>
public sealed class WebHookCallFailed(string message, bool timedOut, Exception? inner = null) : Exception(message, inner)
{
    public bool TimedOut { get; } = timedOut;
}

/// <summary>
/// Sends web hook requests: only to the configured URL (redirects are not followed), with the configured headers and
/// authentication, bounded by the hook's time-out. Logs name the hook's URL and request id, never the auth secrets.
/// </summary>
public sealed partial class WebHookSender(IHttpClientFactory httpClients, ILogger<WebHookSender> logger)
{
    public const string ClientName = "web_hook";
    public const string TemplateClientName = "web_hook_template";

    /// <summary>Answers are read up to this size, as Kratos does.</summary>
    public const int MaxResponseBytes = 5 * 1024 * 1024;

    /// <param name="requestId">The web hook's <c>Ory-Webhook-Request-ID</c> header; null (the courier's channel) sends neither id header.</param>
    /// <param name="maxAnswerBytes">How much of the answer is read (default <see cref="MaxResponseBytes"/>).</param>
    public async Task<WebHookAnswer> SendAsync(WebHookConfig config, string? body, string? requestId, string? triggerId, CancellationToken ct, int maxAnswerBytes = MaxResponseBytes)
    {
        using var request = new HttpRequestMessage(config.Method, config.Url);
        var contentType = config.Headers.TryGetValue("Content-Type", out var configured) ? MediaTypeHeaderValue.Parse(configured) : new MediaTypeHeaderValue("application/json");
        if (body is not null && config.SendsBody)
        {
            // As Kratos: with a form content type, the template's top-level fields become form fields.
            request.Content = contentType.MediaType == "application/x-www-form-urlencoded"
                ? new FormUrlEncodedContent(FormFields(body))
                : new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = contentType;
        }
        foreach (var (name, value) in config.Headers)
        {
            if (!name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)) request.Headers.TryAddWithoutValidation(name, value);
        }
        if (requestId is not null) request.Headers.TryAddWithoutValidation("Ory-Webhook-Request-ID", requestId);
        if (triggerId is not null) request.Headers.TryAddWithoutValidation("Ory-Webhook-Trigger-ID", triggerId);
        switch (config.Auth)
        {
            case WebHookAuth.ApiKey { InCookie: true } cookie:
                request.Headers.TryAddWithoutValidation("Cookie", $"{cookie.Name}={cookie.Value}");
                break;
            case WebHookAuth.ApiKey key:
                request.Headers.TryAddWithoutValidation(key.Name, key.Value);
                break;
            case WebHookAuth.Basic basic:
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{basic.User}:{basic.Password}")));
                break;
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(config.Timeout);
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var client = httpClients.CreateClient(ClientName);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
            var bytes = await ReadLimitedAsync(response.Content, maxAnswerBytes, cts.Token);
            LogAnswered(logger, config.Method.Method, config.Url, requestId, (int)response.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return new WebHookAnswer((int)response.StatusCode, bytes);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            LogTimedOut(logger, config.Method.Method, config.Url, requestId, config.Timeout.TotalMilliseconds);
            throw new WebHookCallFailed($"The web hook did not answer within {config.Timeout.TotalSeconds:0.###}s.", timedOut: true, e);
        }
        catch (HttpRequestException e)
        {
            LogUnreachable(logger, config.Method.Method, config.Url, requestId, e.Message);
            throw new WebHookCallFailed("The web hook could not be reached: " + e.Message, timedOut: false, e);
        }
    }

    /// <summary>A JSON object's top-level fields as form fields: strings as they are, anything else as its JSON text.</summary>
    private static IEnumerable<KeyValuePair<string, string>> FormFields(string json)
    {
        if (JsonNode.Parse(json) is not JsonObject fields) yield break;
        foreach (var (name, value) in fields)
        {
            yield return new(name, value switch
            {
                null => "",
                JsonValue v when v.TryGetValue<string>(out var text) => text,
                _ => value.ToJsonString(),
            });
        }
    }

    /// <summary>Reads a body up to <paramref name="limit"/> bytes; the rest is not read.</summary>
    public static async Task<byte[]> ReadLimitedAsync(HttpContent content, int limit, CancellationToken ct)
    {
        await using var stream = await content.ReadAsStreamAsync(ct);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while (buffer.Length < limit && (read = await stream.ReadAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, limit - buffer.Length)), ct)) > 0)
            buffer.Write(chunk, 0, read);
        return buffer.ToArray();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "web_hook {Method} {Url} (request {RequestId}) answered {Status} in {ElapsedMs:0} ms")]
    private static partial void LogAnswered(ILogger logger, string method, LoggedUrl url, string? requestId, int status, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "web_hook {Method} {Url} (request {RequestId}) timed out after {TimeoutMs:0} ms")]
    private static partial void LogTimedOut(ILogger logger, string method, LoggedUrl url, string? requestId, double timeoutMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "web_hook {Method} {Url} (request {RequestId}) could not be reached: {Error}")]
    private static partial void LogUnreachable(ILogger logger, string method, LoggedUrl url, string? requestId, string error);
}
