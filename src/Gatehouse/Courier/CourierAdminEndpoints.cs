using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Json;
using Gatehouse.Http.Pagination;

namespace Gatehouse.Courier;

/// <summary>
/// <c>GET /admin/courier/messages</c> and <c>GET /admin/courier/messages/{id}</c>. Message bodies and subjects contain
/// codes and links: as in Kratos (<c>courier/handler.go</c>), they are shown only with <c>--dev</c> and are otherwise
/// replaced by <see cref="CourierMessageJson.Redacted"/>; they are never logged.
/// </summary>
public static class CourierAdminEndpoints
{
    public const string Messages = "/courier/messages";
    public const string MessageById = "/courier/messages/{id}";

    public static RouteGroupBuilder MapCourierAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet(Messages, List);
        admin.MapGet(MessageById, Get);
        return admin;
    }

    private static async Task List(HttpContext http, CourierMessages messages, GatehouseOptions options)
    {
        var query = CourierMessageListQuery.Parse(http.Request.Query);
        var (page, hasMore) = await messages.ListAsync(query, http.RequestAborted);
        KeysetPage.WriteLinkHeader(http, query.PageSize, CourierPageCursor.FirstToken,
            hasMore ? new CourierPageCursor(page[^1].CreatedAt, page[^1].Id).Encode() : null);
        var array = new JsonArray();
        foreach (var m in page) array.Add(CourierMessageJson.Serialize(m, redact: !options.Dev));
        await HttpJson.WriteAsync(http, 200, array);
    }

    private static async Task Get(HttpContext http, string id, CourierMessages messages, GatehouseOptions options)
    {
        var messageId = ParseUuid(id);
        var message = await messages.FindAsync(messageId, http.RequestAborted)
            ?? throw new GatehouseError(404, message: "Unable to locate the resource");
        await HttpJson.WriteAsync(http, 200, CourierMessageJson.Serialize(message, redact: !options.Dev));
    }

    /// <summary>Parses a UUID with the error text of Go's <c>uuid.FromString</c>, which Kratos returns as the message.</summary>
    private static Guid ParseUuid(string raw)
    {
        if (Guid.TryParse(raw, out var id)) return id;
        var message = raw.Length is 32 or 36 or 38 or 41 or 45
            ? $"uuid: invalid UUID format in string \"{raw}\""
            : $"uuid: incorrect UUID length {raw.Length} in string \"{raw}\"";
        throw new GatehouseError(400, message: message);
    }
}
