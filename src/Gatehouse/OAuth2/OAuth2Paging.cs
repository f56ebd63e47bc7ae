using Gatehouse.Http.Errors;
using Gatehouse.Http.Pagination;

namespace Gatehouse.OAuth2;

/// <summary>Hydra's keyset paging parameters (<c>page_size</c>, <c>page_token</c>) on its admin lists, with Hydra's errors.</summary>
internal static class OAuth2Paging
{
    /// <summary>The page size and the id to continue after (<see cref="Guid.Empty"/>: the first page).</summary>
    public static (int Size, Guid After) Parse(IQueryCollection q, int defaultSize, int maxSize)
    {
        int size;
        try
        {
            size = KeysetPage.ParseSize(q, defaultSize, maxSize);
        }
        catch (GatehouseError e)
        {
            throw OAuth2Error.BadRequest($"Unable to parse pagination parameters: {e.Reason}");
        }
        var token = q["page_token"].ToString();
        var after = Guid.Empty;
        if (token.Length > 0 && !Guid.TryParse(token, out after))
            throw OAuth2Error.BadRequest($"Unable to parse pagination parameters: {KeysetPage.InvalidToken}");
        return (size, after);
    }
}
