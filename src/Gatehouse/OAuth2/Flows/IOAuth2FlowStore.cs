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

    /// <summary>The remembered, unexpired login session whose cookie secret hashes to <paramref name="cookieHash"/>.</summary>
    Task<OAuth2LoginSession?> FindRememberedLoginSessionAsync(byte[] cookieHash, DateTime now, CancellationToken ct);

    /// <summary>Stores a login session, or updates the one with its id (Hydra's <c>ConfirmLoginSession</c>).</summary>
    Task SaveLoginSessionAsync(OAuth2LoginSession session, CancellationToken ct);

    /// <summary>Deletes the login sessions matching every given filter (at least one); returns them.</summary>
    Task<IReadOnlyList<OAuth2LoginSession>> DeleteLoginSessionsAsync(Guid? id, string? subject, byte[]? cookieHash, CancellationToken ct);

    /// <summary>
    /// A subject's consent sessions (Hydra's <c>FindSubjectsGrantedConsentRequests</c>): granted, not answered from a
    /// remembered consent, unexpired at <paramref name="now"/>; optionally of one login session; in id order after <paramref name="after"/>.
    /// </summary>
    Task<List<OAuth2Flow>> ListConsentSessionsAsync(string subject, Guid? loginSessionId, Guid after, int limit, DateTime now, CancellationToken ct);

    /// <summary>
    /// Deletes the matching consents (flows that reached consent) with every token issued from them, in one transaction
    /// (Hydra's <c>revokeConsentSession</c>): by flow id, or by subject and, when given, client.
    /// </summary>
    Task<int> RevokeConsentSessionsAsync(Guid? flowId, string? subject, string? clientId, CancellationToken ct);

    /// <summary>A login session by id, whether remembered or not; null when there is none.</summary>
    Task<OAuth2LoginSession?> FindLoginSessionAsync(Guid id, CancellationToken ct);

    /// <summary>The clients that took part in a login session: those of the subject's flows that went through it (Hydra's <c>login_session_id</c>).</summary>
    Task<List<string>> ListClientIdsOfLoginSessionAsync(string subject, Guid loginSessionId, CancellationToken ct);

    Task AddLogoutRequestAsync(OAuth2LogoutRequest request, CancellationToken ct);

    /// <summary>The logout request whose challenge hashes to <paramref name="challenge"/> (rejected ones too).</summary>
    Task<OAuth2LogoutRequest?> FindLogoutRequestAsync(byte[] challenge, CancellationToken ct);

    /// <summary>Hydra's accept: <c>accepted</c>, not <c>rejected</c>, with a new verifier; false when no such request exists.</summary>
    Task<bool> AcceptLogoutRequestAsync(byte[] challenge, byte[] verifier, CancellationToken ct);

    /// <summary>Hydra's reject: <c>rejected</c>, not <c>accepted</c>; false when no such request exists.</summary>
    Task<bool> RejectLogoutRequestAsync(byte[] challenge, CancellationToken ct);

    /// <summary>
    /// Spends an accepted, unrejected verifier in one conditional update. Returns the request of the verifier (null when
    /// unknown) and whether this call spent it (false: it was used before, or is not accepted).
    /// </summary>
    Task<(OAuth2LogoutRequest? Request, bool Spent)> SpendLogoutVerifierAsync(byte[] verifier, CancellationToken ct);

    /// <summary>Keeps a forced subject identifier for the client and subject, replacing the one kept before.</summary>
    Task SaveForcedSubjectIdentifierAsync(string clientId, string subject, string subjectObfuscated, CancellationToken ct);

    /// <summary>Whether some subject was given <paramref name="subjectObfuscated"/> as the client's forced subject identifier.</summary>
    Task<bool> IsForcedSubjectIdentifierAsync(string clientId, string subjectObfuscated, CancellationToken ct);
}
