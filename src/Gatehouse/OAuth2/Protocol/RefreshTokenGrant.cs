using System.Text.Json.Nodes;
using Gatehouse.OAuth2.Clients;
using Gatehouse.OAuth2.Flows;
using Gatehouse.OAuth2.Tokens;

namespace Gatehouse.OAuth2.Protocol;

/// <summary>
/// <c>grant_type=refresh_token</c> (RFC 6749 6) as fosite's <c>flow_refresh.go</c> with Hydra's defaults: every use
/// rotates — the refresh token is spent atomically, the access tokens issued before are revoked, a new access and refresh
/// token (and ID token) are issued in the same grant — and presenting a spent refresh token again is taken for theft:
/// the whole chain (every token of the grant) is revoked ("Refresh token re-use was detected"); a request that loses the
/// race to spend it against a concurrent one is <c>invalid_request</c> and revokes nothing. A refresh may narrow the
/// scope to part of what was granted.
/// </summary>
public sealed class RefreshTokenGrant(OAuth2TokenService tokens, LoginConsentService flows, FlowTokenIssuer issuer)
{
    public async Task<JsonObject> ExchangeAsync(OAuth2ClientService.Loaded client, IFormCollection form, CancellationToken ct)
    {
        if (!client.Document.GrantTypes.Contains("refresh_token"))
            throw TokenEndpoints.UnauthorizedClient("The OAuth 2.0 Client is not allowed to use authorization grant 'refresh_token'.");
        var token = form["refresh_token"].ToString();
        if (token.Length == 0) throw OAuth2Error.InvalidRequest("The request is missing the 'refresh_token' parameter.");
        var row = await tokens.FindAsync(token, ct);
        if (row is null || row.Kind != OAuth2TokenKinds.RefreshToken) throw OAuth2Error.InvalidGrant("The refresh token is malformed or not valid.");
        if (row.ClientId != client.ClientId)
            throw OAuth2Error.InvalidGrant("The OAuth 2.0 Client ID from this request does not match the ID during the initial token issuance.");
        if (!row.Active)
        {
            await tokens.RevokeRequestAsync(row.RequestId, ct);
            throw OAuth2Error.InvalidGrant("Refresh token re-use was detected. All related tokens have been revoked.");
        }
        if (tokens.IsExpired(row)) throw OAuth2Error.InvalidGrant("The refresh token expired.");

        var granted = ScopeStrategy.Split(row.Scope);
        var requested = ScopeStrategy.Split(form["scope"].ToString());
        foreach (var s in requested)
        {
            if (!granted.Contains(s)) throw OAuth2Error.InvalidScope($"The requested scope '{s}' was not originally granted by the resource owner.");
        }
        var flow = await flows.FindFlowAsync(row.RequestId, ct) ?? throw OAuth2Error.InvalidGrant("The refresh token is malformed or not valid.");
        // A narrowed refresh keeps the offline scopes, so the new refresh token can be used again (fosite keeps them too).
        var scope = requested.Length == 0 ? granted : [.. requested.Union(granted.Where(s => s is "offline" or "offline_access"))];
        var audience = System.Text.Json.JsonSerializer.Deserialize<string[]>(row.Audience) ?? [];
        // The refresh token's own claims (a hook's, kept from the last issue), else the consent's; the hooks run before it is spent.
        var claims = await issuer.RunHooksAsync(client, flow, "refresh_token", requested.Length == 0 ? AuthorizeRequest.Load(flow.Request).Scope : requested,
            scope, audience, form, SessionClaims.FromStored(row.Extra), ct);

        // Another request that read the token at the same time spent it first: as fosite
        // (handleRefreshTokenEndpointStorageError), that is a concurrent use, answered without revoking the chain, so the
        // winner's new tokens stay valid. A request that reads the token after it was spent is the reuse above.
        if (!await tokens.SpendAsync(row, ct))
            throw OAuth2Error.InvalidRequest("Failed to refresh token because of multiple concurrent requests using the same token. Please retry the request.");
        await tokens.RevokeRequestAsync(row.RequestId, OAuth2TokenKinds.AccessToken, ct);
        return await issuer.IssueAsync(client, flow, "refresh_token", scope, audience, ct, claims);
    }
}
