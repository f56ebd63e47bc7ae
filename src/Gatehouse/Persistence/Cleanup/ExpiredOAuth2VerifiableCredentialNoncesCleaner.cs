using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Cleanup;

/// <summary>Verifiable-credential nonces (<c>oauth2_vc_nonces</c>) past their expiry: a proof with them is refused anyway.</summary>
public sealed class ExpiredOAuth2VerifiableCredentialNoncesCleaner : IExpiredDataCleaner
{
    public string Name => "expired OAuth2 verifiable-credential nonces";

    public Task<int> DeleteBatchAsync(GatehouseDbContext db, DateTime cutoff, int batchSize, CancellationToken ct) =>
        db.OAuth2VerifiableCredentialNonces.Where(a => db.OAuth2VerifiableCredentialNonces.Where(x => x.ExpiresAt <= cutoff).OrderBy(x => x.ExpiresAt).Take(batchSize).Select(x => x.Pk).Contains(a.Pk))
            .ExecuteDeleteAsync(ct);
}
