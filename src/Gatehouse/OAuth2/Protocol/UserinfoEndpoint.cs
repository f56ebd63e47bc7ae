using System.Text.Json.Nodes;
using Gatehouse.Http.Json;
using Gatehouse.OAuth2.Clients;
using Gatehouse.OAuth2.Flows;
using Gatehouse.OAuth2.Tokens;

namespace Gatehouse.OAuth2.Protocol;

/// <summary>
/// <c>GET|POST /userinfo</c> (<c>getOidcUserInfo</c>), as Hydra's handler: the ID-token claims of the bearer access
/// token's stored session — the consent's <c>session.id_token</c>, or what a token hook set for the grant that issued the
/// token (<see cref="Tokens.OAuth2Token.IdTokenExtra"/>) — without <c>nonce, at_hash, c_hash, exp, sid, jti</c>, with <c>aud</c> holding the client. The token comes in the
/// <c>Authorization</c> header, a form body or the query (<c>access_token</c>), as fosite reads it. A missing, unknown,
/// expired or revoked token is 401 with <c>WWW-Authenticate: Bearer error=…</c>. Clients with
/// <c>userinfo_signed_response_alg: RS256</c> get a signed JWT (<c>application/jwt</c>).
/// </summary>
public static class UserinfoEndpoint
{
    public const string Userinfo = "/userinfo";

    public static RouteGroupBuilder MapUserinfo(this RouteGroupBuilder root)
    {
        root.MapGet(Userinfo, Handle);
        root.MapPost(Userinfo, Handle);
        return root;
    }

    private static async Task Handle(HttpContext http, OAuth2TokenService tokens, LoginConsentService flows, OAuth2ClientService clients, IdTokens idTokens, Keys.JsonWebKeyManager keys, TimeProvider time)
    {
        var ct = http.RequestAborted;
        var token = await AccessTokenFromRequestAsync(http);
        if (token.Length == 0)
        {
            var missing = new OAuth2Error(401, "request_unauthorized", "The request could not be authorized.", "Check that you provided valid credentials in the right format.");
            http.Response.Headers.WWWAuthenticate = $"Bearer error=\"{missing.Error}\",error_description=\"{missing.FullDescription}\"";
            throw missing;
        }
        var row = await tokens.FindActiveAsync(token, ct);
        if (row is null)
        {
            var inactive = new OAuth2Error(401, "token_inactive", "Token is inactive because it is malformed, expired or otherwise invalid. Token validation failed.");
            http.Response.Headers.WWWAuthenticate = $"Bearer error=\"{inactive.Error}\",error_description=\"{inactive.FullDescription}\"";
            throw inactive;
        }
        if (row.Kind != OAuth2TokenKinds.AccessToken)
        {
            const string only = "Only access tokens are allowed in the authorization header.";
            http.Response.Headers.WWWAuthenticate = $"Bearer error=\"invalid_token\",error_description=\"{only}\"";
            throw new OAuth2Error(401, "Unauthorized", only);
        }
        var client = await clients.FindAsync(row.ClientId, ct);
        JsonObject claims;
        if (await flows.FindFlowAsync(row.RequestId, ct) is { } flow)
            claims = idTokens.Claims(flow, row.ClientId, row.IssuedAt, row.IdTokenExtra is { } hooked ? JsonNode.Parse(hooked) as JsonObject ?? [] : null);
        else claims = new JsonObject { ["sub"] = row.Subject, ["aud"] = new JsonArray(row.ClientId) };
        foreach (var name in new[] { "nonce", "at_hash", "c_hash", "exp", "sid", "jti" }) claims.Remove(name);

        if (client?.Document.UserinfoSignedResponseAlg == "RS256")
        {
            claims["jti"] = Guid.NewGuid().ToString();
            claims["iat"] = time.GetUtcNow().ToUnixTimeSeconds();
            var signing = await keys.GetSigningKeyAsync(Keys.JsonWebKeyManager.IdTokenSet, ct);
            var jwt = new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().CreateToken(claims.ToJsonString(), signing.Credentials);
            http.Response.ContentType = "application/jwt";
            await http.Response.WriteAsync(jwt, ct);
            return;
        }
        await HttpJson.WriteAsync(http, 200, claims);
    }

    /// <summary>
    /// fosite's <c>AccessTokenFromRequest</c> (RFC 6750 2.1–2.3): the <c>Authorization: Bearer</c> header, else
    /// <c>access_token</c> from Go's <c>Request.Form</c> — a form body's value first (POST), then the query's, for GET too.
    /// A body that cannot be parsed yields no token (then <c>request_unauthorized</c>), as in fosite.
    /// </summary>
    private static async Task<string> AccessTokenFromRequestAsync(HttpContext http)
    {
        var parts = http.Request.Headers.Authorization.ToString().Split(' ', 2);
        if (parts.Length == 2 && string.Equals(parts[0], "Bearer", StringComparison.OrdinalIgnoreCase)) return parts[1];
        if (HttpMethods.IsPost(http.Request.Method) && http.Request.HasFormContentType)
        {
            try
            {
                if ((await TokenEndpoints.ReadFormAsync(http))["access_token"] is { Count: > 0 } posted) return posted[0] ?? "";
            }
            catch (OAuth2Error)
            {
                return "";
            }
        }
        return http.Request.Query["access_token"] is { Count: > 0 } query ? query[0] ?? "" : "";
    }
}
