using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Http.Errors;
using Microsoft.AspNetCore.WebUtilities;

namespace Gatehouse.Http.Pagination;

/// <summary>
/// Kratos's "migration" page pagination (my sessions, an identity's sessions): <c>page</c> (0-based) + <c>per_page</c>
/// or <c>page_size</c>, or a <c>page_token</c> that is base64url of <c>{"offset":"n","v":2}</c>. Answered with
/// <c>X-Total-Count</c> and a <c>Link</c> header carrying <c>first</c>, <c>next</c>, <c>prev</c> and <c>last</c>.
/// </summary>
public sealed record OffsetPage(int Offset, int Size)
{
    public static OffsetPage Parse(IQueryCollection query, int defaultSize, int maxSize)
    {
        var size = KeysetPage.ParseSize(query, defaultSize, maxSize);
        var token = query["page_token"].ToString();
        if (token.Length > 0) return new OffsetPage(DecodeToken(token), size);
        var rawPage = query["page"].ToString();
        if (rawPage.Length == 0) return new OffsetPage(0, size);
        if (!int.TryParse(rawPage, NumberStyles.Integer, CultureInfo.InvariantCulture, out var page) || page < 0)
            throw GatehouseError.BadRequest($"The page parameter must be a non-negative integer, got \"{rawPage}\".");
        return new OffsetPage((int)Math.Min((long)page * size, int.MaxValue), size);
    }

    public static string EncodeToken(int offset) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(new JsonObject { ["offset"] = offset.ToString(CultureInfo.InvariantCulture), ["v"] = 2 }.ToJsonString()));

    public static int DecodeToken(string token)
    {
        try
        {
            var node = JsonNode.Parse(Base64Url.DecodeFromChars(token.TrimEnd('=')));
            var offset = node?["offset"]?.GetValue<string>();
            if (node?["v"]?.GetValue<int>() == 2 && int.TryParse(offset, NumberStyles.None, CultureInfo.InvariantCulture, out var value)) return value;
        }
        catch (Exception ex) when (ex is FormatException or JsonException or InvalidOperationException)
        {
            // Falls through to the 400 below.
        }
        throw GatehouseError.BadRequest(KeysetPage.InvalidToken);
    }

    public void WriteHeaders(HttpContext context, long total)
    {
        context.Response.Headers["X-Total-Count"] = total.ToString(CultureInfo.InvariantCulture);
        var request = context.Request;
        var baseQuery = QueryHelpers.ParseQuery(request.QueryString.Value)
            .Where(kv => kv.Key is not ("page_token" or "page_size" or "per_page" or "page"))
            .SelectMany(kv => kv.Value.Select(v => new KeyValuePair<string, string?>(kv.Key, v)))
            .ToList();
        var sizeText = Size.ToString(CultureInfo.InvariantCulture);
        string Link(long page, string rel)
        {
            var q = new List<KeyValuePair<string, string?>>(baseQuery)
            {
                new("page", page.ToString(CultureInfo.InvariantCulture)),
                new("per_page", sizeText),
                new("page_size", sizeText),
                new("page_token", EncodeToken((int)Math.Min(page * Size, int.MaxValue))),
            };
            return $"<{QueryHelpers.AddQueryString($"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}", q)}>; rel=\"{rel}\"";
        }
        var current = Offset / Size;
        var last = Math.Max(0, (total + Size - 1) / Size - 1);
        var links = new List<string> { Link(0, "first") };
        if (current < last) links.Add(Link(current + 1, "next"));
        if (current > 0) links.Add(Link(Math.Min(current - 1, last), "prev"));
        links.Add(Link(last, "last"));
        context.Response.Headers["Link"] = string.Join(',', links);
    }
}
