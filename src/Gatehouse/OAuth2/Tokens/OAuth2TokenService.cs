using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.OAuth2.Protocol;

namespace Gatehouse.OAuth2.Tokens;

/// <summary>Issues, introspects and revokes opaque tokens and authorization codes.</summary>
public sealed class OAuth2TokenService(IOAuth2TokenStore store, TimeProvider time, OAuth2Settings settings)
{
    public sealed record Issued(string Token, OAuth2Token Row);

    public async Task<Issued> IssueAsync(string kind, Guid requestId, string clientId, string subject, IEnumerable<string> scope,
        IEnumerable<string> audience, JsonObject? extra, TimeSpan lifespan, CancellationToken ct)
    {
        var issued = New(kind, requestId, clientId, subject, scope, audience, extra, lifespan);
        await store.AddAsync([issued.Row], ct);
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
            ExpiresAt = now + lifespan,
        };
        return new Issued(token, row);
    }

    /// <summary>The stored row of a token string, active or not (constant-time checked), or null.</summary>
    public async Task<OAuth2Token?> FindAsync(string token, CancellationToken ct)
    {
        if (!OpaqueToken.LooksValid(token)) return null;
        var hash = OpaqueToken.Hash(token);
        var row = await store.FindAsync(hash, ct);
        return row is not null && CryptographicOperations.FixedTimeEquals(row.Signature, hash) ? row : null;
    }

    /// <summary>Spends a code or refresh token: true for exactly one caller.</summary>
    public Task<bool> SpendAsync(OAuth2Token row, CancellationToken ct) => store.DeactivateAsync(row.Signature, ct);

    public Task AddAsync(IReadOnlyList<OAuth2Token> rows, CancellationToken ct) => store.AddAsync(rows, ct);

    public bool IsExpired(OAuth2Token row) => row.ExpiresAt <= Now();

    /// <summary>The stored row of an active, unexpired token, or null (unknown, revoked, used, expired).</summary>
    public async Task<OAuth2Token?> FindActiveAsync(string token, CancellationToken ct)
    {
        var row = await FindAsync(token, ct);
        return row is { Active: true } && row.ExpiresAt > Now() && row.Kind != OAuth2TokenKinds.AuthorizationCode ? row : null;
    }

    /// <summary>Hydra's <c>introspectOAuth2Token</c> answer: <c>{"active":false}</c> for anything not active or out of scope.</summary>
    public async Task<JsonObject> IntrospectAsync(string token, string? scope, CancellationToken ct)
    {
        var row = await FindActiveAsync(token, ct);
        if (row is null) return new JsonObject { ["active"] = false };
        var granted = ScopeStrategy.Split(row.Scope);
        if (ScopeStrategy.Split(scope).Any(s => !ScopeStrategy.Allows(granted, s))) return new JsonObject { ["active"] = false };
        var o = new JsonObject
        {
            ["active"] = true,
            ["scope"] = row.Scope,
            ["client_id"] = row.ClientId,
            ["sub"] = row.Subject,
            ["exp"] = Unix(row.ExpiresAt),
            ["iat"] = Unix(row.IssuedAt),
            ["nbf"] = Unix(row.IssuedAt),
            ["aud"] = JsonNode.Parse(row.Audience),
            ["iss"] = settings.Issuer,
            ["token_type"] = "Bearer",
            ["token_use"] = row.Kind,
        };
        if (row.Scope.Length == 0) o.Remove("scope");
        if (JsonNode.Parse(row.Extra) is JsonObject { Count: > 0 } ext) o["ext"] = ext;
        return o;
    }

    /// <summary>
    /// RFC 7009 revocation by the client the token was issued to: the token's whole grant (access and refresh tokens of the
    /// same request) is revoked. Unknown tokens are not an error.
    /// </summary>
    public async Task RevokeAsync(string token, string clientId, CancellationToken ct)
    {
        var row = await FindAsync(token, ct);
        if (row is null || row.Kind == OAuth2TokenKinds.AuthorizationCode) return;
        if (row.ClientId != clientId)
            throw new OAuth2Error(400, "unauthorized_client", "The client is not authorized to request a token using this method.",
                "The OAuth 2.0 Client is not allowed to revoke this token.");
        await RevokeRequestAsync(row.RequestId, ct);
    }

    public Task<int> RevokeRequestAsync(Guid requestId, CancellationToken ct) => store.RevokeRequestAsync(requestId, null, ct);

    /// <summary>Deactivates the grant's tokens of one kind (a refresh revokes the access tokens issued before it).</summary>
    public Task<int> RevokeRequestAsync(Guid requestId, string kind, CancellationToken ct) => store.RevokeRequestAsync(requestId, kind, ct);

    /// <summary><c>deleteOAuth2Token</c>: every token of the client.</summary>
    public Task<int> DeleteForClientAsync(string clientId, CancellationToken ct) => store.DeleteForClientAsync(clientId, ct);

    private DateTime Now()
    {
        var now = time.GetUtcNow().UtcDateTime;
        return new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
    }

    private static long Unix(DateTime t) => new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)).ToUnixTimeSeconds();
}
