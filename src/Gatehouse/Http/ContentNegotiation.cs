using Microsoft.Net.Http.Headers;

namespace Gatehouse.Http;

/// <summary>Kratos's rule for "is this an API/SPA client" (<c>x.IsJSONRequest</c>): JSON content, or an Accept header that negotiates to JSON over HTML.</summary>
public static class ContentNegotiation
{
    /// <summary>
    /// Kratos's <c>x.IsJSONRequest</c>: the body is JSON, or <c>Accept</c> negotiates to <c>application/json</c> among
    /// the offers <c>text/html, application/json</c> (Kratos's <c>x.AcceptsJSON</c>) with golang/gddo's
    /// <c>NegotiateContentType</c>: the highest q wins, and at equal q an exact match beats a wildcard, then the earlier
    /// offer wins. So axios's (the Ory JS SDK's) default <c>application/json, text/plain, */*</c> is JSON (204), while a
    /// browser's <c>text/html,...,*/*;q=0.8</c>, a bare <c>*/*</c> and a missing <c>Accept</c> are not (303).
    /// </summary>
    public static bool WantsJson(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentType is { } contentType && contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)) return true;
        return AcceptsJson(request);
    }

    /// <summary>
    /// Kratos's <c>x.IsBrowserRequest</c>: <c>Accept</c> alone negotiates to <c>text/html</c> — a missing <c>Accept</c>, a bare
    /// <c>*/*</c> and a browser's header do, whatever the body is (a JSON body sent without <c>Accept</c> counts as a browser).
    /// Kratos's offers there (<c>text/html, text/*, */*, application/json</c>) pick <c>application/json</c> for exactly the
    /// headers <see cref="AcceptsJson"/> does, so this is its negation.
    /// </summary>
    public static bool IsBrowserRequest(HttpRequest request) => !AcceptsJson(request);

    /// <summary>Kratos's <c>x.AcceptsJSON</c>: <c>Accept</c> negotiates to <c>application/json</c> among <c>text/html, application/json</c>.</summary>
    public static bool AcceptsJson(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!MediaTypeHeaderValue.TryParseList([.. request.Headers.Accept.OfType<string>()], out var accepted) || accepted.Count == 0) return false;
        return Negotiate(accepted, JsonOffers, "text/html") == "application/json";
    }

    private static readonly string[] JsonOffers = ["text/html", "application/json"];

    // A port of github.com/golang/gddo/httputil.NegotiateContentType, which Kratos uses.
    private static string Negotiate(IList<MediaTypeHeaderValue> specs, string[] offers, string defaultOffer)
    {
        var best = defaultOffer;
        var bestQ = -1.0;
        var bestWild = 3;
        foreach (var offer in offers)
        {
            foreach (var spec in specs)
            {
                var q = spec.Quality ?? 1.0;
                var value = spec.MediaType.Value ?? "";
                if (q <= 0 || q < bestQ) continue;
                if (value == "*/*")
                {
                    if (q > bestQ || bestWild > 2) (best, bestQ, bestWild) = (offer, q, 2);
                }
                else if (value.EndsWith("/*", StringComparison.Ordinal))
                {
                    if (offer.StartsWith(value[..^1], StringComparison.OrdinalIgnoreCase) && (q > bestQ || bestWild > 1)) (best, bestQ, bestWild) = (offer, q, 1);
                }
                else if (string.Equals(value, offer, StringComparison.OrdinalIgnoreCase) && (q > bestQ || bestWild > 0))
                {
                    (best, bestQ, bestWild) = (offer, q, 0);
                }
            }
        }
        return best;
    }
}
