using System.Globalization;
using Gatehouse.Http.Errors;
using Microsoft.AspNetCore.WebUtilities;

namespace Gatehouse.Http.Pagination;

/// <summary>Kratos's keyset pagination: <c>page_size</c> + opaque <c>page_token</c>, answered with a <c>Link</c> header.</summary>
public static class KeysetPage
{
    public const string InvalidToken = "The page token is invalid, do not craft your own page tokens";

    public static int ParseSize(IQueryCollection query, int defaultSize, int maxSize)
    {
        var raw = query["page_size"].ToString();
        if (raw.Length == 0) raw = query["per_page"].ToString();
        if (raw.Length == 0) return defaultSize;
        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var size) || size < 1)
            throw GatehouseError.BadRequest($"The page_size parameter must be a positive integer, got \"{raw}\".");
        return Math.Min(size, maxSize);
    }

    /// <summary>
    /// Writes <c>Link: &lt;…&gt;; rel="first",&lt;…&gt;; rel="next"</c>; <c>next</c> is left out on the last page.
    /// Other query parameters of the request are kept in the links.
    /// </summary>
    public static void WriteLinkHeader(HttpContext context, int pageSize, string firstToken, string? nextToken)
    {
        var request = context.Request;
        var baseQuery = QueryHelpers.ParseQuery(request.QueryString.Value)
            .Where(kv => kv.Key is not ("page_token" or "page_size" or "per_page" or "page"))
            .SelectMany(kv => kv.Value.Select(v => new KeyValuePair<string, string?>(kv.Key, v)))
            .ToList();
        string Link(string token, string rel)
        {
            var q = new List<KeyValuePair<string, string?>>(baseQuery) { new("page_size", pageSize.ToString(CultureInfo.InvariantCulture)), new("page_token", token) };
            return $"<{QueryHelpers.AddQueryString($"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}", q)}>; rel=\"{rel}\"";
        }
        var links = Link(firstToken, "first");
        if (nextToken is not null) links += "," + Link(nextToken, "next");
        context.Response.Headers["Link"] = links;
    }
}
