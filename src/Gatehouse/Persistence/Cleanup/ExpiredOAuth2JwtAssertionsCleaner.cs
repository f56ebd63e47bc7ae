using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Cleanup;

/// <summary>
/// Used JWT ids (<c>oauth2_jwt_assertions</c>) whose JWT expired: such a JWT is refused for its expiry, so its jti no
/// longer needs blocking (Hydra's <c>hydra_oauth2_jti_blacklist</c>, which Hydra trims on every insert).
/// </summary>
public sealed class ExpiredOAuth2JwtAssertionsCleaner : IExpiredDataCleaner
{
    public string Name => "expired OAuth2 JWT assertion ids";

    public Task<int> DeleteBatchAsync(GatehouseDbContext db, DateTime cutoff, int batchSize, CancellationToken ct) =>
        db.OAuth2JwtAssertions.Where(a => db.OAuth2JwtAssertions.Where(x => x.ExpiresAt <= cutoff).OrderBy(x => x.ExpiresAt).Take(batchSize).Select(x => x.Pk).Contains(a.Pk))
            .ExecuteDeleteAsync(ct);
}
