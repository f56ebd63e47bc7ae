namespace Gatehouse.OAuth2.Flows;

/// <summary>Storage of login/consent flows, implemented in Persistence. Lookups are by the SHA-256 of a challenge or verifier.</summary>
public interface IOAuth2FlowStore
{
    Task AddAsync(OAuth2Flow flow, CancellationToken ct);

    Task<OAuth2Flow?> FindByLoginChallengeAsync(byte[] hash, CancellationToken ct);

    Task<OAuth2Flow?> FindByLoginVerifierAsync(byte[] hash, CancellationToken ct);

    Task<OAuth2Flow?> FindByConsentChallengeAsync(byte[] hash, CancellationToken ct);

    Task<OAuth2Flow?> FindByConsentVerifierAsync(byte[] hash, CancellationToken ct);

    Task<OAuth2Flow?> FindAsync(Guid pk, CancellationToken ct);

    /// <summary>
    /// Writes <paramref name="flow"/>'s fields if the stored row is still in <paramref name="expectedState"/>: true for the
    /// one caller whose change applied (a spent verifier cannot be spent again, also by concurrent requests).
    /// </summary>
    Task<bool> UpdateAsync(OAuth2Flow flow, int expectedState, CancellationToken ct);

    /// <summary>The newest consent of (client, subject) that was accepted with <c>remember</c> and is still remembered at <paramref name="now"/>.</summary>
    Task<OAuth2Flow?> FindRememberedConsentAsync(string clientId, string subject, DateTime now, CancellationToken ct);
}
