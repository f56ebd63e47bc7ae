using System.Text.Json.Nodes;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Json;
using Gatehouse.Http.Pagination;

namespace Gatehouse.OAuth2.Clients;

/// <summary>Hydra's client admin API (<c>OAuth2Api</c>: create/get/list/set/patch/delete clients, lifespans, secret rotation).</summary>
public static class OAuth2ClientAdminEndpoints
{
    public const string Clients = "/clients";
    public const string ClientById = "/clients/{id}";
    public const string Lifespans = "/clients/{id}/lifespans";
    public const string RotateSecret = "/clients/{id}/secrets/rotate";

    public static RouteGroupBuilder MapOAuth2ClientsAdmin(this RouteGroupBuilder admin)
    {
        admin.MapPost(Clients, Create);
        admin.MapGet(Clients, List);
        admin.MapGet(ClientById, Get);
        admin.MapPut(ClientById, Set);
        admin.MapPatch(ClientById, Patch);
        admin.MapDelete(ClientById, Delete);
        admin.MapPut(Lifespans, SetLifespans);
        admin.MapPost(RotateSecret, Rotate);
        admin.MapDelete(RotateSecret, DeleteRotated);
        return admin;
    }

    private static async Task Create(HttpContext http, OAuth2ClientService clients)
    {
        var body = await ReadJsonAsync(http);
        var (created, secret) = await clients.CreateAsync(body, http.RequestAborted);
        http.Response.Headers.Location = "/admin/clients/" + Uri.EscapeDataString(created.ClientId);
        await HttpJson.WriteAsync(http, StatusCodes.Status201Created, created.ToJson(created.Document.IsPublic ? null : secret));
    }

    private static async Task List(HttpContext http, OAuth2ClientService clients)
    {
        var q = http.Request.Query;
        var (size, after) = OAuth2Paging.Parse(q, OAuth2ClientService.DefaultPageSize, OAuth2ClientService.MaxPageSize);
        var page = await clients.ListAsync(size, after, q["client_name"].ToString(), q["owner"].ToString(), http.RequestAborted);
        KeysetPage.WriteLinkHeader(http, size, Guid.Empty.ToString(), page.Next?.ToString());
        await HttpJson.WriteAsync(http, 200, new JsonArray([.. page.Items.Select(c => (JsonNode)c.ToJson())]));
    }

    private static async Task Get(string id, HttpContext http, OAuth2ClientService clients) =>
        await HttpJson.WriteAsync(http, 200, (await clients.GetAsync(id, http.RequestAborted)).ToJson());

    private static async Task Set(string id, HttpContext http, OAuth2ClientService clients)
    {
        var (client, secret) = await clients.SetAsync(id, await ReadJsonAsync(http), http.RequestAborted);
        await HttpJson.WriteAsync(http, 200, client.ToJson(secret));
    }

    private static async Task Patch(string id, HttpContext http, OAuth2ClientService clients)
    {
        var (client, secret) = await clients.PatchAsync(id, () => HttpJson.ReadBodyAsync(http.Request, http.RequestAborted), http.RequestAborted);
        await HttpJson.WriteAsync(http, 200, client.ToJson(secret));
    }

    private static async Task<IResult> Delete(string id, HttpContext http, OAuth2ClientService clients)
    {
        await clients.DeleteAsync(id, http.RequestAborted);
        return Results.NoContent();
    }

    private static async Task SetLifespans(string id, HttpContext http, OAuth2ClientService clients) =>
        await HttpJson.WriteAsync(http, 200, (await clients.SetLifespansAsync(id, () => ReadJsonAsync(http), http.RequestAborted)).ToJson());

    private static async Task Rotate(string id, HttpContext http, OAuth2ClientService clients)
    {
        var (client, secret) = await clients.RotateSecretAsync(id, http.RequestAborted);
        await HttpJson.WriteAsync(http, 200, client.ToJson(secret));
    }

    private static async Task DeleteRotated(string id, HttpContext http, OAuth2ClientService clients) =>
        await HttpJson.WriteAsync(http, 200, (await clients.DeleteRotatedSecretsAsync(id, http.RequestAborted)).ToJson());

    /// <summary>Reads a JSON body; undecodable JSON is Hydra's "Unable to decode the request body" 400.</summary>
    internal static async Task<JsonNode?> ReadJsonAsync(HttpContext http)
    {
        try
        {
            return await HttpJson.ReadBodyAsync(http.Request, http.RequestAborted);
        }
        catch (GatehouseError e) when (e.Code == 400)
        {
            throw OAuth2Error.BadRequest(e.Reason ?? "Unable to decode the request body.");
        }
    }
}
