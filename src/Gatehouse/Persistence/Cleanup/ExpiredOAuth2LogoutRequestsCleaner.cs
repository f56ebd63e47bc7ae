using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Cleanup;

/// <summary>
/// OAuth2 logout requests past <c>expires_at</c> (<c>oauth2_logout_requests</c>, as <c>hydra janitor --requests</c> cleans
/// Hydra's logout requests): their verifiers are refused anyway.
/// </summary>
public sealed class ExpiredOAuth2LogoutRequestsCleaner : IExpiredDataCleaner
{
    public string Name => "expired OAuth2 logout requests";

    public Task<int> DeleteBatchAsync(GatehouseDbContext db, DateTime cutoff, int batchSize, CancellationToken ct) =>
        db.OAuth2LogoutRequests.Where(r => db.OAuth2LogoutRequests.Where(x => x.ExpiresAt <= cutoff).OrderBy(x => x.ExpiresAt).Take(batchSize).Select(x => x.Pk).Contains(r.Pk))
            .ExecuteDeleteAsync(ct);
}
