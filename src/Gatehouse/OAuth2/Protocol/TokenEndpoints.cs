using System.Text.Json.Nodes;
using Gatehouse.Http.Json;
using Gatehouse.OAuth2.Clients;
using Gatehouse.OAuth2.Tokens;

namespace Gatehouse.OAuth2.Protocol;

/// <summary>The public token and revocation endpoints (<c>oauth2TokenExchange</c>, <c>revokeOAuth2Token</c>).</summary>
public static class TokenEndpoints
{
    public const string Token = "/oauth2/token";
    public const string Revoke = "/oauth2/revoke";

    public static RouteGroupBuilder MapOAuth2TokenEndpoints(this RouteGroupBuilder root)
    {
        root.MapPost(Token, Exchange);
        root.MapPost(Revoke, RevokeToken);
        return root;
    }

    // The grants' services are resolved for the grant asked for only: as parameters, every token request constructed all
    // four with their dependencies (the login/consent service, the ID-token signer, the device and flow stores, …), a
    // measured share of a client_credentials request beside its secret hash.
    private static async Task Exchange(HttpContext http, ClientAuthenticator authenticator, OAuth2TokenService tokens, OAuth2Settings settings)
    {
        var form = await ReadFormAsync(http);
        var grantType = form["grant_type"].ToString();
        if (grantType.Length == 0)
            throw OAuth2Error.InvalidRequest("Request parameter 'grant_type' is missing");
        var client = await authenticator.AuthenticateAsync(http.Request, form, http.RequestAborted);
        var response = grantType switch
        {
            "client_credentials" => await ClientCredentialsAsync(client, form, tokens, settings, settings.HasTokenHooks ? Grant<TokenHook>(http) : null, http.RequestAborted),
            "authorization_code" => await Grant<AuthorizationCodeGrant>(http).ExchangeAsync(client, form, http.RequestAborted),
            "refresh_token" => await Grant<RefreshTokenGrant>(http).ExchangeAsync(client, form, http.RequestAborted),
            Trust.JwtBearerGrant.GrantType => await Grant<Trust.JwtBearerGrant>(http).ExchangeAsync(client, form, http.RequestAborted),
            Device.DeviceFlowService.GrantType => await Grant<Device.DeviceFlowService>(http).ExchangeAsync(client, form, http.RequestAborted),
            _ => throw new OAuth2Error(400, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server.",
                $"The grant type '{grantType}' is not supported."),
        };
        // fosite's verifiable-credentials handler runs after every grant: a nonce for the holder's first proof.
        if (Credentials.VerifiableCredentialService.PrimesTokenResponse(response))
            response = await Grant<Credentials.VerifiableCredentialService>(http).PrimeTokenResponseAsync(response, http.RequestAborted);
        http.Response.Headers.CacheControl = "no-store";
        http.Response.Headers.Pragma = "no-cache";
        await HttpJson.WriteAsync(http, 200, response);
    }

    private static T Grant<T>(HttpContext http) where T : notnull => http.RequestServices.GetRequiredService<T>();

    /// <summary>
    /// RFC 6749 4.4 as fosite's <c>flow_client_credentials.go</c>: confidential clients registered for the grant; requested
    /// scopes must be allowed by the client's <c>scope</c> (under <c>strategies.scope</c>), requested audiences must be in its <c>audience</c>. The
    /// subject is the client id; there is no refresh token and no ID token.
    /// </summary>
    private static async Task<JsonObject> ClientCredentialsAsync(OAuth2ClientService.Loaded client, IFormCollection form, OAuth2TokenService tokens, OAuth2Settings settings, TokenHook? hook, CancellationToken ct)
    {
        var doc = client.Document;
        if (doc.IsPublic)
            throw OAuth2Error.InvalidGrant("The OAuth 2.0 Client is marked as public and is thus not allowed to use authorization grant 'client_credentials'.");
        if (!doc.GrantTypes.Contains("client_credentials"))
            throw UnauthorizedClient("The OAuth 2.0 Client is not allowed to use authorization grant 'client_credentials'.");
        var scopes = ScopeStrategy.Split(form["scope"].ToString());
        var allowed = ScopeStrategy.Split(doc.Scope);
        foreach (var s in scopes)
        {
            if (!settings.AllowsScope(allowed, s))
                throw new OAuth2Error(400, "invalid_scope", "The requested scope is invalid, unknown, or malformed.", $"The OAuth 2.0 Client is not allowed to request scope '{s}'.");
        }
        var audience = RequestedAudience(form);
        foreach (var a in audience)
        {
            if (!doc.Audience.Contains(a)) throw OAuth2Error.InvalidRequest($"Requested audience '{a}' has not been whitelisted by the OAuth 2.0 Client.");
        }
        // Hydra's oauth2/handler.go: with oauth2.client_credentials.default_grant_allowed_scope, a request naming no scope
        // is granted the client's whole scope, as registered (for MITREid compatibility); fosite's GrantScope drops repeats.
        var granted = (scopes.Length == 0 && settings.ClientCredentialsDefaultGrantAllowedScope ? allowed : scopes).Distinct(StringComparer.Ordinal).ToArray();
        var lifespan = doc.Lifespan("client_credentials_grant_access_token_lifespan") ?? settings.AccessTokenLifespan;
        // Hydra's token hook (oauth2TokenExchange runs it for every grant); the session's subject is the client id.
        var extra = hook is not null ? await hook.RunForClientAsync(new TokenHookRequest(client.ClientId, scopes, granted, audience, form), client.ClientId, doc, lifespan, ct) : null;
        var issued = await tokens.NewAccessTokenAsync(doc, Guid.CreateVersion7(), client.ClientId, client.ClientId, granted, audience, extra, lifespan, ct);
        await tokens.AddAsync([issued.Row], ct);
        return new JsonObject
        {
            ["access_token"] = issued.Token,
            ["expires_in"] = (long)Math.Round((issued.Row.ExpiresAt - issued.Row.IssuedAt).TotalSeconds),
            ["scope"] = string.Join(' ', granted),
            ["token_type"] = "bearer",
        };
    }

    private static async Task RevokeToken(HttpContext http, ClientAuthenticator authenticator, OAuth2TokenService tokens)
    {
        var form = await ReadFormAsync(http);
        var client = await authenticator.AuthenticateAsync(http.Request, form, http.RequestAborted);
        var token = form["token"].ToString();
        if (token.Length == 0) throw OAuth2Error.InvalidRequest("The request is missing the 'token' parameter.");
        await tokens.RevokeAsync(token, client.ClientId, http.RequestAborted);
        http.Response.StatusCode = 200;
    }

    /// <summary><c>audience</c> may be sent space-separated or repeated (fosite <c>GetAudiences</c>).</summary>
    internal static string[] RequestedAudience(IFormCollection form) =>
        [.. form["audience"].SelectMany(a => ScopeStrategy.Split(a)).Distinct()];

    internal static OAuth2Error UnauthorizedClient(string hint) =>
        new(400, "unauthorized_client", "The client is not authorized to request a token using this method.", hint);

    /// <summary>The form body; anything else is fosite's "Unable to parse HTTP body" <c>invalid_request</c>.</summary>
    internal static async Task<IFormCollection> ReadFormAsync(HttpContext http)
    {
        if (!http.Request.HasFormContentType)
            throw OAuth2Error.InvalidRequest("Unable to parse HTTP body, make sure to send a properly formatted form request body.");
        try
        {
            return await http.Request.ReadFormAsync(http.RequestAborted);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or BadHttpRequestException { StatusCode: < 500 and not 413 })
        {
            // A malformed body (broken multipart, bad encoding) is the client's error, not a 500.
            throw OAuth2Error.InvalidRequest("Unable to parse HTTP body, make sure to send a properly formatted form request body.");
        }
    }
}
