using System.Text.Json.Nodes;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Json;
using Gatehouse.Http.Pagination;
using Gatehouse.OAuth2.Clients;

namespace Gatehouse.OAuth2.Trust;

/// <summary>Hydra's trusted JWT-bearer issuer admin API (<c>OAuth2Api</c> <c>trustOAuth2JwtGrantIssuer</c> and friends).</summary>
public static class TrustEndpoints
{
    public const string Issuers = "/trust/grants/jwt-bearer/issuers";
    public const string Issuer = "/trust/grants/jwt-bearer/issuers/{id}";

    public static RouteGroupBuilder MapTrustAdmin(this RouteGroupBuilder admin)
    {
        admin.MapPost(Issuers, Create);
        admin.MapGet(Issuers, List);
        admin.MapGet(Issuer, Get);
        admin.MapDelete(Issuer, Delete);
        return admin;
    }

    private static async Task Create(HttpContext http, TrustedJwtIssuerService trusts)
    {
        var trust = await trusts.CreateAsync(await OAuth2ClientAdminEndpoints.ReadJsonAsync(http), http.RequestAborted);
        http.Response.Headers.Location = "/admin" + Issuers + "/" + trust.Id;
        await HttpJson.WriteAsync(http, StatusCodes.Status201Created, TrustedJwtIssuerService.ToJson(trust));
    }

    private static async Task Get(string id, HttpContext http, TrustedJwtIssuerService trusts) =>
        await HttpJson.WriteAsync(http, 200, TrustedJwtIssuerService.ToJson(await trusts.GetAsync(id, http.RequestAborted)));

    private static async Task<IResult> Delete(string id, HttpContext http, TrustedJwtIssuerService trusts)
    {
        await trusts.DeleteAsync(id, http.RequestAborted);
        return Results.NoContent();
    }

    private static async Task List(HttpContext http, TrustedJwtIssuerService trusts)
    {
        var q = http.Request.Query;
        var (size, after) = OAuth2Paging.Parse(q, TrustedJwtIssuerService.DefaultPageSize, TrustedJwtIssuerService.MaxPageSize);
        var (items, next) = await trusts.ListAsync(size, after, q["issuer"].ToString(), http.RequestAborted);
        KeysetPage.WriteLinkHeader(http, size, Guid.Empty.ToString(), next?.ToString());
        await HttpJson.WriteAsync(http, 200, new JsonArray([.. items.Select(t => (JsonNode)TrustedJwtIssuerService.ToJson(t))]));
    }
}
