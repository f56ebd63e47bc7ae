using System.Globalization;
using Gatehouse.Http.Errors;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.Http.Pagination;

/// <summary>
/// Kratos's legacy page pagination of <c>GET /admin/identities</c> (ory/x <c>pagepagination</c>): <c>page</c> (0-based)
/// and <c>per_page</c>, answered with <c>X-Total-Count</c> and a <c>Link</c> header whose links carry only <c>page</c>
/// and <c>per_page</c>. Only enumerating past 1000 items is an error; unparsable numbers fall back to the defaults.
/// </summary>
public sealed record LegacyPage(int Page, int PerPage)
{
    public const int DefaultPerPage = 250;
    public const int MaxPerPage = 500;
    public const int MaxItems = 1000;

    public int Offset => Page * PerPage;

    /// <summary>
    /// The legacy page of <paramref name="query"/>, or null when the request pages by keyset: as Kratos's
    /// <c>ParseKeysetOrPagePagination</c>, a <c>page_token</c> or <c>page_size</c> wins, and only a <c>page</c> asks for this.
    /// </summary>
    public static LegacyPage? Parse(IQueryCollection query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.ContainsKey("page_token") || query.ContainsKey("page_size") || !query.ContainsKey("page")) return null;
        // Go's strconv.ParseInt: a sign and digits; anything else (or out of range) is the default.
        var page = Math.Max(0, ReadInt64(query["page"]) ?? 0);
        var perPage = Math.Clamp(ReadInt64(query["per_page"]) ?? DefaultPerPage, 1, MaxPerPage);
        if (page > MaxItems || page * perPage > MaxItems)
            throw GatehouseError.BadRequest($"Legacy pagination is not supported for enumerating over {MaxItems} items. Please switch to using page_token and page_size.");
        return new LegacyPage((int)page, (int)perPage);
    }

    private static long? ReadInt64(StringValues values)
    {
        // url.Values.Get: the first value.
        var raw = values.Count > 0 ? values[0] : null;
        return long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value : null;
    }

    /// <summary>
    /// <c>X-Total-Count</c> and the <c>Link</c> header exactly as ory/x <c>HeaderWithFormatter</c> chooses them: no
    /// <c>first</c> on the first page, no <c>next</c>/<c>last</c> on the last, a single <c>first</c> whose
    /// <c>per_page</c> is the total when everything fits one page, and <c>first</c>/<c>next</c>/<c>prev</c> (page -1)
    /// when there is nothing at all. The request's other query parameters are kept.
    /// </summary>
    public void WriteHeaders(HttpContext context, long total)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        var baseQuery = QueryHelpers.ParseQuery(request.QueryString.Value)
            .Where(kv => kv.Key is not ("page" or "per_page"))
            .SelectMany(kv => kv.Value.Select(v => new KeyValuePair<string, string?>(kv.Key, v)))
            .ToList();
        string Link(string rel, long limit, long offset)
        {
            var q = new List<KeyValuePair<string, string?>>(baseQuery)
            {
                new("page", (offset / limit).ToString(CultureInfo.InvariantCulture)),
                new("per_page", limit.ToString(CultureInfo.InvariantCulture)),
            };
            return $"<{QueryHelpers.AddQueryString($"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}", q)}>; rel=\"{rel}\"";
        }

        long size = PerPage;
        long offset = Offset;
        var lastOffset = total % size == 0 ? total - size : total / size * size;
        context.Response.Headers["X-Total-Count"] = total.ToString(CultureInfo.InvariantCulture);
        string[] links;
        if (offset >= lastOffset)
        {
            links = total == 0
                ? [Link("first", size, 0), Link("next", size, (offset / size + 1) * size), Link("prev", size, (offset / size - 1) * size)]
                : total <= size
                    ? [Link("first", total, 0)]
                    : [Link("first", size, 0), Link("prev", size, lastOffset - size)];
        }
        else if (offset < size)
        {
            links = [Link("next", size, size), Link("last", size, lastOffset)];
        }
        else
        {
            links = [Link("first", size, 0), Link("next", size, (offset / size + 1) * size), Link("prev", size, (offset / size - 1) * size), Link("last", size, lastOffset)];
        }
        context.Response.Headers["Link"] = string.Join(',', links);
    }
}
