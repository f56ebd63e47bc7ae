namespace Gatehouse.Http.Outbound;

/// <summary>
/// Configured headers on an outgoing call to another Ory service (<c>oauth2_provider.headers</c>,
/// <c>urls.identity_provider.headers</c>), as ory/x <c>httpx.WrapTransportWithHeader</c> adds them: Go's
/// <c>Header.Set</c>, so each configured value replaces what the request would send under that name, content headers
/// (<c>Content-Type</c>) included.
/// </summary>
public static class ConfiguredHeaders
{
    public static void Set(HttpRequestMessage request, IEnumerable<KeyValuePair<string, string>> headers)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(headers);
        foreach (var (name, value) in headers)
        {
            if (request.Content is not null && request.Content.Headers.TryGetValues(name, out _))
            {
                request.Content.Headers.Remove(name);
                request.Content.Headers.TryAddWithoutValidation(name, value);
                continue;
            }
            request.Headers.Remove(name);
            if (!request.Headers.TryAddWithoutValidation(name, value)) request.Content?.Headers.TryAddWithoutValidation(name, value);
        }
    }
}
