using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Cleanup;

/// <summary>
/// Remembered OAuth2 logins past <c>expires_at</c> (<c>oauth2_login_sessions</c>, as <c>hydra janitor --requests</c> cleans
/// Hydra's authentication sessions): no authorization request can skip the login with them any more.
/// </summary>
public sealed class ExpiredOAuth2LoginSessionsCleaner : IExpiredDataCleaner
{
    public string Name => "expired OAuth2 login sessions";

    public Task<int> DeleteBatchAsync(GatehouseDbContext db, DateTime cutoff, int batchSize, CancellationToken ct) =>
        db.OAuth2LoginSessions.Where(s => db.OAuth2LoginSessions.Where(x => x.ExpiresAt <= cutoff).OrderBy(x => x.ExpiresAt).Take(batchSize).Select(x => x.Id).Contains(s.Id))
            .ExecuteDeleteAsync(ct);
}
