namespace Gatehouse.OAuth2.Tokens;

/// <summary>Storage of issued tokens and authorization codes (by the SHA-256 of their string), implemented in Persistence.</summary>
public interface IOAuth2TokenStore
{
    /// <summary>Stores new tokens (one grant's access token, refresh token or code), all or none.</summary>
    Task AddAsync(IReadOnlyList<OAuth2Token> tokens, CancellationToken ct);

    /// <summary>The row with this signature (hash), active or not.</summary>
    Task<OAuth2Token?> FindAsync(byte[] signature, CancellationToken ct);

    /// <summary>
    /// Atomically deactivates the active row with this signature (spending a code or refresh token): true for the one
    /// caller that did it, false when it was already inactive or absent — so a code is exchanged at most once, even by
    /// concurrent requests.
    /// </summary>
    Task<bool> DeactivateAsync(byte[] signature, CancellationToken ct);

    /// <summary>
    /// Deactivates every token of a grant (its request id), or only those of <paramref name="kind"/>, including used refresh
    /// tokens still in their grace period (they cannot be used again); returns how many rows it changed.
    /// </summary>
    Task<int> RevokeRequestAsync(Guid requestId, string? kind, CancellationToken ct);

    /// <summary>
    /// Atomically uses a refresh token under a rotation grace period (Hydra's <c>gracefulRefreshRotation</c>): an active one,
    /// or a used one whose first use lies less than <paramref name="period"/> before <paramref name="now"/>, and (when
    /// <paramref name="count"/> is above zero) that was used fewer than <paramref name="count"/> times. Marks it used,
    /// keeps its first use, counts the use; true for each caller that did it, so concurrent uses never exceed the count.
    /// </summary>
    Task<bool> UseWithinGraceAsync(byte[] signature, DateTime now, TimeSpan period, int count, CancellationToken ct);

    /// <summary>Deactivates one access token (the one issued with a refresh token); returns how many were active.</summary>
    Task<int> RevokeAccessTokenAsync(Guid pk, CancellationToken ct);

    Task<int> DeleteForClientAsync(string clientId, CancellationToken ct);
}
