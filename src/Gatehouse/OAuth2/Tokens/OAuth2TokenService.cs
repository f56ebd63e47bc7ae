using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.OAuth2.Protocol;
using Gatehouse.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.OAuth2.Tokens;

/// <summary>Issues, introspects and revokes opaque tokens.</summary>
public sealed class OAuth2TokenService(GatehouseDbContext db, TimeProvider time, OAuth2Settings settings)
{
    public sealed record Issued(string Token, OAuth2Token Row);

    public async Task<Issued> IssueAsync(string kind, Guid requestId, string clientId, string subject, IEnumerable<string> scope,
        IEnumerable<string> audience, JsonObject? extra, TimeSpan lifespan, CancellationToken ct)
    {
        var token = OpaqueToken.New(kind == OAuth2TokenKinds.RefreshToken ? OpaqueToken.RefreshPrefix : OpaqueToken.AccessPrefix);
        var now = Now();
        var row = new OAuth2Token
        {
            Pk = Guid.CreateVersion7(),
            Nid = db.Nid,
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
        db.OAuth2Tokens.Add(row);
        await db.SaveChangesAsync(ct);
        return new Issued(token, row);
    }

    /// <summary>The stored row of an active, unexpired token, or null (unknown, revoked, used, expired).</summary>
    public async Task<OAuth2Token?> FindActiveAsync(string token, CancellationToken ct)
    {
        if (!OpaqueToken.LooksValid(token)) return null;
        var hash = OpaqueToken.Hash(token);
        var row = await db.OAuth2Tokens.AsNoTracking().FirstOrDefaultAsync(t => t.Signature == hash, ct);
        if (row is null || !CryptographicOperations.FixedTimeEquals(row.Signature, hash)) return null;
        return row.Active && row.ExpiresAt > Now() ? row : null;
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
        if (!OpaqueToken.LooksValid(token)) return;
        var hash = OpaqueToken.Hash(token);
        var row = await db.OAuth2Tokens.AsNoTracking().FirstOrDefaultAsync(t => t.Signature == hash, ct);
        if (row is null) return;
        if (row.ClientId != clientId)
            throw new OAuth2Error(400, "unauthorized_client", "The client is not authorized to request a token using this method.",
                "The OAuth 2.0 Client is not allowed to revoke this token.");
        await RevokeRequestAsync(row.RequestId, ct);
    }

    public Task<int> RevokeRequestAsync(Guid requestId, CancellationToken ct) =>
        db.OAuth2Tokens.Where(t => t.RequestId == requestId && t.Active).ExecuteUpdateAsync(s => s.SetProperty(t => t.Active, false), ct);

    /// <summary><c>deleteOAuth2Token</c>: every token of the client.</summary>
    public Task<int> DeleteForClientAsync(string clientId, CancellationToken ct) =>
        db.OAuth2Tokens.Where(t => t.ClientId == clientId).ExecuteDeleteAsync(ct);

    private DateTime Now()
    {
        var now = time.GetUtcNow().UtcDateTime;
        return new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
    }

    private static long Unix(DateTime t) => new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)).ToUnixTimeSeconds();
}
