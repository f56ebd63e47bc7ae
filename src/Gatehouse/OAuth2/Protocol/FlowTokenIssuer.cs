using System.Text.Json.Nodes;
using Gatehouse.OAuth2.Clients;
using Gatehouse.OAuth2.Flows;
using Gatehouse.OAuth2.Tokens;

namespace Gatehouse.OAuth2.Protocol;

/// <summary>
/// The token answer of a login/consent grant, for the code exchange and each refresh: an access token with the
/// consent's <c>session.access_token</c> as extra claims; a refresh token when <c>offline</c> or <c>offline_access</c>
/// was granted and the client may use the <c>refresh_token</c> grant (fosite's rule); an ID token when <c>openid</c> was
/// granted. All carry the flow's id as request id, so the grant is revoked as one chain. Lifespans are the client's
/// <c>{grant}_grant_*_lifespan</c>, else Hydra's <c>ttl.*</c>; a negative one issues its token already expired (fosite
/// adds it to now as it is), a negative ID-token one fails the request (<see cref="IdTokens.EffectiveLifespan"/>).
/// With <paramref name="claims"/> (a token hook ran, or a refresh token kept hook-set claims) the tokens carry those
/// custom claims instead of the consent's, and the refresh token keeps them for the next refresh (<see cref="SessionClaims"/>).
/// </summary>
public sealed class FlowTokenIssuer(OAuth2TokenService tokens, IdTokens idTokens, OAuth2Settings settings, TimeProvider time, TokenHook hook)
{
    /// <summary>
    /// The token hooks for a grant whose request was validated but nothing spent yet (so a refused hook leaves the code,
    /// refresh token or device code usable, as in Hydra): the claims to issue with, starting from <paramref name="stored"/>
    /// (a refresh token's) or the consent's. Without hooks, <paramref name="stored"/> as it is.
    /// </summary>
    public async Task<SessionClaims?> RunHooksAsync(OAuth2ClientService.Loaded client, OAuth2Flow flow, string grant, IReadOnlyList<string> requested,
        string[] scope, string[] audience, IFormCollection form, SessionClaims? stored, CancellationToken ct)
    {
        if (!hook.Configured) return stored;
        var doc = client.Document;
        var accessLifespan = doc.Lifespan($"{grant}_grant_access_token_lifespan") ?? settings.AccessTokenLifespan;
        TimeSpan? refreshLifespan = (scope.Contains("offline") || scope.Contains("offline_access")) && doc.GrantTypes.Contains("refresh_token")
            ? doc.Lifespan($"{grant}_grant_refresh_token_lifespan") ?? settings.RefreshTokenLifespan
            : null;
        return await hook.RunForFlowAsync(new TokenHookRequest(client.ClientId, requested, scope, audience, form), flow, stored ?? SessionClaims.FromFlow(flow),
            doc, accessLifespan, refreshLifespan, ct);
    }

    public Task<JsonObject> IssueAsync(OAuth2ClientService.Loaded client, OAuth2Flow flow, string grant, string[] scope, string[] audience, CancellationToken ct, SessionClaims? claims = null) =>
        IssueAsync(client, flow, grant, scope, audience, null, ct, claims);

    /// <param name="code">The code exchanged, when its authorization request was a hybrid one: the ID token carries its
    /// <c>c_hash</c>, as fosite's does (the hybrid handler stores the ID-token claims with the code's hash, and
    /// <c>flow_explicit_token.go</c> signs those).</param>
    public async Task<JsonObject> IssueAsync(OAuth2ClientService.Loaded client, OAuth2Flow flow, string grant, string[] scope, string[] audience, string? code, CancellationToken ct, SessionClaims? claims = null)
    {
        var doc = client.Document;
        var request = AuthorizeRequest.Load(flow.Request);
        // Checked before anything is stored: a negative ID-token lifespan is fosite's server_error, and no tokens are kept.
        TimeSpan? idLifespan = scope.Contains("openid") ? IdTokenLifespan(doc, grant) : null;
        var access = await NewAccessTokenAsync(client, flow, grant, scope, audience, ct, claims);
        List<OAuth2Token> rows = [access.Row];
        OAuth2TokenService.Issued? refresh = null;
        if ((scope.Contains("offline") || scope.Contains("offline_access")) && doc.GrantTypes.Contains("refresh_token"))
        {
            var refreshLifespan = doc.Lifespan($"{grant}_grant_refresh_token_lifespan") ?? settings.RefreshTokenLifespan;
            refresh = tokens.New(OAuth2TokenKinds.RefreshToken, flow.Pk, client.ClientId, flow.Subject, scope, audience, null, refreshLifespan);
            if (claims is not null) refresh.Row.Extra = claims.ToStored();
            refresh.Row.AccessTokenPk = access.Row.Pk;
            rows.Add(refresh.Row);
        }
        await tokens.AddAsync(rows, ct);

        var response = new JsonObject
        {
            ["access_token"] = access.Token,
            ["expires_in"] = ExpiresIn(access),
        };
        if (idLifespan is { } idTokenLifespan)
            response["id_token"] = await idTokens.IssueAsync(flow, request, client.ClientId, access.Token, time.GetUtcNow().UtcDateTime, idTokenLifespan, code, ct, claims is null ? null : claims.IdToken ?? [],
                refresh: grant == "refresh_token");
        if (refresh is not null) response["refresh_token"] = refresh.Token;
        response["scope"] = string.Join(' ', scope);
        response["token_type"] = "bearer";
        return response;
    }

    /// <summary>
    /// A new access token of the grant (not stored yet), with the consent's <c>session.access_token</c> claims (or, with
    /// <paramref name="claims"/>, a token hook's) and the client's <c>{grant}_grant_access_token_lifespan</c>, else
    /// <c>ttl.access_token</c> (fosite <c>GetEffectiveLifespan</c>). With <paramref name="claims"/> the row also keeps the
    /// hook's ID-token claims: fosite stores the (hook-modified) session with the access token, and Hydra's <c>/userinfo</c>
    /// answers from them.
    /// </summary>
    public async Task<OAuth2TokenService.Issued> NewAccessTokenAsync(OAuth2ClientService.Loaded client, OAuth2Flow flow, string grant, string[] scope, string[] audience,
        CancellationToken ct, SessionClaims? claims = null)
    {
        var extra = claims is not null ? claims.AccessToken : (JsonNode.Parse(flow.Consent) as JsonObject)?["session"]?["access_token"] as JsonObject;
        var lifespan = client.Document.Lifespan($"{grant}_grant_access_token_lifespan") ?? settings.AccessTokenLifespan;
        var access = await tokens.NewAccessTokenAsync(client.Document, flow.Pk, client.ClientId, flow.Subject, scope, audience, (JsonObject?)extra?.DeepClone(), lifespan, ct);
        if (claims is not null) access.Row.IdTokenExtra = (claims.IdToken ?? []).ToJsonString();
        return access;
    }

    /// <summary>The ID-token lifespan of the grant (<c>{grant}_grant_id_token_lifespan</c>, else <c>ttl.id_token</c>), as fosite signs with it.</summary>
    public TimeSpan IdTokenLifespan(OAuth2ClientDocument client, string grant) =>
        IdTokens.EffectiveLifespan(client.Lifespan($"{grant}_grant_id_token_lifespan") ?? settings.IdTokenLifespan);

    public static long ExpiresIn(OAuth2TokenService.Issued token) => (long)Math.Round((token.Row.ExpiresAt - token.Row.IssuedAt).TotalSeconds);
}
