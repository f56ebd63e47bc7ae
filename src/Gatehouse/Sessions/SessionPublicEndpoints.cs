using System.Text.Json;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Json;
using Gatehouse.Http.Pagination;
using Gatehouse.Identities;
using Gatehouse.Sessions.Tokenizer;

namespace Gatehouse.Sessions;

/// <summary>The public session API (Kratos's "frontend" tag): whoami and the caller's own sessions, plus logout.</summary>
public static class SessionPublicEndpoints
{
    public const string Whoami = "/sessions/whoami";
    public const string MySessions = "/sessions";
    public const string MySessionById = "/sessions/{id}";
    public const string AuthenticatedIdentityHeader = "X-Kratos-Authenticated-Identity-Id";
    public const int DefaultPerPage = 250;
    public const int MaxPerPage = 1000;

    // Kratos routes whoami for every method so that reverse proxies can forward any request to it.
    private static readonly string[] WhoamiMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"];

    public static RouteGroupBuilder MapSessionsPublic(this RouteGroupBuilder root)
    {
        root.MapMethods(Whoami, WhoamiMethods, WhoamiAsync);
        root.MapGet(MySessions, ListMineAsync);
        root.MapDelete(MySessions, RevokeMyOthersAsync);
        root.MapDelete(MySessionById, RevokeMineAsync);
        root.MapLogout();
        return root;
    }

    private static async Task WhoamiAsync(HttpContext http, SessionManager manager, SessionJson json, WhoamiCache cache, SessionTokenizer tokenizer, SessionAssurance assurance)
    {
        if (manager.CacheableSessions && !manager.TryExtractToken(http, out _, out _, out _))
        {
            // The 401 to a request without credentials may be cached for a minute. Set as the answer starts: the error
            // envelope clears the headers a handler set.
            http.Response.OnStarting(static state =>
            {
                ((HttpResponse)state).Headers[SessionManager.SessionCacheForHeader] = "60";
                return Task.CompletedTask;
            }, http.Response);
        }
        // Kratos reads the first value and ignores an empty one.
        if (http.Request.Query.TryGetValue("tokenize_as", out var tokenizeAs) && tokenizeAs.FirstOrDefault() is { Length: > 0 } template)
        {
            await TokenizedWhoamiAsync(http, manager, json, tokenizer, template, assurance);
            return;
        }

        byte[]? hash = null;
        var stamp = 0L;
        if (cache.Enabled && manager.TryExtractToken(http, out var token, out var source, out var cookieExpiresAt))
        {
            hash = SessionTokens.Hash(token);
            if (cache.TryGet(hash, out var hit))
            {
                if (hit.StepUpRequired) throw SessionAssurance.Aal2Required(assurance.StepUpUrl());
                await AnswerAsync(http, manager, token, source, cookieExpiresAt, hit.ExpiresAt, hit.IdentityId, hit.Body);
                return;
            }
            // Taken before the read: a write committed after it invalidates what the read returns.
            stamp = cache.Begin();
        }
        var current = await manager.RequireAsync(http, http.RequestAborted);
        var session = current.Session;
        var satisfied = await assurance.SatisfiesAsync(session, assurance.WhoamiRequiredAal, http.RequestAborted);
        var body = JsonSerializer.SerializeToUtf8Bytes(json.ToNode(session, includeIdentity: true, IdentityView.Public), HttpJson.Options);
        if (hash is not null) cache.Add(hash, session, body, stamp, stepUpRequired: !satisfied);
        if (!satisfied) throw SessionAssurance.Aal2Required(assurance.StepUpUrl());
        await AnswerAsync(http, manager, current.Token, current.Source, current.CookieExpiresAt, session.ExpiresAt, session.IdentityId, body);
    }

    /// <summary>
    /// Writes a whoami answer: the identity header, and — the session may outlive its cookie (admin extend, refresh) —
    /// a cookie that lasts as long as the session when the request came with a shorter one.
    /// </summary>
    private static Task AnswerAsync(HttpContext http, SessionManager manager, string token, SessionTokenSource source, DateTime? cookieExpiresAt,
        DateTime expiresAt, Guid identityId, byte[] body)
    {
        if (source == SessionTokenSource.Cookie && cookieExpiresAt < expiresAt) manager.WriteCookie(http, token, expiresAt);
        http.Response.Headers[AuthenticatedIdentityHeader] = identityId.ToString();
        if (manager.CacheableSessions) http.Response.Headers[SessionManager.SessionCacheForHeader] = manager.SessionCacheFor(expiresAt);
        return HttpJson.WriteAsync(http, 200, body);
    }

    /// <summary>
    /// whoami with <c>tokenize_as</c>: every answer carries a new token (its own <c>jti</c>, <c>iat</c>, <c>exp</c>), so it
    /// neither comes from nor goes into the whoami cache. A tokenizer error answers before the cookie is re-sent, as in Kratos.
    /// </summary>
    private static async Task TokenizedWhoamiAsync(HttpContext http, SessionManager manager, SessionJson json, SessionTokenizer tokenizer, string template, SessionAssurance assurance)
    {
        var current = await manager.RequireAsync(http, http.RequestAborted);
        var session = current.Session;
        await assurance.EnsureAsync(session, assurance.WhoamiRequiredAal, null, http.RequestAborted);
        var node = json.ToNode(session, includeIdentity: true, IdentityView.Public);
        node["tokenized"] = await tokenizer.TokenizeAsync(template, session, node.ToJsonString(HttpJson.Options), http.RequestAborted);
        await AnswerAsync(http, manager, current.Token, current.Source, current.CookieExpiresAt, session.ExpiresAt, session.IdentityId, JsonSerializer.SerializeToUtf8Bytes(node, HttpJson.Options));
    }

    private static async Task ListMineAsync(HttpContext http, SessionManager manager, SessionList list, SessionJson json, SessionAssurance assurance)
    {
        var current = await manager.RequireAsync(http, http.RequestAborted, SessionManager.NoValidSessionCookie);
        // As Kratos's listMySessions: the caller's sessions are whoami-level information.
        await assurance.EnsureAsync(current.Session, assurance.WhoamiRequiredAal, null, http.RequestAborted);
        var page = OffsetPage.Parse(http.Request.Query, DefaultPerPage, MaxPerPage);
        var (sessions, total) = await list.ListByIdentityAsync(current.Session.IdentityId, active: true, page, except: current.Session.Id, http.RequestAborted);
        page.WriteHeaders(http, total);
        await HttpJson.WriteAsync(http, 200, json.ToArray(sessions, includeIdentity: true, IdentityView.Public));
    }

    private static async Task RevokeMyOthersAsync(HttpContext http, SessionManager manager)
    {
        var current = await manager.RequireAsync(http, http.RequestAborted, SessionManager.NoValidSessionCookie);
        var count = await manager.RevokeOthersAsync(current.Session.IdentityId, current.Session.Id, http.RequestAborted);
        await HttpJson.WriteAsync(http, 200, new System.Text.Json.Nodes.JsonObject { ["count"] = count });
    }

    private static async Task<IResult> RevokeMineAsync(HttpContext http, string id, SessionManager manager)
    {
        var current = await manager.RequireAsync(http, http.RequestAborted, SessionManager.NoValidSessionCookie);
        if (!Guid.TryParse(id, out var sessionId)) throw GatehouseError.BadRequest($"Invalid UUID value `{id}` for parameter `id`.");
        if (sessionId == current.Session.Id) throw GatehouseError.BadRequest("cannot revoke current session");
        if (!await manager.RevokeOwnAsync(current.Session.IdentityId, sessionId, http.RequestAborted)) throw SessionManager.NotFound();
        return Results.NoContent();
    }
}
