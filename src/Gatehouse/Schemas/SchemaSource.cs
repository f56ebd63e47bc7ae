using System.Text;

namespace Gatehouse.Schemas;

/// <summary>Reads a schema document from a <c>file://</c>, <c>base64://</c> or <c>http(s)://</c> URL.</summary>
internal static class SchemaSource
{
    public static async Task<string> ReadAsync(string id, string url, HttpClient http, string? baseDirectory, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            throw SchemaConfigException.For(id, url, "has no url");
        }

        var separator = url.IndexOf("://", StringComparison.Ordinal);
        var scheme = separator < 0 ? "" : url[..separator].ToLowerInvariant();
        var rest = separator < 0 ? url : url[(separator + 3)..];
        return scheme switch
        {
            "file" => await ReadFileAsync(id, url, rest, baseDirectory, ct),
            "base64" => DecodeBase64(id, url, rest),
            "http" or "https" => await FetchAsync(id, url, http, ct),
            _ => throw SchemaConfigException.For(id, url, "has an unsupported URL scheme; use file://, base64://, http:// or https://"),
        };
    }

    private static async Task<string> ReadFileAsync(string id, string url, string path, string? baseDirectory, CancellationToken ct)
    {
        // file:///abs/x.json is absolute; file://./x.json and file://x.json are relative to the config file.
        path = Uri.UnescapeDataString(path);
        var fullPath = Path.IsPathRooted(path)
            ? path
            : Path.GetFullPath(Path.Combine(baseDirectory ?? Directory.GetCurrentDirectory(), path));
        try
        {
            return await File.ReadAllTextAsync(fullPath, ct);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw SchemaConfigException.For(id, url, $"cannot be read from {fullPath}: {e.Message}", e);
        }
    }

    private static string DecodeBase64(string id, string url, string data)
    {
        // Kratos writes standard base64; URL-safe and unpadded forms are accepted as well.
        var normalized = data.Trim().Replace('-', '+').Replace('_', '/').TrimEnd('=');
        normalized = normalized.PadRight(normalized.Length + ((4 - (normalized.Length % 4)) % 4), '=');
        try
        {
            return new UTF8Encoding(false, true).GetString(Convert.FromBase64String(normalized));
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw SchemaConfigException.For(id, url, $"is not valid base64 of UTF-8 text: {e.Message}", e);
        }
    }

    private static async Task<string> FetchAsync(string id, string url, HttpClient http, CancellationToken ct)
    {
        try
        {
            using var response = await http.GetAsync(new Uri(url), ct);
            if (!response.IsSuccessStatusCode)
            {
                throw SchemaConfigException.For(id, url, $"could not be fetched: HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
            }

            return await response.Content.ReadAsStringAsync(ct);
        }
        catch (Exception e) when (e is HttpRequestException or UriFormatException or (TaskCanceledException and not OperationCanceledException { CancellationToken.IsCancellationRequested: true }))
        {
            throw SchemaConfigException.For(id, url, $"could not be fetched: {e.Message}", e);
        }
    }
}
