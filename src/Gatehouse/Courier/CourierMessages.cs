using System.Globalization;
using System.Text;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Pagination;
using Gatehouse.Persistence;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Courier;

/// <summary>The parsed query of <c>GET /admin/courier/messages</c>.</summary>
public sealed record CourierMessageListQuery(int PageSize, CourierPageCursor? After, string? Status, string? Recipient)
{
    public const int DefaultPageSize = 250;
    public const int MaxPageSize = 1000;

    public static readonly IReadOnlyList<string> Statuses =
        [CourierMessageStatus.Queued, CourierMessageStatus.Sent, CourierMessageStatus.Processing, CourierMessageStatus.Abandoned];

    public static CourierMessageListQuery Parse(IQueryCollection q)
    {
        ArgumentNullException.ThrowIfNull(q);
        var size = KeysetPage.ParseSize(q, DefaultPageSize, MaxPageSize);
        var status = q["status"].ToString();
        if (status.Length > 0 && !Statuses.Contains(status))
            throw GatehouseError.BadRequest($"Invalid value \"{status}\" for parameter \"status\": expected one of {string.Join(", ", Statuses)}.");
        var recipient = q["recipient"].ToString();
        var token = q["page_token"].ToString();
        var after = token.Length == 0 ? null : CourierPageCursor.Decode(token);
        return new CourierMessageListQuery(size, after, status.Length > 0 ? status : null, recipient.Length > 0 ? recipient : null);
    }
}

/// <summary>
/// The keyset position after which a page starts: newest first, by (<c>created_at</c> DESC, <c>id</c> DESC).
/// Encoded as an opaque base64url token; the first page's token carries no position.
/// </summary>
public sealed record CourierPageCursor(DateTime CreatedAt, Guid Id)
{
    private const string FirstPayload = "courier:first";
    public static readonly string FirstToken = WebEncoders.Base64UrlEncode(Encoding.UTF8.GetBytes(FirstPayload));

    public string Encode() => WebEncoders.Base64UrlEncode(Encoding.UTF8.GetBytes(
        $"courier:{CreatedAt.Ticks.ToString(CultureInfo.InvariantCulture)}:{Id:N}"));

    /// <summary>Returns null for the first-page token; throws Kratos's 400 for anything that is not a token Gatehouse made.</summary>
    public static CourierPageCursor? Decode(string token)
    {
        string payload;
        try
        {
            payload = Encoding.UTF8.GetString(WebEncoders.Base64UrlDecode(token));
        }
        catch (FormatException)
        {
            throw GatehouseError.BadRequest(KeysetPage.InvalidToken);
        }
        if (payload == FirstPayload) return null;
        var parts = payload.Split(':');
        if (parts is not ["courier", var ticks, var id]
            || !long.TryParse(ticks, NumberStyles.None, CultureInfo.InvariantCulture, out var t) || t < DateTime.MinValue.Ticks || t > DateTime.MaxValue.Ticks
            || !Guid.TryParseExact(id, "N", out var g))
            throw GatehouseError.BadRequest(KeysetPage.InvalidToken);
        return new CourierPageCursor(new DateTime(t, DateTimeKind.Utc), g);
    }
}

/// <summary>Read-side queries over courier messages for the admin API.</summary>
public sealed class CourierMessages(GatehouseDbContext db)
{
    public async Task<(List<CourierMessage> Page, bool HasMore)> ListAsync(CourierMessageListQuery query, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(query);
        IQueryable<CourierMessage> q = db.CourierMessages.AsNoTracking();
        if (query.Status is { } status) q = q.Where(m => m.Status == status);
        if (query.Recipient is { } recipient) q = q.Where(m => m.Recipient == recipient);
        if (query.After is { } after) q = q.Where(m => m.CreatedAt < after.CreatedAt || (m.CreatedAt == after.CreatedAt && m.Id < after.Id));
        var rows = await q.OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Id).Take(query.PageSize + 1)
            .Include(m => m.Dispatches).AsSplitQuery().ToListAsync(ct);
        var hasMore = rows.Count > query.PageSize;
        if (hasMore) rows.RemoveAt(rows.Count - 1);
        return (rows, hasMore);
    }

    public Task<CourierMessage?> FindAsync(Guid id, CancellationToken ct) =>
        db.CourierMessages.AsNoTracking().Include(m => m.Dispatches).FirstOrDefaultAsync(m => m.Id == id, ct);
}
