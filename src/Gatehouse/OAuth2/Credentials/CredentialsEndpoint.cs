using Gatehouse.Http.Json;

namespace Gatehouse.OAuth2.Credentials;

/// <summary><c>POST /credentials</c> (<c>OidcApi.createVerifiableCredential</c>) on the public listener.</summary>
public static class CredentialsEndpoint
{
    public const string Credentials = "/credentials";

    public static RouteGroupBuilder MapCredentials(this RouteGroupBuilder root)
    {
        root.MapPost(Credentials, Create);
        return root;
    }

    private static async Task Create(HttpContext http, VerifiableCredentialService credentials)
    {
        // The answer holds a nonce or a credential: no cache keeps it.
        http.Response.Headers.CacheControl = "no-store";
        var (status, body) = await credentials.CreateAsync(Clients.OidcDynamicClientEndpoints.BearerToken(http),
            () => HttpJson.ParseBodyAsync(http.Request, http.RequestAborted), http.RequestAborted);
        await HttpJson.WriteAsync(http, status, body);
    }
}
