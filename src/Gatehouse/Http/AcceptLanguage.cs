using Microsoft.Net.Http.Headers;

namespace Gatehouse.Http;

/// <summary>The one rule for choosing a language from <c>Accept-Language</c> (the built-in pages and the courier's built-in texts).</summary>
public static class AcceptLanguage
{
    /// <summary>
    /// The best of <paramref name="supported"/> (primary subtags such as <c>en</c>, <c>de</c>) by quality, then order, in the
    /// request's <c>Accept-Language</c>; <paramref name="supported"/>[0] when none matches or there is no request.
    /// </summary>
    public static string Best(HttpRequest? request, IReadOnlyList<string> supported)
    {
        ArgumentNullException.ThrowIfNull(supported);
        if (request is null || !StringWithQualityHeaderValue.TryParseList([.. request.Headers.AcceptLanguage.OfType<string>()], out var ranges)) return supported[0];
        foreach (var range in ranges.Select((r, i) => (r, i)).OrderByDescending(x => x.r.Quality ?? 1.0).ThenBy(x => x.i).Select(x => x.r))
        {
            if (range.Quality is <= 0) continue;
            var primary = range.Value.Value?.Split('-')[0].ToLowerInvariant();
            if (primary is not null && supported.Contains(primary)) return primary;
        }
        return supported[0];
    }
}
