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

    // Read by every introspection, token exchange, refresh and revocation: compiled, and prepared once on SQLite.
    public Task<OAuth2Token?> FindAsync(byte[] signature, CancellationToken ct) => BySignature.For(db)(db, signature, ct);

    private static readonly PerProvider<Func<GatehouseDbContext, byte[], CancellationToken, Task<OAuth2Token?>>> BySignature = new(() =>
        EF.CompileAsyncQuery((GatehouseDbContext db, byte[] signature, CancellationToken ct) =>
            db.OAuth2Tokens.AsNoTracking().TagWith(SqlitePreparedReads.Tag).FirstOrDefault(t => t.Signature == signature)));

    public async Task<bool> DeactivateAsync(byte[] signature, CancellationToken ct) =>
        await db.OAuth2Tokens.Where(t => t.Signature == signature && t.Active).ExecuteUpdateAsync(s => s.SetProperty(t => t.Active, false), ct) == 1;

    public Task<int> RevokeRequestAsync(Guid requestId, string? kind, CancellationToken ct) =>
        db.OAuth2Tokens.Where(t => t.RequestId == requestId && t.Active && (kind == null || t.Kind == kind)).ExecuteUpdateAsync(s => s.SetProperty(t => t.Active, false), ct);

    public Task<int> DeleteForClientAsync(string clientId, CancellationToken ct) =>
        db.OAuth2Tokens.Where(t => t.ClientId == clientId).ExecuteDeleteAsync(ct);
}
