using System.Text.Json.Nodes;
using Gatehouse.Http.Json;
using Gatehouse.OAuth2.Clients;

namespace Gatehouse.OAuth2.Keys;

/// <summary>Hydra's <c>JwkApi</c> (admin) and <c>discoverJsonWebKeys</c> (public, <c>WellknownApi</c>).</summary>
public static class JwkEndpoints
{
    public const string WellKnownKeys = "/.well-known/jwks.json";
    public const string KeySet = "/keys/{set}";
    public const string Key = "/keys/{set}/{kid}";

    public static RouteGroupBuilder MapJwkAdmin(this RouteGroupBuilder admin)
    {
        admin.MapPost(KeySet, Create);
        admin.MapGet(KeySet, GetSet);
        admin.MapPut(KeySet, SetSet);
        admin.MapDelete(KeySet, DeleteSet);
        admin.MapGet(Key, GetKey);
        admin.MapPut(Key, SetKey);
        admin.MapDelete(Key, DeleteKey);
        return admin;
    }

    public static RouteGroupBuilder MapJwkPublic(this RouteGroupBuilder root)
    {
        root.MapGet(WellKnownKeys, Discover);
        return root;
    }

    private static async Task Discover(HttpContext http, JsonWebKeyManager keys, OAuth2Settings settings)
    {
        // Hydra generates every broadcast set here; the JWT access-token set only matters when JWT access tokens are the default.
        if (settings.AccessTokenStrategy == "jwt") await keys.GetSigningKeyAsync(JsonWebKeyManager.AccessTokenSet, http.RequestAborted);
        await HttpJson.WriteAsync(http, 200, Set(await keys.PublicKeysAsync(settings.BroadcastKeys, http.RequestAborted)));
    }

    private static async Task Create(string set, HttpContext http, JsonWebKeyManager keys, OAuth2Settings settings)
    {
        var created = await keys.CreateAsync(set, await OAuth2ClientAdminEndpoints.ReadJsonAsync(http), http.RequestAborted);
        // Hydra's WriteCreated location: the issuer URL joined with keys/{set}.
        http.Response.Headers.Location = settings.Issuer + "keys/" + Uri.EscapeDataString(set);
        await HttpJson.WriteAsync(http, StatusCodes.Status201Created, Set(created));
    }

    private static async Task GetSet(string set, HttpContext http, JsonWebKeyManager keys) =>
        await HttpJson.WriteAsync(http, 200, Set(await keys.GetSetAsync(set, http.RequestAborted)));

    private static async Task GetKey(string set, string kid, HttpContext http, JsonWebKeyManager keys) =>
        await HttpJson.WriteAsync(http, 200, Set(await keys.GetKeyAsync(set, kid, http.RequestAborted)));

    private static async Task SetSet(string set, HttpContext http, JsonWebKeyManager keys) =>
        await HttpJson.WriteAsync(http, 200, Set(await keys.SetSetAsync(set, await OAuth2ClientAdminEndpoints.ReadJsonAsync(http), http.RequestAborted)));

    private static async Task SetKey(string set, HttpContext http, JsonWebKeyManager keys) =>
        await HttpJson.WriteAsync(http, 200, (await keys.SetKeyAsync(set, await OAuth2ClientAdminEndpoints.ReadJsonAsync(http), http.RequestAborted)).ToJson());

    private static async Task<IResult> DeleteSet(string set, HttpContext http, JsonWebKeyManager keys)
    {
        await keys.DeleteSetAsync(set, http.RequestAborted);
        return Results.NoContent();
    }

    private static async Task<IResult> DeleteKey(string set, string kid, HttpContext http, JsonWebKeyManager keys)
    {
        await keys.DeleteKeyAsync(set, kid, http.RequestAborted);
        return Results.NoContent();
    }

    private static JsonObject Set(IEnumerable<Jwk> keys) => new() { ["keys"] = new JsonArray([.. keys.Select(k => (JsonNode)k.ToJson())]) };
}
