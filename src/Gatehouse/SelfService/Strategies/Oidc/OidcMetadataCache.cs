using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.SelfService.Strategies.Oidc;

/// <summary>A provider's discovery document, as far as the sign-in uses it.</summary>
public sealed record OidcProviderMetadata(
    string Issuer, string AuthorizationEndpoint, string TokenEndpoint, string? UserinfoEndpoint, string JwksUri, IReadOnlyList<string> CodeChallengeMethods);

/// <summary>
/// Reads and caches the providers' discovery documents (<c>/.well-known/openid-configuration</c>) and key sets for as long
/// as their HTTP cache headers allow (<c>Cache-Control: max-age</c>, else <c>Expires</c>; one hour without either), within
/// bounds: never refetched more than once a minute however short the lifetime, never kept longer than a day. A token
/// signed with a key the cached set lacks refetches the set once (key rotation), at most every ten seconds per provider, so
/// tokens with made-up key ids cannot make Gatehouse hammer the provider.
/// </summary>
public sealed class OidcMetadataCache(IHttpClientFactory httpClients, TimeProvider time)
{
    /// <summary>The named HTTP client for calls to upstream providers (10 s timeout, no cookies).</summary>
    public const string HttpClientName = "gatehouse-oidc";

    /// <summary>The largest discovery document or key set read.</summary>
    public const int MaxDocumentBytes = 512 * 1024;

    private static readonly TimeSpan DefaultLifetime = TimeSpan.FromHours(1);
    private static readonly TimeSpan MinLifetime = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(1);
    private static readonly TimeSpan ForcedRefreshInterval = TimeSpan.FromSeconds(10);

    private sealed record Entry<T>(T Value, DateTimeOffset FetchedAt, DateTimeOffset ExpiresAt);

    private readonly ConcurrentDictionary<string, Entry<OidcProviderMetadata>> _metadata = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Entry<JsonWebKeySet>> _keys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _forcedRefreshes = new(StringComparer.Ordinal);

    /// <summary>The discovery document of <paramref name="issuerUrl"/>; its <c>issuer</c> must be that URL (OpenID Connect Discovery §4.3).</summary>
    public async Task<OidcProviderMetadata> MetadataAsync(string issuerUrl, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (_metadata.TryGetValue(issuerUrl, out var cached) && cached.ExpiresAt > now) return cached.Value;
        var url = issuerUrl.TrimEnd('/') + "/.well-known/openid-configuration";
        var (doc, lifetime) = await FetchAsync(url, ct);
        OidcProviderMetadata metadata;
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new OidcUpstreamError($"The OpenID Connect discovery document at {url} is not a JSON object.");
            var issuer = Str(root, "issuer");
            if (issuer is null || issuer.TrimEnd('/') != issuerUrl.TrimEnd('/'))
                throw new OidcUpstreamError($"The OpenID Connect discovery document at {url} names the issuer \"{issuer}\", not \"{issuerUrl}\".");
            metadata = new OidcProviderMetadata(
                issuer,
                Str(root, "authorization_endpoint") ?? throw new OidcUpstreamError($"The OpenID Connect discovery document at {url} has no authorization_endpoint."),
                Str(root, "token_endpoint") ?? throw new OidcUpstreamError($"The OpenID Connect discovery document at {url} has no token_endpoint."),
                Str(root, "userinfo_endpoint"),
                Str(root, "jwks_uri") ?? throw new OidcUpstreamError($"The OpenID Connect discovery document at {url} has no jwks_uri."),
                root.TryGetProperty("code_challenge_methods_supported", out var m) && m.ValueKind == JsonValueKind.Array
                    ? [.. m.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!)]
                    : []);
        }
        _metadata[issuerUrl] = new(metadata, now, now + lifetime);
        return metadata;
    }

    /// <summary>The key set at <paramref name="jwksUri"/>; <paramref name="refresh"/> asks for a fresh copy (an unknown key id), granted at most every ten seconds.</summary>
    public async Task<JsonWebKeySet> KeysAsync(string jwksUri, bool refresh, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (_keys.TryGetValue(jwksUri, out var cached) && cached.ExpiresAt > now)
        {
            if (!refresh) return cached.Value;
            if (_forcedRefreshes.TryGetValue(jwksUri, out var last) && now - last < ForcedRefreshInterval) return cached.Value;
            _forcedRefreshes[jwksUri] = now;
        }
        var (doc, lifetime) = await FetchAsync(jwksUri, ct);
        JsonWebKeySet set;
        using (doc)
        {
            try
            {
                set = new JsonWebKeySet(doc.RootElement.GetRawText());
            }
            catch (ArgumentException e)
            {
                throw new OidcUpstreamError($"The key set at {jwksUri} is not a JSON Web Key Set.", e);
            }
        }
        _keys[jwksUri] = new(set, now, now + lifetime);
        return set;
    }

    private async Task<(JsonDocument Document, TimeSpan Lifetime)> FetchAsync(string url, CancellationToken ct)
    {
        using var client = httpClients.CreateClient(HttpClientName);
        try
        {
            using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct);
            if (!response.IsSuccessStatusCode)
                throw new OidcUpstreamError($"The OpenID Connect provider answered {(int)response.StatusCode} to {url}.");
            var bytes = await ReadLimitedAsync(response.Content, MaxDocumentBytes, ct);
            return (JsonDocument.Parse(bytes), Lifetime(response.Headers.CacheControl, response.Content.Headers.Expires, response.Headers.Date ?? time.GetUtcNow()));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException && !ct.IsCancellationRequested)
        {
            throw new OidcUpstreamError($"The OpenID Connect provider could not be reached at {url}: {e.Message}", e);
        }
    }

    /// <summary>How long a response may be reused, from its cache headers, within the cache's bounds.</summary>
    public static TimeSpan Lifetime(CacheControlHeaderValue? cacheControl, DateTimeOffset? expires, DateTimeOffset date)
    {
        TimeSpan lifetime;
        if (cacheControl is { NoStore: true } or { NoCache: true }) lifetime = TimeSpan.Zero;
        else if (cacheControl?.MaxAge is { } maxAge) lifetime = maxAge;
        else if (expires is { } e) lifetime = e - date;
        else lifetime = DefaultLifetime;
        return lifetime < MinLifetime ? MinLifetime : lifetime > MaxLifetime ? MaxLifetime : lifetime;
    }

    /// <summary>Reads a response body, refusing one larger than <paramref name="max"/> bytes.</summary>
    public static async Task<byte[]> ReadLimitedAsync(HttpContent content, int max, CancellationToken ct)
    {
        await using var stream = await content.ReadAsStreamAsync(ct);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > max) throw new OidcUpstreamError($"The OpenID Connect provider's answer is larger than {max} bytes.");
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private static string? Str(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s ? s : null;
}
