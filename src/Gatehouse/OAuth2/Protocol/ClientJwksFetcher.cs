using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.OAuth2.Keys;

namespace Gatehouse.OAuth2.Protocol;

/// <summary>
/// Fetches the key sets of clients' <c>jwks_uri</c> for <c>private_key_jwt</c> (fosite's <c>DefaultJWKSFetcherStrategy</c>):
/// a <c>GET</c> with a timeout and a size cap, cached per URL for an hour; the caller forces a fresh fetch when the cached
/// set lacks the key a JWT names, so a client's key rotation is seen at once. Redirects are not followed.
/// </summary>
public sealed class ClientJwksFetcher(IHttpClientFactory http, TimeProvider time)
{
    public const string ClientName = "gatehouse-oauth2-jwks";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromHours(1);

    /// <summary>Larger answers are refused (fosite reads at most 10 MiB; a key set is a few KiB).</summary>
    public const int MaxBytes = 1 << 20;

    private const int MaxCachedSets = 1000;
    private readonly ConcurrentDictionary<string, (DateTimeOffset Until, IReadOnlyList<Jwk> Keys)> _cache = new(StringComparer.Ordinal);

    /// <summary>The keys of the set at <paramref name="location"/>; errors are fosite's hints as <c>invalid_client</c>.</summary>
    public async Task<IReadOnlyList<Jwk>> ResolveAsync(string location, bool ignoreCache, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (!ignoreCache && _cache.TryGetValue(location, out var hit) && hit.Until > now) return hit.Keys;

        if (!Uri.TryCreate(location, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw Failure($"Unable to create HTTP 'GET' request to fetch  JSON Web Keys from location '{location}'.");
        HttpResponseMessage response;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Timeout);
        try
        {
            response = await http.CreateClient(ClientName).GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            throw Failure($"Unable to fetch JSON Web Keys from location '{location}'. Check for typos or other network issues.");
        }
        using (response)
        {
            var status = (int)response.StatusCode;
            if (status is < 200 or >= 400)
                throw Failure($"Expected successful status code in range of 200 - 399 from location '{location}' but received code {status}.");
            var keys = await ReadSetAsync(response, timeout.Token, ct)
                ?? throw Failure($"Unable to decode JSON Web Keys from location '{location}'. Please check for typos and if the URL returns valid JSON.");
            if (_cache.Count >= MaxCachedSets) _cache.Clear();
            _cache[location] = (now + CacheLifetime, keys);
            return keys;
        }
    }

    /// <summary>The set's keys, or null when the body is too large, not JSON, or not a key set go-jose would decode.</summary>
    private static async Task<IReadOnlyList<Jwk>?> ReadSetAsync(HttpResponseMessage response, CancellationToken timeout, CancellationToken ct)
    {
        if (response.Content.Headers.ContentLength > MaxBytes) return null;
        var buffer = new MemoryStream();
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(timeout);
            var chunk = new byte[16384];
            int read;
            while ((read = await body.ReadAsync(chunk, timeout)) > 0)
            {
                if (buffer.Length + read > MaxBytes) return null;
                buffer.Write(chunk, 0, read);
            }
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return null;
        }
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(buffer.ToArray());
        }
        catch (JsonException)
        {
            return null;
        }
        if (root is not JsonObject set) return null;
        if (set["keys"] is null) return [];
        if (set["keys"] is not JsonArray array) return null;
        var keys = new List<Jwk>();
        foreach (var k in array)
        {
            // go-jose refuses the whole set when one key does not decode.
            if (!Jwk.TryParse(k, out var key, out _)) return null;
            keys.Add(key);
        }
        return keys;
    }

    private static OAuth2Error Failure(string hint) => ClientAuthenticator.InvalidClient(hint);
}
