using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Json;
using Gatehouse.Http.Pagination;

namespace Gatehouse.Identities;

public static class IdentityAdminEndpoints
{
    public const string Identities = "/identities";
    public const string IdentityById = "/identities/{id}";
    public const string ByExternalId = "/identities/by/external/{externalID}";
    public const string CredentialByType = "/identities/{id}/credentials/{type}";

    /// <summary>Maps the identity admin API onto the <c>/admin</c> group.</summary>
    public static RouteGroupBuilder MapIdentitiesAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet(Identities, List);
        admin.MapPost(Identities, Create);
        admin.MapPatch(Identities, Batch);
        admin.MapGet(ByExternalId, GetByExternalId);
        admin.MapGet(IdentityById, Get);
        admin.MapPut(IdentityById, Update);
        admin.MapPatch(IdentityById, Patch);
        admin.MapDelete(IdentityById, Delete);
        admin.MapDelete(CredentialByType, DeleteCredential);
        return admin;
    }

    private static async Task List(HttpContext http, IdentityList list, IdentityJson json)
    {
        var query = IdentityListQuery.Parse(http.Request.Query);
        var (page, hasMore) = await list.ListAsync(query, http.RequestAborted);
        if (query.Legacy is { } legacy)
            // Kratos counts every identity, except for a credentials_identifier lookup, whose total is the page's length.
            legacy.WriteHeaders(http, query.CredentialsIdentifier is null ? await list.CountAsync(http.RequestAborted) : page.Count);
        else if (query.Ids is null)
            KeysetPage.WriteLinkHeader(http, query.PageSize, Guid.Empty.ToString(), hasMore ? page[^1].Id.ToString() : null);
        // A credentials_identifier lookup shows credentials (without their secrets) as Kratos's expand-all does.
        await HttpJson.WriteAsync(http, 200, json.SerializeList(page, IdentityView.Admin, query.IncludeCredential));
    }

    private static async Task Create(HttpContext http, IdentityManager manager, IdentityJson json, Config.GatehouseOptions options)
    {
        var body = IdentityBody.ParseCreate(await HttpJson.ReadBodyAsync(http.Request, http.RequestAborted));
        var identity = await manager.CreateAsync(body, http.RequestAborted);
        http.Response.Headers.Location = (options.Serve.Admin.BaseUrl ?? "").TrimEnd('/') + "/admin/identities/" + identity.Id;
        await HttpJson.WriteAsync(http, 201, json.Serialize(identity, IdentityView.AdminWrite));
    }

    private static async Task Batch(HttpContext http, IdentityBatch batch)
    {
        var results = await batch.CreateAsync(await HttpJson.ReadBodyAsync(http.Request, http.RequestAborted), http.RequestAborted);
        var array = new JsonArray();
        foreach (var r in results)
        {
            var o = new JsonObject { ["action"] = r.Action };
            if (r.IdentityId is { } id) o["identity"] = id.ToString();
            if (r.PatchId is not null) o["patch_id"] = r.PatchId;
            if (r.Error is not null) o["error"] = r.Error;
            array.Add(o);
        }
        await HttpJson.WriteAsync(http, 200, new JsonObject { ["identities"] = array });
    }

    private static async Task Get(HttpContext http, string id, IdentityManager manager, IdentityJson json)
    {
        var include = IdentityListQuery.ParseInclude(http.Request.Query);
        var identity = await manager.GetAsync(ParseId(id), http.RequestAborted);
        await HttpJson.WriteAsync(http, 200, json.Serialize(identity, IdentityView.Admin, include));
    }

    private static async Task GetByExternalId(HttpContext http, string externalID, IdentityList list, IdentityJson json)
    {
        if (string.IsNullOrWhiteSpace(externalID)) throw GatehouseError.BadRequest("The external ID must not be empty.");
        var include = IdentityListQuery.ParseInclude(http.Request.Query);
        var identity = await list.FindByExternalIdAsync(externalID, include.Count > 0, http.RequestAborted) ?? throw IdentityManager.NotFound();
        await HttpJson.WriteAsync(http, 200, json.Serialize(identity, IdentityView.Admin, include));
    }

    private static async Task Update(HttpContext http, string id, IdentityManager manager, IdentityJson json)
    {
        var identityId = ParseId(id);
        var body = IdentityBody.ParseUpdate(await HttpJson.ReadBodyAsync(http.Request, http.RequestAborted));
        var identity = await manager.UpdateAsync(identityId, body, http.RequestAborted);
        await HttpJson.WriteAsync(http, 200, json.Serialize(identity, IdentityView.AdminWrite));
    }

    private static async Task Patch(HttpContext http, string id, IdentityManager manager, IdentityJson json)
    {
        var identityId = ParseId(id);
        // Kratos reads the body before it loads the identity but answers a body that is not JSON only after (a 404 first).
        JsonNode? patch = null;
        var unreadable = false;
        try
        {
            patch = await HttpJson.ReadBodyAsync(http.Request, http.RequestAborted);
        }
        catch (GatehouseError e) when (e.Code == 400)
        {
            unreadable = true;
        }
        var identity = await manager.PatchAsync(identityId, patch, json, http.RequestAborted, unreadable);
        await HttpJson.WriteAsync(http, 200, json.Serialize(identity, IdentityView.AdminWrite));
    }

    private static async Task<IResult> Delete(HttpContext http, string id, IdentityManager manager)
    {
        await manager.DeleteAsync(ParseId(id), http.RequestAborted);
        return Results.NoContent();
    }

    private static async Task<IResult> DeleteCredential(HttpContext http, string id, string type, IdentityManager manager)
    {
        await manager.DeleteCredentialAsync(ParseId(id), type, http.Request.Query["identifier"].ToString(), http.RequestAborted);
        return Results.NoContent();
    }

    /// <summary>A malformed id cannot name an identity: 404, as Kratos answers, never a 500.</summary>
    public static Guid ParseId(string id) => Guid.TryParse(id, out var g) ? g : throw IdentityManager.NotFound();
}
