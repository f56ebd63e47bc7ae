namespace Gatehouse.SelfService.Strategies.Oidc.Fedcm;

/// <summary>Storage of FedCM nonces (<see cref="FedcmNonce"/>), implemented in Persistence.</summary>
public interface IFedcmNonceStore
{
    /// <summary>
    /// Stores <paramref name="nonces"/> (one browser's) and forgets that browser's older ones beyond the newest
    /// <paramref name="keepPerBrowser"/>, so a page that asks again and again does not grow the table.
    /// </summary>
    Task AddAsync(IReadOnlyList<FedcmNonce> nonces, int keepPerBrowser, CancellationToken ct);

    /// <summary>
    /// Uses the nonce with digest <paramref name="signature"/> issued to the browser <paramref name="browserSignature"/> for
    /// <paramref name="provider"/>: one conditional delete, so concurrent uses count once.
    /// </summary>
    Task<FedcmNonceUse> SpendAsync(byte[] signature, byte[] browserSignature, string provider, DateTime now, CancellationToken ct);
}
