using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Http.Json;

namespace Gatehouse.OAuth2.Clients;

/// <summary>
/// Hydra's <c>Validator.ValidateSectorIdentifierURL</c> (<c>client/validator.go</c>), run whenever a client document sets
/// <c>sector_identifier_uri</c>: the URL must be <c>https</c>; it is fetched (through the outgoing-request guard of
/// <c>clients.http.disallow_private_ip_ranges</c>) and must answer a JSON array of strings that lists every one of the
/// client's <c>redirect_uris</c> exactly (OpenID Connect Core 8.1). As in Hydra the status code is not looked at and the
/// body is read up to 5 MiB.
/// </summary>
/// <remarks>
/// Hydra words every failure but a parse error in the error's debug field, which it never shows: its answer is only
/// <c>invalid_client_metadata</c>'s description. Gatehouse appends that debug text to the description, as fosite does when
/// debug output is on, so the registrant learns which redirect URI is missing or why the document could not be used.
/// Hydra's client retries twice on connection errors and follows redirects; Gatehouse fetches once, within
/// <see cref="Timeout"/>, and does not follow redirects (a redirect's body is then not the array).
/// </remarks>
public sealed class SectorIdentifierValidator(IHttpClientFactory http)
{
    public const string ClientName = "gatehouse-oauth2-sector-identifier";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>Hydra reads at most 5 MiB of the answer (a longer one no longer decodes).</summary>
    public const int MaxBytes = 5 << 20;

    /// <param name="beforeFetch">Called once the URL passed the checks, just before it is fetched (e.g. a rate limit).</param>
    public async Task ValidateAsync(string location, IReadOnlyList<string> redirectUris, Func<Task>? beforeFetch, CancellationToken ct)
    {
        if (GoUrl.ParseError(location) is { } parseError)
            throw OAuth2Error.InvalidClientMetadata($"Value of sector_identifier_uri could not be parsed because {parseError}.");
        if (GoUrl.Scheme(location) != "https") throw Debug("Value sector_identifier_uri must be an HTTPS URL but it is not.");
        if (beforeFetch is not null) await beforeFetch();

        byte[] body;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Timeout);
        try
        {
            if (!Uri.TryCreate(location, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
                throw new HttpRequestException("http: no Host in request URL");
            using var response = await http.CreateClient(ClientName).GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            body = await ReadAsync(response, timeout.Token);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            var reason = e is OperationCanceledException ? "context deadline exceeded (Client.Timeout exceeded while awaiting headers)" : e.Message;
            throw Debug($"Unable to connect to URL set by sector_identifier_uri: Get \"{location}\": {reason}");
        }

        var urls = Decode(body);
        if (urls.Count == 0) throw Debug("Array from sector_identifier_uri contains no items");
        foreach (var r in redirectUris)
        {
            if (!urls.Contains(r)) throw Debug($"Redirect URL \"{r}\" does not match values from sector_identifier_uri.");
        }
    }

    /// <summary>Go's <c>json.Decode</c> into a <c>[]string</c>, with Go's words for a body it cannot decode.</summary>
    private static List<string> Decode(byte[] body)
    {
        if (body.Length > MaxBytes) throw Undecodable("unexpected EOF");
        if (body.AsSpan().Trim(" \t\r\n"u8).Length == 0) throw Undecodable("EOF");
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(body);
        }
        catch (JsonException e)
        {
            throw Undecodable(e.Message);
        }
        if (root is null) return [];
        if (root is not JsonArray array) throw Undecodable($"json: cannot unmarshal {GoJsonKind.Of(root)} into Go value of type []string");
        var urls = new List<string>(array.Count);
        foreach (var item in array)
        {
            // Go leaves a null element as the empty string.
            if (item is null) urls.Add("");
            else if (item is JsonValue v && v.GetValueKind() == JsonValueKind.String) urls.Add(v.GetValue<string>());
            else throw Undecodable($"json: cannot unmarshal {GoJsonKind.Of(item)} into Go value of type string");
        }
        return urls;
    }

    /// <summary>The body, at most one byte beyond <see cref="MaxBytes"/> (enough to tell it was cut).</summary>
    private static async Task<byte[]> ReadAsync(HttpResponseMessage response, CancellationToken ct)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new MemoryStream();
        var chunk = new byte[16384];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxBytes) break;
        }
        return buffer.ToArray();
    }

    private static OAuth2Error Undecodable(string reason) => Debug($"Unable to decode values from sector_identifier_uri: {reason}");

    private static OAuth2Error Debug(string debug) => OAuth2Error.InvalidClientMetadata(debug);
}
