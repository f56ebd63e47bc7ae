using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Http.Json;
using Gatehouse.OAuth2.Clients;
using Gatehouse.OAuth2.Keys;
using Gatehouse.OAuth2.Protocol;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Gatehouse.OAuth2.Tokens;

/// <summary>Issues, introspects and revokes tokens (opaque, or JWT access tokens) and authorization codes.</summary>
public sealed class OAuth2TokenService(IOAuth2TokenStore store, TimeProvider time, OAuth2Settings settings, JsonWebKeyManager keys, OAuth2SessionData sessionData)
{
    private static readonly JsonWebTokenHandler JwtHandler = new();

    public sealed record Issued(string Token, OAuth2Token Row);

    /// <summary>
    /// The expiry of a refresh token that never expires: fosite sets a refresh token's expiry only when its lifespan is
    /// not negative (<c>if rtLifespan &gt; -1</c> in <c>flow_authorize_code_token.go</c>, <c>flow_refresh.go</c>,
    /// <c>rfc8628/token_handler.go</c>), and a refresh token without one is valid for ever; a client's negative
    /// <c>*_grant_refresh_token_lifespan</c> (which Hydra stores) gives such tokens.
    /// </summary>
    public static readonly DateTime NeverExpires = new(9999, 12, 31, 0, 0, 0, DateTimeKind.Utc);

    public async Task<Issued> IssueAsync(string kind, Guid requestId, string clientId, string subject, IEnumerable<string> scope,
        IEnumerable<string> audience, JsonObject? extra, TimeSpan lifespan, CancellationToken ct)
    {
        var issued = New(kind, requestId, clientId, subject, scope, audience, extra, lifespan);
        await AddAsync([issued.Row], ct);
        return issued;
    }

    /// <summary>A new token of <paramref name="kind"/> (not stored yet: <see cref="IOAuth2TokenStore.AddAsync"/> stores a grant's tokens together).</summary>
    public Issued New(string kind, Guid requestId, string clientId, string subject, IEnumerable<string> scope,
        IEnumerable<string> audience, JsonObject? extra, TimeSpan lifespan)
    {
        var token = OpaqueToken.New(kind switch
        {
            OAuth2TokenKinds.RefreshToken => OpaqueToken.RefreshPrefix,
            OAuth2TokenKinds.AuthorizationCode => OpaqueToken.CodePrefix,
            _ => OpaqueToken.AccessPrefix,
        });
        var now = Now();
        var row = new OAuth2Token
        {
            Pk = Guid.CreateVersion7(),
            Signature = OpaqueToken.Hash(token),
            Kind = kind,
            RequestId = requestId,
            ClientId = clientId,
            Subject = subject,
            Scope = string.Join(' ', scope),
            Audience = JsonSerializer.Serialize(audience.ToArray()),
            Extra = extra?.ToJsonString() ?? "{}",
            IssuedAt = now,
            ExpiresAt = kind == OAuth2TokenKinds.RefreshToken && lifespan < TimeSpan.Zero ? NeverExpires : now + lifespan,
        };
        return new Issued(token, row);
    }

    /// <summary>
    /// A new access token (not stored yet) in the client's format: its <c>access_token_strategy</c>, else Hydra's
    /// <c>strategies.access_token</c>. JWT access tokens are stored like opaque ones (by the hash of the whole string), so
    /// introspection and revocation treat both alike, as Hydra does.
    /// </summary>
    public async Task<Issued> NewAccessTokenAsync(OAuth2ClientDocument client, Guid requestId, string clientId, string subject, IReadOnlyCollection<string> scope,
        IReadOnlyCollection<string> audience, JsonObject? extra, TimeSpan lifespan, CancellationToken ct)
    {
        var opaque = New(OAuth2TokenKinds.AccessToken, requestId, clientId, subject, scope, audience, extra, lifespan);
        var strategy = client.AccessTokenStrategy is { Length: > 0 } own ? own : settings.AccessTokenStrategy;
        if (strategy != "jwt") return opaque;
        var signing = await keys.GetSigningKeyAsync(JsonWebKeyManager.AccessTokenSet, ct);
        var jwt = JwtHandler.CreateToken(JwtAccessTokenClaims(opaque.Row, extra ?? []).ToJsonString(), signing.Credentials);
        opaque.Row.Signature = OpaqueToken.Hash(jwt);
        return new Issued(jwt, opaque.Row);
    }

    /// <summary>
    /// Hydra's JWT access-token claims (<c>oauth2/session.go</c> <c>GetJWTClaims</c>, fosite <c>JWTClaims.ToMap</c>), in the
    /// order Go writes a map (by name): <c>aud</c> (always a list), <c>client_id</c>, <c>exp</c>, <c>ext</c> (the custom claims,
    /// unless <c>oauth2.mirror_top_level_claims</c> is off), <c>iat</c>, <c>iss</c>, <c>jti</c>, <c>nbf</c> (unless
    /// <c>oauth2.exclude_not_before_claim</c>), <c>scp</c> and/or <c>scope</c> (<c>strategies.jwt.scope_claim</c>), <c>sub</c>,
    /// and the custom claims named in <c>oauth2.allowed_top_level_claims</c> (never over a reserved one).
    /// </summary>
    private JsonObject JwtAccessTokenClaims(OAuth2Token row, JsonObject extra)
    {
        string[] reserved = ["iss", "sub", "aud", "exp", "nbf", "iat", "jti", "client_id", "scp", "ext"];
        var scope = ScopeStrategy.Split(row.Scope);
        var claims = new SortedDictionary<string, JsonNode?>(StringComparer.Ordinal)
        {
            ["aud"] = JsonNode.Parse(row.Audience),
            ["client_id"] = row.ClientId,
            ["exp"] = Unix(row.ExpiresAt),
            ["iat"] = Unix(row.IssuedAt),
            ["iss"] = settings.Issuer,
            ["jti"] = Guid.NewGuid().ToString(),
            ["sub"] = row.Subject,
        };
        if (!settings.ExcludeNotBeforeClaim) claims["nbf"] = Unix(row.IssuedAt);
        if (settings.MirrorTopLevelClaims) claims["ext"] = extra.DeepClone();
        if (settings.JwtScopeClaim is "list" or "both") claims["scp"] = new JsonArray([.. scope.Select(s => (JsonNode)s)]);
        if (settings.JwtScopeClaim is "string" or "both") claims["scope"] = string.Join(' ', scope);
        foreach (var name in settings.AllowedTopLevelClaims)
        {
            if (!reserved.Contains(name) && extra.TryGetPropertyValue(name, out var value)) claims[name] = value?.DeepClone();
        }
        var o = new JsonObject();
        foreach (var (k, v) in claims) o[k] = v;
        return o;
    }

    /// <summary>The stored row of a token string, active or not (constant-time checked), or null.</summary>
    public async Task<OAuth2Token?> FindAsync(string token, CancellationToken ct)
    {
        if (!OpaqueToken.LooksValid(token) && !LooksLikeJwt(token)) return null;
        var hash = OpaqueToken.Hash(token);
        var row = await store.FindAsync(hash, ct);
        return row is not null && CryptographicOperations.FixedTimeEquals(row.Signature, hash) ? sessionData.Opened(row) : null;
    }

    /// <summary>Spends a code or refresh token: true for exactly one caller.</summary>
    public Task<bool> SpendAsync(OAuth2Token row, CancellationToken ct) => store.DeactivateAsync(row.Signature, ct);

    /// <summary>Stores a grant's tokens together, their claims sealed (<c>oauth2.session.encrypt_at_rest</c>).</summary>
    public Task AddAsync(IReadOnlyList<OAuth2Token> rows, CancellationToken ct) => sessionData.AddSealedAsync(rows, sealedRows => store.AddAsync(sealedRows, ct));

    /// <summary>Whether refresh tokens rotate gracefully (<c>oauth2.grant.refresh_token.rotation_grace_period</c> above zero).</summary>
    public bool GracefulRotation => settings.RefreshTokenRotationGracePeriod > TimeSpan.Zero;

    /// <summary>
    /// Whether a used refresh token may be used again (Hydra's <c>GetRefreshTokenSession</c>): a grace period is set, the
    /// token's first use lies less than that period ago, and it was used fewer than
    /// <c>rotation_grace_reuse_count</c> times (when that is set). A revoked token has no first use any more.
    /// </summary>
    public bool WithinGrace(OAuth2Token row) => WithinGrace(row, settings, Now());

    internal static bool WithinGrace(OAuth2Token row, OAuth2Settings settings, DateTime now) =>
        settings.RefreshTokenRotationGracePeriod > TimeSpan.Zero && row.Kind == OAuth2TokenKinds.RefreshToken
        && row.FirstUsedAt is { } first && first + settings.RefreshTokenRotationGracePeriod > now
        && (settings.RefreshTokenRotationGraceReuseCount == 0 || row.UsedTimes < settings.RefreshTokenRotationGraceReuseCount);

    /// <summary>Uses a refresh token under the grace period, atomically (see <see cref="IOAuth2TokenStore.UseWithinGraceAsync"/>).</summary>
    public Task<bool> UseWithinGraceAsync(OAuth2Token row, CancellationToken ct) =>
        store.UseWithinGraceAsync(row.Signature, Now(), settings.RefreshTokenRotationGracePeriod, settings.RefreshTokenRotationGraceReuseCount, ct);

    /// <summary>Deactivates the access token issued with a refresh token.</summary>
    public Task<int> RevokeAccessTokenAsync(Guid pk, CancellationToken ct) => store.RevokeAccessTokenAsync(pk, ct);

    public bool IsExpired(OAuth2Token row) => row.ExpiresAt <= Now();

    /// <summary>
    /// The stored row of an active, unexpired token, or null (unknown, revoked, used, expired). A used refresh token within
    /// its grace period is active, as in Hydra, whose storage hands it out as active then.
    /// </summary>
    public async Task<OAuth2Token?> FindActiveAsync(string token, CancellationToken ct)
    {
        var row = await FindAsync(token, ct);
        var now = Now();
        return row is not null && (row.Active || WithinGrace(row, settings, now)) && row.ExpiresAt > now && row.Kind != OAuth2TokenKinds.AuthorizationCode ? row : null;
    }

    /// <summary>
    /// RFC 7009 revocation by the client the token was issued to: the token's whole grant (access and refresh tokens of the
    /// same request) is revoked — not an unused authorization code of that request (a hybrid flow's, issued with a
    /// front-channel access token), which fosite keeps apart (<c>handler/oauth2/revocation.go</c> revokes the request's
    /// refresh and access tokens only). Unknown tokens are not an error.
    /// </summary>
    public async Task RevokeAsync(string token, string clientId, CancellationToken ct)
    {
        var row = await FindAsync(token, ct);
        if (row is null || row.Kind == OAuth2TokenKinds.AuthorizationCode) return;
        if (row.ClientId != clientId)
            throw new OAuth2Error(400, "unauthorized_client", "The client is not authorized to request a token using this method.",
                "The OAuth 2.0 Client is not allowed to revoke this token.");
        await RevokeRequestAsync(row.RequestId, OAuth2TokenKinds.RefreshToken, ct);
        await RevokeRequestAsync(row.RequestId, OAuth2TokenKinds.AccessToken, ct);
    }

    public Task<int> RevokeRequestAsync(Guid requestId, CancellationToken ct) => store.RevokeRequestAsync(requestId, null, ct);

    /// <summary>Deactivates the grant's tokens of one kind (a refresh revokes the access tokens issued before it).</summary>
    public Task<int> RevokeRequestAsync(Guid requestId, string kind, CancellationToken ct) => store.RevokeRequestAsync(requestId, kind, ct);

    /// <summary><c>deleteOAuth2Token</c>: every token of the client.</summary>
    public Task<int> DeleteForClientAsync(string clientId, CancellationToken ct) => store.DeleteForClientAsync(clientId, ct);

    /// <summary>Cheap shape check for a JWT access token before the lookup by its hash.</summary>
    internal static bool LooksLikeJwt(string token) => token.Length is > 20 and < 16384 && token.StartsWith("ey", StringComparison.Ordinal) && token.Count(c => c == '.') == 2;

    private DateTime Now() => WholeSeconds(time);

    /// <summary>The clock's time in whole seconds (tokens are stored and compared at second precision).</summary>
    internal static DateTime WholeSeconds(TimeProvider time)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
    }

    private static long Unix(DateTime t) => new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)).ToUnixTimeSeconds();
}
