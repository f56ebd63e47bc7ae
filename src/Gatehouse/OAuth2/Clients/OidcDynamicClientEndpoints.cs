using System.Net.Http.Headers;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Json;
using Gatehouse.RateLimiting;

namespace Gatehouse.OAuth2.Clients;

/// <summary>
/// OpenID Connect Dynamic Client Registration on the public listener (<c>OidcApi</c>: <c>createOidcDynamicClient</c>,
/// <c>getOidcDynamicClient</c>, <c>setOidcDynamicClient</c>, <c>deleteOidcDynamicClient</c>), served only when
/// <c>oidc.dynamic_client_registration.enabled</c> is true, as Hydra does.
/// </summary>
public static class OidcDynamicClientEndpoints
{
    public const string Register = OAuth2ClientService.RegistrationPath;
    public const string RegisteredClient = OAuth2ClientService.RegistrationPath + "/{id}";

    public static RouteGroupBuilder MapOidcDynamicClients(this RouteGroupBuilder root)
    {
        root.MapPost(Register, Create);
        root.MapGet(RegisteredClient, Get);
        root.MapPut(RegisteredClient, Set);
        root.MapDelete(RegisteredClient, Delete);
        return root;
    }

    private static async Task Create(HttpContext http, OAuth2ClientService clients, OAuth2Settings settings, RateLimiter limiter)
    {
        RequireEnabled(http, settings);
        var ct = http.RequestAborted;
        // Anyone may register, and each registration is a stored row: counted per client address, after the cheap
        // checks (bad input costs no budget) and before the secret is hashed and the row written — or, for a client with
        // a sector_identifier_uri, before that URL is fetched, so the server is no free fetcher either.
        var counted = false;
        async Task CountAsync()
        {
            if (counted) return;
            counted = true;
            if (limiter.ClientBucket(http) is { } bucket) await limiter.EnforceAsync(RateLimitKind.ClientRegistrationsPerAddress, bucket, ct);
        }
        var registration = await clients.PrepareRegistrationAsync(await OAuth2ClientAdminEndpoints.ReadJsonAsync(http), CountAsync, ct);
        await CountAsync();
        var registered = await clients.RegisterAsync(registration, ct);
        var client = registered.Client;
        // Hydra joins "admin" and the client path without a leading slash (urlx.MustJoin("admin", ...)).
        http.Response.Headers.Location = "admin/clients/" + Uri.EscapeDataString(client.ClientId);
        await HttpJson.WriteAsync(http, StatusCodes.Status201Created, client.ToJson(
            client.Document.IsPublic ? null : registration.Secret,
            (registered.RegistrationAccessToken, clients.RegistrationClientUri(client.ClientId))));
    }

    private static async Task Get(string id, HttpContext http, OAuth2ClientService clients, OAuth2Settings settings)
    {
        RequireEnabled(http, settings);
        var client = await clients.GetRegisteredAsync(id, BearerToken(http), http.RequestAborted);
        await HttpJson.WriteAsync(http, 200, client.ToJson());
    }

    private static async Task Set(string id, HttpContext http, OAuth2ClientService clients, OAuth2Settings settings)
    {
        RequireEnabled(http, settings);
        var updated = await clients.SetRegisteredAsync(id, BearerToken(http), () => OAuth2ClientAdminEndpoints.ReadJsonAsync(http), http.RequestAborted);
        await HttpJson.WriteAsync(http, 200, updated.Client.ToJson(registration: (updated.RegistrationAccessToken, null)));
    }

    private static async Task<IResult> Delete(string id, HttpContext http, OAuth2ClientService clients, OAuth2Settings settings)
    {
        RequireEnabled(http, settings);
        await clients.DeleteRegisteredAsync(id, BearerToken(http), http.RequestAborted);
        return Results.NoContent();
    }

    /// <summary>Hydra's <c>requireDynamicAuth</c>: 404 while dynamic registration is off.</summary>
    private static void RequireEnabled(HttpContext http, OAuth2Settings settings)
    {
        http.Response.Headers.CacheControl = "no-store";
        if (!settings.DynamicClientRegistration)
            throw new OAuth2Error(404, GatehouseError.DefaultMessage(404), "Dynamic registration is not enabled.");
    }

    /// <summary>fosite's <c>AccessTokenFromRequest</c>: the <c>Bearer</c> credentials, else an <c>access_token</c> query parameter.</summary>
    internal static string? BearerToken(HttpContext http)
    {
        if (AuthenticationHeaderValue.TryParse(http.Request.Headers.Authorization.ToString(), out var header)
            && string.Equals(header.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase)) return header.Parameter;
        return http.Request.Query["access_token"].ToString() is { Length: > 0 } q ? q : null;
    }
}
