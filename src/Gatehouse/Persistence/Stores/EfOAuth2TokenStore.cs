using Gatehouse.OAuth2.Tokens;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Stores;

/// <summary><see cref="IOAuth2TokenStore"/> on <c>oauth2_tokens</c>.</summary>
public sealed class EfOAuth2TokenStore(GatehouseDbContext db) : IOAuth2TokenStore
{
    public async Task AddAsync(IReadOnlyList<OAuth2Token> tokens, CancellationToken ct)
    {
        foreach (var t in tokens) t.Nid = db.Nid;
        db.OAuth2Tokens.AddRange(tokens);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        finally
        {
            db.ChangeTracker.Clear();
        }
    }

    public Task<OAuth2Token?> FindAsync(byte[] signature, CancellationToken ct) =>
        db.OAuth2Tokens.AsNoTracking().FirstOrDefaultAsync(t => t.Signature == signature, ct);

    public async Task<bool> DeactivateAsync(byte[] signature, CancellationToken ct) =>
        await db.OAuth2Tokens.Where(t => t.Signature == signature && t.Active).ExecuteUpdateAsync(s => s.SetProperty(t => t.Active, false), ct) == 1;

    public Task<int> RevokeRequestAsync(Guid requestId, string? kind, CancellationToken ct) =>
        db.OAuth2Tokens.Where(t => t.RequestId == requestId && t.Active && (kind == null || t.Kind == kind)).ExecuteUpdateAsync(s => s.SetProperty(t => t.Active, false), ct);

    public Task<int> DeleteForClientAsync(string clientId, CancellationToken ct) =>
        db.OAuth2Tokens.Where(t => t.ClientId == clientId).ExecuteDeleteAsync(ct);
}
