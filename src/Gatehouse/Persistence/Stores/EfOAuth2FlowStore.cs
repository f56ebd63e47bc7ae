using Gatehouse.OAuth2.Flows;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Stores;

/// <summary><see cref="IOAuth2FlowStore"/> on <c>oauth2_flows</c>.</summary>
public sealed class EfOAuth2FlowStore(GatehouseDbContext db) : IOAuth2FlowStore
{
    public async Task AddAsync(OAuth2Flow flow, CancellationToken ct)
    {
        flow.Nid = db.Nid;
        db.OAuth2Flows.Add(flow);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        finally
        {
            db.ChangeTracker.Clear();
        }
    }

    public Task<OAuth2Flow?> FindByLoginChallengeAsync(byte[] hash, CancellationToken ct) =>
        db.OAuth2Flows.AsNoTracking().FirstOrDefaultAsync(f => f.LoginChallenge == hash, ct);

    public Task<OAuth2Flow?> FindByLoginVerifierAsync(byte[] hash, CancellationToken ct) =>
        db.OAuth2Flows.AsNoTracking().FirstOrDefaultAsync(f => f.LoginVerifier == hash, ct);

    public Task<OAuth2Flow?> FindByConsentChallengeAsync(byte[] hash, CancellationToken ct) =>
        db.OAuth2Flows.AsNoTracking().FirstOrDefaultAsync(f => f.ConsentChallenge == hash, ct);

    public Task<OAuth2Flow?> FindByConsentVerifierAsync(byte[] hash, CancellationToken ct) =>
        db.OAuth2Flows.AsNoTracking().FirstOrDefaultAsync(f => f.ConsentVerifier == hash, ct);

    public Task<OAuth2Flow?> FindAsync(Guid pk, CancellationToken ct) =>
        db.OAuth2Flows.AsNoTracking().FirstOrDefaultAsync(f => f.Pk == pk, ct);

    public async Task<bool> UpdateAsync(OAuth2Flow flow, int expectedState, CancellationToken ct) =>
        await db.OAuth2Flows.Where(f => f.Pk == flow.Pk && f.State == expectedState).ExecuteUpdateAsync(s => s
            .SetProperty(f => f.State, flow.State)
            .SetProperty(f => f.Subject, flow.Subject)
            .SetProperty(f => f.LoginVerifier, flow.LoginVerifier)
            .SetProperty(f => f.ConsentChallenge, flow.ConsentChallenge)
            .SetProperty(f => f.ConsentVerifier, flow.ConsentVerifier)
            .SetProperty(f => f.Login, flow.Login)
            .SetProperty(f => f.Consent, flow.Consent)
            .SetProperty(f => f.ConsentRememberedUntil, flow.ConsentRememberedUntil), ct) == 1;

    public Task<OAuth2Flow?> FindRememberedConsentAsync(string clientId, string subject, DateTime now, CancellationToken ct) =>
        db.OAuth2Flows.AsNoTracking()
            .Where(f => f.ClientId == clientId && f.Subject == subject && f.State == OAuth2FlowState.ConsentUsed && f.ConsentRememberedUntil != null && f.ConsentRememberedUntil > now)
            .OrderByDescending(f => f.RequestedAt).FirstOrDefaultAsync(ct);
}
