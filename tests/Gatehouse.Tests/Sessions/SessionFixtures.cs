using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Identities;
using Gatehouse.Persistence;
using Gatehouse.Sessions;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Tests.Sessions;

/// <summary>Sessions made the way the login flow will make them: an identity from the admin API, then <see cref="SessionManager.IssueAsync"/>.</summary>
public static class SessionFixtures
{
    public static async Task<JsonObject> CreateIdentity(TestServer s, string? email = null, string extra = "")
    {
        email ??= HttpAssertions.UniqueEmail("session");
        var response = await s.AdminWithKey.PostJson("/admin/identities", $$$$$"""{"schema_id":"default","traits":{"email":"{{{{{email}}}}}"}{{{{{extra}}}}}}""");
        return (await response.Json(HttpStatusCode.Created)).AsObject();
    }

    public static DefaultHttpContext RequestContext(IServiceProvider services, Action<IHeaderDictionary>? headers = null)
    {
        var http = new DefaultHttpContext { RequestServices = services };
        http.Connection.RemoteIpAddress = IPAddress.Parse("192.0.2.10");
        http.Request.Headers.UserAgent = "GatehouseTests/1.0";
        headers?.Invoke(http.Request.Headers);
        return http;
    }

    public static async Task<IssuedSession> Issue(TestServer s, Guid identityId, Action<IHeaderDictionary>? headers = null, string method = "password")
    {
        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        var identity = await db.Identities.Include(i => i.VerifiableAddresses).Include(i => i.RecoveryAddresses).SingleAsync(i => i.Id == identityId);
        var manager = scope.ServiceProvider.GetRequiredService<SessionManager>();
        var http = RequestContext(scope.ServiceProvider, headers);
        return await manager.IssueAsync(identity, new AuthenticationMethod(method, "aal1", DateTime.UtcNow), http, CancellationToken.None);
    }

    public static async Task<(JsonObject Identity, IssuedSession Session)> IdentityWithSession(TestServer s, Action<IHeaderDictionary>? headers = null)
    {
        var identity = await CreateIdentity(s);
        var issued = await Issue(s, Guid.Parse(identity["id"]!.GetValue<string>()), headers);
        return (identity, issued);
    }

    /// <summary>The <c>name=value</c> pair a browser would send back for the session cookie <paramref name="issued"/> sets.</summary>
    public static string CookieHeader(TestServer s, IssuedSession issued)
    {
        using var scope = s.Services.CreateScope();
        var http = RequestContext(scope.ServiceProvider);
        scope.ServiceProvider.GetRequiredService<SessionManager>().WriteCookie(http, issued);
        return SetCookieValue(http.Response.Headers.SetCookie.ToString());
    }

    public static string SetCookieValue(string setCookie) => setCookie.Split(';')[0];

    public static HttpRequestMessage Get(string url, string? token = null, string? cookie = null, string? bearer = null, HttpMethod? method = null)
    {
        var request = new HttpRequestMessage(method ?? HttpMethod.Get, url);
        if (token is not null) request.Headers.Add("X-Session-Token", token);
        if (cookie is not null) request.Headers.Add("Cookie", cookie);
        if (bearer is not null) request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
        return request;
    }

    public static async Task Update(TestServer s, Guid sessionId, Action<Session> change)
    {
        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        var session = await db.Sessions.SingleAsync(x => x.Id == sessionId);
        change(session);
        await db.SaveChangesAsync();
    }

    public static async Task<Session?> Load(TestServer s, Guid sessionId)
    {
        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        return await db.Sessions.AsNoTracking().Include(x => x.Devices).SingleOrDefaultAsync(x => x.Id == sessionId);
    }

    /// <summary>Looks the session of a request up through <see cref="SessionManager.FromRequestAsync"/> in a fresh scope.</summary>
    public static async Task<Session?> FromRequest(TestServer s, Action<IHeaderDictionary> headers)
    {
        await using var scope = s.Services.CreateAsyncScope();
        var http = RequestContext(scope.ServiceProvider, headers);
        return await scope.ServiceProvider.GetRequiredService<SessionManager>().FromRequestAsync(http, CancellationToken.None);
    }

    /// <summary>A client that neither keeps cookies nor follows redirects, so each test says exactly what it sends.</summary>
    public static HttpClient Client(string baseUrl) =>
        new(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = new Uri(baseUrl) };

    public static Guid Id(JsonObject o) => Guid.Parse(o["id"]!.GetValue<string>());
}
