using System.Collections.Concurrent;
using System.Text;
using Gatehouse.Jsonnet;

namespace Gatehouse.Http.Outbound;

/// <summary>
/// Loads and compiles web hook body templates once per location (<c>file://</c>, <c>base64://</c>, <c>http(s)://</c>).
/// Templates are evaluated without an import resolver, so they cannot read the file system, and with tight limits.
/// </summary>
public sealed class WebHookTemplates(JsonnetEngine engine, IHttpClientFactory httpClients)
{
    /// <summary>The largest template fetched over HTTP.</summary>
    public const int MaxTemplateBytes = 1024 * 1024;

    private readonly ConcurrentDictionary<string, Lazy<Task<JsonnetProgram>>> _programs = new(StringComparer.Ordinal);

    /// <summary>Limits for one body evaluation: a body template is small, so a runaway one fails fast instead of holding the request.</summary>
    public static JsonnetEvaluationOptions Limits(string contextJson) => new()
    {
        TopLevelArgs = { ["ctx"] = ExternalValue.Json(contextJson) },
        ExtVars = { ["ctx"] = ExternalValue.Json(contextJson) },
        MaxSteps = 20_000_000,
        MaxAllocatedBytes = 128L * 1024 * 1024,
        MaxOutputLength = 4 * 1024 * 1024,
        MaxValueLength = 4 * 1024 * 1024,
        Timeout = TimeSpan.FromSeconds(2),
    };

    /// <summary>The compiled template at <paramref name="location"/>; a failed load is not cached, so a fixed file is picked up.</summary>
    public async Task<JsonnetProgram> GetAsync(string location, CancellationToken ct)
    {
        var lazy = _programs.GetOrAdd(location, l => new Lazy<Task<JsonnetProgram>>(() => LoadAsync(l)));
        try
        {
            return await lazy.Value.WaitAsync(ct);
        }
        catch (Exception) when (lazy.Value.IsFaulted)
        {
            _programs.TryRemove(new KeyValuePair<string, Lazy<Task<JsonnetProgram>>>(location, lazy));
            throw;
        }
    }

    private async Task<JsonnetProgram> LoadAsync(string location)
    {
        string text;
        string fileName;
        if (location.StartsWith("base64://", StringComparison.Ordinal))
        {
            var encoded = location["base64://".Length..];
            text = Encoding.UTF8.GetString(DecodeBase64(encoded));
            fileName = "web_hook_body.jsonnet";
        }
        else if (location.StartsWith("file://", StringComparison.Ordinal))
        {
            // file:///abs/path and file://relative/path, as Kratos's fetcher accepts both.
            var path = location["file://".Length..];
            text = await File.ReadAllTextAsync(path);
            fileName = path;
        }
        else
        {
            using var client = httpClients.CreateClient(WebHookSender.TemplateClientName);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            using var response = await client.GetAsync(location, HttpCompletionOption.ResponseHeadersRead, cts.Token);
            if (!response.IsSuccessStatusCode)
                throw new InvalidOperationException($"fetching the web hook body template from {location} failed with status code {(int)response.StatusCode}");
            var bytes = await WebHookSender.ReadLimitedAsync(response.Content, MaxTemplateBytes, cts.Token);
            text = Encoding.UTF8.GetString(bytes);
            fileName = new Uri(location).AbsolutePath;
        }
        return engine.Compile(text, fileName);
    }

    private static byte[] DecodeBase64(string encoded)
    {
        var s = encoded.Trim().Replace('-', '+').Replace('_', '/');
        s = s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '=');
        return Convert.FromBase64String(s);
    }
}
