using Gatehouse.Config;
using Gatehouse.Http;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Json;
using Gatehouse.Http.Pagination;
using Gatehouse.Identities;

namespace Gatehouse.Sessions;

/// <summary>The session admin API; mapped onto the <c>/admin</c> group behind the API key.</summary>
public static class SessionAdminEndpoints
{
    public const string Sessions = "/sessions";
    public const string SessionById = "/sessions/{id}";
    public const string ExtendSession = "/sessions/{id}/extend";
    public const string IdentitySessions = "/identities/{id}/sessions";

    private static readonly DateTime FirstPagePosition = new(2200, 12, 31, 23, 59, 59, DateTimeKind.Utc);

    public static RouteGroupBuilder MapSessionsAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet(Sessions, ListAsync);
        admin.MapDelete(Sessions, RedirectToPublic);
        admin.MapPost(Sessions, ManageSessions.HandleAsync);
        admin.MapGet(SessionById, GetAsync);
        admin.MapDelete(SessionById, DisableAsync);
        admin.MapPatch(ExtendSession, ExtendAsync);
        admin.MapGet(IdentitySessions, ListForIdentityAsync);
        admin.MapDelete(IdentitySessions, DeleteForIdentityAsync);
        return admin;
    }

    private static async Task ListAsync(HttpContext http, SessionList list, SessionJson json)
    {
        var query = AdminSessionQuery.Parse(http.Request.Query);
        var (page, hasMore) = await list.ListAsync(query, http.RequestAborted);
        // The first page's token names a position before every session.
        var first = SessionPageToken.Encode(FirstPagePosition, Guid.Empty);
        KeysetPage.WriteLinkHeader(http, query.PageSize, first, hasMore ? SessionPageToken.Encode(page[^1].CreatedAt, page[^1].Id) : null);
        await HttpJson.WriteAsync(http, 200, json.ToArray(page, query.Expand.Identity, IdentityView.Admin, query.Expand.Devices));
    }

    private static async Task GetAsync(HttpContext http, string id, SessionList list, SessionJson json, GatehouseOptions options)
    {
        // Kratos answers GET :4434/admin/sessions/whoami with a redirect to the public whoami.
        if (id == "whoami")
        {
            await RedirectToPublic(http, options).ExecuteAsync(http);
            return;
        }
        var expand = SessionExpand.Parse(http.Request.Query);
        var session = await list.FindAsync(ParseId(id), expand, http.RequestAborted) ?? throw SessionManager.NotFound();
        // Unexpanded devices are [] here (Kratos fills the slice for the single session).
        await HttpJson.WriteAsync(http, 200, json.ToNode(session, expand.Identity, IdentityView.Admin, includeDevices: true));
    }

    private static async Task<IResult> DisableAsync(HttpContext http, string id, SessionManager manager)
    {
        if (!await manager.RevokeAsync(ParseId(id), http.RequestAborted)) throw SessionManager.NotFound();
        return Results.NoContent();
    }

    /// <summary>
    /// Kratos's <c>adminSessionExtend</c>: the session (200) as it is after the extend, or — with
    /// <c>feature_flags.faster_session_extend</c>, Kratos's announced default — 204 without reading it back.
    /// </summary>
    private static async Task ExtendAsync(HttpContext http, string id, SessionManager manager, SessionList list, SessionJson json, GatehouseOptions options)
    {
        var sessionId = ParseId(id);
        if (!await manager.ExtendAsync(sessionId, http.RequestAborted)) throw SessionManager.NotFound();
        if (options.FeatureFlags.FasterSessionExtend)
        {
            http.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }
        var session = await list.FindAsync(sessionId, SessionExpand.Everything, http.RequestAborted) ?? throw SessionManager.NotFound();
        await HttpJson.WriteAsync(http, 200, json.ToNode(session, includeIdentity: true, IdentityView.Admin));
    }

    private static async Task ListForIdentityAsync(HttpContext http, string id, SessionList list, SessionJson json)
    {
        var identityId = ParseId(id);
        var active = AdminSessionQuery.ParseActive(http.Request.Query);
        var page = OffsetPage.Parse(http.Request.Query, AdminSessionQuery.DefaultPageSize, AdminSessionQuery.MaxPageSize);
        if (!await list.IdentityExistsAsync(identityId, http.RequestAborted)) throw IdentityManager.NotFound();
        var (sessions, total) = await list.ListByIdentityAsync(identityId, active, page, except: null, http.RequestAborted);
        page.WriteHeaders(http, total);
        await HttpJson.WriteAsync(http, 200, json.ToArray(sessions, includeIdentity: true, IdentityView.Admin));
    }

    private static async Task<IResult> DeleteForIdentityAsync(HttpContext http, string id, SessionList list, SessionManager manager)
    {
        var identityId = ParseId(id);
        if (!await list.IdentityExistsAsync(identityId, http.RequestAborted)) throw IdentityManager.NotFound();
        await manager.DeleteByIdentityAsync(identityId, http.RequestAborted);
        return Results.NoContent();
    }

    /// <summary>Routes Kratos serves only on the public port get a 307 there (e.g. <c>DELETE /admin/sessions</c>).</summary>
    private static IResult RedirectToPublic(HttpContext http, GatehouseOptions options)
    {
        var path = http.Request.Path.Value!;
        var publicPath = path.StartsWith("/admin/", StringComparison.Ordinal) ? path["/admin".Length..] : path;
        return Results.Redirect(ReturnUrlPolicy.PublicBaseUrl(options).TrimEnd('/') + publicPath + http.Request.QueryString, permanent: false, preserveMethod: true);
    }

    private static Guid ParseId(string id) =>
        Guid.TryParse(id, out var g) ? g : throw GatehouseError.BadRequest($"Invalid UUID value `{id}` for parameter `id`.");
}
