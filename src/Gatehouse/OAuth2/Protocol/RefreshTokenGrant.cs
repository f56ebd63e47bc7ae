using System.Text.Json.Nodes;
using Gatehouse.OAuth2.Clients;
using Gatehouse.OAuth2.Flows;
using Gatehouse.OAuth2.Tokens;

namespace Gatehouse.OAuth2.Protocol;

/// <summary>
/// <c>grant_type=refresh_token</c> (RFC 6749 6) as fosite's <c>flow_refresh.go</c> with Hydra's storage
/// (<c>persistence/sql/persister_oauth2.go</c>): every use rotates — the refresh token is spent atomically and a new access
/// and refresh token (and ID token) are issued in the same grant — and presenting a spent refresh token again is taken for
/// theft: the whole chain (every token of the grant) is revoked ("The refresh token was already used."). A refresh may narrow
/// neither the scope (a <c>scope</c> parameter is ignored, as fosite's) nor the audience: both are re-checked against what
/// the client may have now.
/// <para>Without a grace period (Hydra's <c>strictRefreshRotation</c>) a use revokes the grant's access tokens and other
/// refresh tokens; a request that loses the race to spend the token against a concurrent one is <c>invalid_request</c>
/// and revokes nothing.</para>
/// <para>With <c>oauth2.grant.refresh_token.rotation_grace_period</c> (Hydra's <c>gracefulRefreshRotation</c>) a used
/// refresh token may be used again until that long after its first use, at most <c>rotation_grace_reuse_count</c> times
/// in all when that is set: each use issues new tokens, revokes only the access token issued with the presented refresh
/// token, and leaves the tokens of earlier uses valid. Past the period or the count it is a reuse.</para>
/// </summary>
public sealed class RefreshTokenGrant(OAuth2TokenService tokens, LoginConsentService flows, FlowTokenIssuer issuer, OAuth2Settings settings)
{
    public async Task<JsonObject> ExchangeAsync(OAuth2ClientService.Loaded client, IFormCollection form, CancellationToken ct)
    {
        if (!client.Document.GrantTypes.Contains("refresh_token"))
            throw TokenEndpoints.UnauthorizedClient("The OAuth 2.0 Client is not allowed to use authorization grant 'refresh_token'.");
        var token = form["refresh_token"].ToString();
        if (token.Length == 0) throw OAuth2Error.InvalidRequest("The request is missing the 'refresh_token' parameter.");
        var row = await tokens.FindAsync(token, ct);
        // fosite flow_refresh.go HandleTokenEndpointRequest: the hint, and "can not be found" as the debug text.
        if (row is null || row.Kind != OAuth2TokenKinds.RefreshToken) throw OAuth2Error.InvalidGrant("The refresh token is malformed or not valid.").WithDebug("The refresh token can not be found.");
        // fosite's order: reuse, expiry, then the client — a spent token presented by another client is still a reuse and
        // revokes the chain.
        if (!row.Active && !tokens.WithinGrace(row))
        {
            // fosite handleRefreshTokenReuse: the presented token and every access and refresh token of the grant.
            await tokens.RevokeRequestAsync(row.RequestId, ct);
            // fosite's hint, and its debug text, which Hydra sends only with oauth2.expose_internal_errors.
            throw OAuth2Error.InvalidGrant("The refresh token was already used.").WithDebug("Refresh token re-use was detected. All related tokens have been revoked.");
        }
        if (tokens.IsExpired(row)) throw OAuth2Error.InvalidGrant("The refresh token expired.");
        if (row.ClientId != client.ClientId)
            throw OAuth2Error.InvalidGrant("The OAuth 2.0 Client ID from this request does not match the ID during the initial token issuance.");

        // fosite grants the refresh exactly what was granted before (a 'scope' parameter is ignored), as long as the client
        // may still have it: each granted scope against the client's current scopes, the granted audience against its
        // current audience (DefaultAudienceMatchingStrategy).
        var scope = ScopeStrategy.Split(row.Scope);
        var allowed = ScopeStrategy.Split(client.Document.Scope);
        foreach (var s in scope)
        {
            if (!settings.AllowsScope(allowed, s)) throw OAuth2Error.InvalidScope($"The OAuth 2.0 Client is not allowed to request scope '{s}'.");
        }
        var audience = System.Text.Json.JsonSerializer.Deserialize<string[]>(row.Audience) ?? [];
        foreach (var a in audience)
        {
            if (!AudienceMatches(client.Document.Audience, a)) throw OAuth2Error.InvalidRequest($"Requested audience '{a}' has not been whitelisted by the OAuth 2.0 Client.");
        }
        var flow = await flows.FindFlowAsync(row.RequestId, ct) ?? throw OAuth2Error.InvalidGrant("The refresh token is malformed or not valid.");
        // The refresh token's own claims (a hook's, kept from the last issue), else the consent's; the hooks run before it is
        // spent. The requested scopes are the original request's (fosite SetRequestedScopes(originalRequest…)).
        var claims = await issuer.RunHooksAsync(client, flow, "refresh_token", AuthorizeRequest.Load(flow.Request).Scope,
            scope, audience, form, SessionClaims.FromStored(row.Extra), ct);

        if (tokens.GracefulRotation)
        {
            // The use is counted in the same statement that checks the period and the count, so concurrent uses of one
            // token never exceed rotation_grace_reuse_count. Losing that check is Hydra's ErrNotFound from the rotation
            // (handleRefreshTokenEndpointStorageError), not a reuse: nothing is revoked.
            if (!await tokens.UseWithinGraceAsync(row, ct))
                throw OAuth2Error.InvalidRequest("Failed to refresh token. Please retry the request.");
            // Only the access token issued with this refresh token; a token from before that link was kept revokes all of
            // the grant's, as Hydra falls back to the request id.
            if (row.AccessTokenPk is { } paired) await tokens.RevokeAccessTokenAsync(paired, ct);
            else await tokens.RevokeRequestAsync(row.RequestId, OAuth2TokenKinds.AccessToken, ct);
        }
        else
        {
            // Another request that read the token at the same time spent it first: as fosite
            // (handleRefreshTokenEndpointStorageError), that is a concurrent use, answered without revoking the chain, so the
            // winner's new tokens stay valid. A request that reads the token after it was spent is the reuse above.
            if (!await tokens.SpendAsync(row, ct))
                throw OAuth2Error.InvalidRequest("Failed to refresh token because of multiple concurrent requests using the same token. Please retry the request.");
            // strictRefreshRotation: one chain per grant, so the grant's access tokens and any other refresh token of it
            // (left from a time with a grace period) end here.
            await tokens.RevokeRequestAsync(row.RequestId, OAuth2TokenKinds.AccessToken, ct);
            await tokens.RevokeRequestAsync(row.RequestId, OAuth2TokenKinds.RefreshToken, ct);
        }
        return await issuer.IssueAsync(client, flow, "refresh_token", scope, audience, ct, claims);
    }

    /// <summary>
    /// fosite's <c>DefaultAudienceMatchingStrategy</c> for one audience: an allowed one with the same scheme and host (as Go's
    /// <c>url.Parse</c> reads them) whose path equals it, or is a path prefix of it ending at a <c>/</c>.
    /// </summary>
    internal static bool AudienceMatches(IEnumerable<string> allowed, string audience)
    {
        var (scheme, host, path) = UrlParts(audience);
        foreach (var h in allowed)
        {
            var (hScheme, hHost, hPath) = UrlParts(h);
            if (scheme != hScheme || host != hHost) continue;
            var allowedPath = hPath.TrimEnd('/');
            if (path == hPath || path == allowedPath
                || (path.Length > allowedPath.Length && path[..(allowedPath.Length + 1)].TrimEnd('/') + "/" == allowedPath + "/")) return true;
        }
        return false;
    }

    private static (string Scheme, string Host, string Path) UrlParts(string raw)
    {
        var scheme = GoUrl.Scheme(raw);
        var rest = raw.Split('#', 2)[0].Split('?', 2)[0];
        if (scheme.Length > 0) rest = rest[(scheme.Length + 1)..];
        if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            var slash = rest.IndexOf('/', 2);
            rest = slash >= 0 ? rest[slash..] : "";
        }
        return (scheme, GoUrl.Host(raw), rest);
    }
}
