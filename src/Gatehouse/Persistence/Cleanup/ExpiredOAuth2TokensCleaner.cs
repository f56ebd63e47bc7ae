using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Cleanup;

/// <summary>
/// OAuth2 access and refresh tokens past <c>expires_at</c> (as <c>hydra janitor --tokens</c>): introspection already
/// answers <c>{"active":false}</c> for them and no grant accepts them. Revoked tokens that have not expired stay.
/// </summary>
public sealed class ExpiredOAuth2TokensCleaner : IExpiredDataCleaner
{
    public string Name => "expired OAuth2 tokens";

    public Task<int> DeleteBatchAsync(GatehouseDbContext db, DateTime cutoff, int batchSize, CancellationToken ct) =>
        db.OAuth2Tokens.Where(t => db.OAuth2Tokens.Where(x => x.ExpiresAt <= cutoff).OrderBy(x => x.ExpiresAt).Take(batchSize).Select(x => x.Pk).Contains(t.Pk))
            .ExecuteDeleteAsync(ct);
}
