using Gatehouse.Http.Json;
using Gatehouse.OAuth2.Protocol;

namespace Gatehouse.OAuth2.Tokens;

/// <summary>Hydra's admin token operations: <c>introspectOAuth2Token</c>, <c>deleteOAuth2Token</c>.</summary>
public static class OAuth2TokenAdminEndpoints
{
    public const string Introspect = "/oauth2/introspect";
    public const string Tokens = "/oauth2/tokens";

    public static RouteGroupBuilder MapOAuth2TokensAdmin(this RouteGroupBuilder admin)
    {
        admin.MapPost(Introspect, IntrospectToken);
        admin.MapDelete(Tokens, DeleteTokens);
        return admin;
    }

    private static async Task IntrospectToken(HttpContext http, OAuth2TokenIntrospector introspector)
    {
        var form = await TokenEndpoints.ReadFormAsync(http);
        if (form.Count == 0) throw OAuth2Error.InvalidRequest("The POST body can not be empty.");
        await HttpJson.WriteAsync(http, 200, await introspector.IntrospectAsync(form["token"].ToString(), form["scope"].ToString(), http.RequestAborted));
    }

    private static async Task<IResult> DeleteTokens(HttpContext http, OAuth2TokenService tokens)
    {
        var clientId = http.Request.Query["client_id"].ToString();
        if (clientId.Length == 0) throw OAuth2Error.InvalidRequest("Query parameter 'client_id' is not defined but it should have been.");
        await tokens.DeleteForClientAsync(clientId, http.RequestAborted);
        return Results.NoContent();
    }
}
