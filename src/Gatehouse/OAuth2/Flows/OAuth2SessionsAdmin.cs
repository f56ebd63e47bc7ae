using System.Text.Json.Nodes;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Json;
using Gatehouse.Http.Pagination;
using Gatehouse.OAuth2.Clients;

namespace Gatehouse.OAuth2.Flows;

/// <summary>
/// Hydra's consent and login session admin API (<c>consent/handler.go</c>): <c>listOAuth2ConsentSessions</c>,
/// <c>revokeOAuth2ConsentSessions</c> (the consents and every token issued from them) and <c>revokeOAuth2LoginSessions</c>
/// (remembered logins: the next authorization request asks to log in again).
/// </summary>
public sealed class OAuth2SessionsAdmin(IOAuth2FlowStore flows, OAuth2ClientService clients, Logout.LogoutService logout, TimeProvider time)
{
    public const string ConsentSessions = "/oauth2/auth/sessions/consent";
    public const string LoginSessions = "/oauth2/auth/sessions/login";

    public const int DefaultPageSize = 250;
    public const int MaxPageSize = 1000;

    /// <summary>The consent sessions of <c>?subject=</c> (optionally of <c>?login_session_id=</c>), a keyset page with a <c>Link</c> header.</summary>
    public async Task ListConsentSessionsAsync(HttpContext http)
    {
        var q = http.Request.Query;
        var subject = q["subject"].ToString();
        if (subject.Length == 0) throw OAuth2Error.InvalidRequest("Query parameter 'subject' is not defined but should have been.");
        int size;
        try
        {
            size = KeysetPage.ParseSize(q, DefaultPageSize, MaxPageSize);
        }
        catch (GatehouseError e)
        {
            throw OAuth2Error.InvalidRequest($"Unable to parse pagination parameters: {e.Reason}");
        }
        var token = q["page_token"].ToString();
        var after = Guid.Empty;
        if (token.Length > 0 && !Guid.TryParse(token, out after))
            throw OAuth2Error.InvalidRequest($"Unable to parse pagination parameters: {KeysetPage.InvalidToken}");
        Guid? loginSession = null;
        if (q["login_session_id"].ToString() is { Length: > 0 } sid)
        {
            // An id Gatehouse never issued has no consents.
            if (!Guid.TryParse(sid, out var parsed))
            {
                KeysetPage.WriteLinkHeader(http, size, Guid.Empty.ToString(), null);
                await HttpJson.WriteAsync(http, 200, new JsonArray());
                return;
            }
            loginSession = parsed;
        }
        var now = time.GetUtcNow().UtcDateTime;
        var rows = await flows.ListConsentSessionsAsync(subject, loginSession, after, size + 1, now, http.RequestAborted);
        var page = rows.Take(size).ToList();
        var clientJson = new Dictionary<string, JsonObject?>(StringComparer.Ordinal);
        var items = new JsonArray();
        foreach (var flow in page)
        {
            if (!clientJson.TryGetValue(flow.ClientId, out var client))
            {
                client = (await clients.FindAsync(flow.ClientId, http.RequestAborted))?.ToJson();
                clientJson[flow.ClientId] = client;
            }
            var consent = LoginConsentService.Parse(flow.Consent);
            items.Add(new JsonObject
            {
                ["consent_request_id"] = consent["consent_request_id"]?.DeepClone() ?? "",
                ["grant_scope"] = consent["grant_scope"]?.DeepClone() ?? new JsonArray(),
                ["grant_access_token_audience"] = consent["grant_access_token_audience"]?.DeepClone() ?? new JsonArray(),
                ["session"] = consent["session"]?.DeepClone() ?? new JsonObject { ["access_token"] = new JsonObject(), ["id_token"] = new JsonObject() },
                ["remember"] = consent["remember"]?.DeepClone() ?? false,
                ["remember_for"] = consent["remember_for"]?.DeepClone() ?? 0,
                ["handled_at"] = consent["handled_at"]?.DeepClone(),
                ["context"] = consent["context"]?.DeepClone() ?? new JsonObject(),
                ["consent_request"] = LoginConsentService.ConsentRequestJson(flow, AuthorizeRequest.Load(flow.Request), client?.DeepClone().AsObject() ?? [], ""),
            });
        }
        KeysetPage.WriteLinkHeader(http, size, Guid.Empty.ToString(), rows.Count > size ? page[^1].Pk.ToString() : null);
        await HttpJson.WriteAsync(http, 200, items);
    }

    /// <summary>Hydra's three allowed combinations: <c>consent_request_id</c>; <c>subject</c> + <c>client</c>; <c>subject</c> + <c>all=true</c>.</summary>
    public async Task RevokeConsentSessionsAsync(HttpContext http)
    {
        var q = http.Request.Query;
        var subject = q["subject"].ToString();
        var client = q["client"].ToString();
        var consentRequestId = q["consent_request_id"].ToString();
        var all = q["all"].ToString() == "true";
        var ct = http.RequestAborted;
        switch (consentRequestId.Length > 0, subject.Length > 0, client.Length > 0, all)
        {
            case (true, false, false, _):
                // The consent request id is the flow's id; anything else names no consent (Hydra: nothing to revoke, 204).
                if (Guid.TryParseExact(consentRequestId, "N", out var flowId)) await flows.RevokeConsentSessionsAsync(flowId, null, null, ct);
                break;
            case (false, true, true, false):
                await flows.RevokeConsentSessionsAsync(null, subject, client, ct);
                break;
            case (false, true, false, true):
                await flows.RevokeConsentSessionsAsync(null, subject, null, ct);
                break;
            default:
                throw OAuth2Error.InvalidRequest("Invalid combination of query parameters.");
        }
        http.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary><c>?subject=</c>: every login session of the subject; <c>?sid=</c>: that remembered login session (an unknown one is not an error).</summary>
    public async Task RevokeLoginSessionsAsync(HttpContext http)
    {
        var q = http.Request.Query;
        var sid = q["sid"].ToString();
        var subject = q["subject"].ToString();
        if (sid.Length == 0 && subject.Length == 0) throw OAuth2Error.InvalidRequest("Either 'subject' or 'sid' query parameters need to be defined.");
        // Both end the login sessions with back-channel logout to the clients and end the Kratos sessions behind them.
        if (sid.Length > 0) await logout.EndSessionAsync(sid, http.RequestAborted);
        else await logout.EndSubjectAsync(subject, http.RequestAborted);
        http.Response.StatusCode = StatusCodes.Status204NoContent;
    }
}

/// <summary>The routes of <see cref="OAuth2SessionsAdmin"/>.</summary>
public static class OAuth2SessionsAdminEndpoints
{
    public static RouteGroupBuilder MapOAuth2SessionsAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet(OAuth2SessionsAdmin.ConsentSessions, (HttpContext http, OAuth2SessionsAdmin s) => s.ListConsentSessionsAsync(http));
        admin.MapDelete(OAuth2SessionsAdmin.ConsentSessions, (HttpContext http, OAuth2SessionsAdmin s) => s.RevokeConsentSessionsAsync(http));
        admin.MapDelete(OAuth2SessionsAdmin.LoginSessions, (HttpContext http, OAuth2SessionsAdmin s) => s.RevokeLoginSessionsAsync(http));
        return admin;
    }
}
