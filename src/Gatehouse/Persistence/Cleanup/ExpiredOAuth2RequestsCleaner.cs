using Gatehouse.OAuth2.Flows;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Cleanup;

/// <summary>
/// OAuth2 login and consent requests (<c>oauth2_flows</c>) past <c>expires_at</c> (<c>ttl.login_consent_request</c> after
/// they were made) that never became a consent session: unhandled, rejected, or handled up to a consent that was not given
/// (as <c>hydra janitor --requests</c>, <c>FlushInactiveLoginConsentRequests</c>). Their challenges and verifiers are refused
/// anyway. A flow whose consent was given (<see cref="OAuth2FlowState.ConsentUsed"/>) stays, whatever its age: it is the
/// consent session that the admin API lists and revokes and that a remembered consent is read from.
/// </summary>
public sealed class ExpiredOAuth2RequestsCleaner : IExpiredDataCleaner
{
    public string Name => "expired OAuth2 login and consent requests";

    public Task<int> DeleteBatchAsync(GatehouseDbContext db, DateTime cutoff, int batchSize, CancellationToken ct) =>
        db.OAuth2Flows.Where(f => db.OAuth2Flows
                .Where(x => x.State != OAuth2FlowState.ConsentUsed && x.ExpiresAt <= cutoff)
                .OrderBy(x => x.ExpiresAt).Take(batchSize).Select(x => x.Pk).Contains(f.Pk))
            .ExecuteDeleteAsync(ct);
}
