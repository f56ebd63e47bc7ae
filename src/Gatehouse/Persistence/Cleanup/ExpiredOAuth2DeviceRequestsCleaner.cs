using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Cleanup;

/// <summary>
/// Device authorizations past <c>ttl.device_user_code</c> (<c>oauth2_device_requests</c>; Hydra's janitor leaves its
/// <c>hydra_oauth2_device_auth_codes</c> to grow): their codes are refused anyway. Tokens issued from them stay.
/// </summary>
public sealed class ExpiredOAuth2DeviceRequestsCleaner : IExpiredDataCleaner
{
    public string Name => "expired OAuth2 device authorizations";

    public Task<int> DeleteBatchAsync(GatehouseDbContext db, DateTime cutoff, int batchSize, CancellationToken ct) =>
        db.OAuth2DeviceRequests.Where(r => db.OAuth2DeviceRequests.Where(x => x.ExpiresAt <= cutoff).OrderBy(x => x.ExpiresAt).Take(batchSize).Select(x => x.Pk).Contains(r.Pk))
            .ExecuteDeleteAsync(ct);
}

/// <summary>Device challenges (visits of <c>/oauth2/device/verify</c>) past <c>ttl.login_consent_request</c>.</summary>
public sealed class ExpiredOAuth2DeviceChallengesCleaner : IExpiredDataCleaner
{
    public string Name => "expired OAuth2 device challenges";

    public Task<int> DeleteBatchAsync(GatehouseDbContext db, DateTime cutoff, int batchSize, CancellationToken ct) =>
        db.OAuth2DeviceChallenges.Where(r => db.OAuth2DeviceChallenges.Where(x => x.ExpiresAt <= cutoff).OrderBy(x => x.ExpiresAt).Take(batchSize).Select(x => x.Pk).Contains(r.Pk))
            .ExecuteDeleteAsync(ct);
}
