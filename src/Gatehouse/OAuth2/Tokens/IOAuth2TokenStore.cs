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

    /// <summary>Deactivates every token of a grant (its request id), or only those of <paramref name="kind"/>; returns how many were active.</summary>
    Task<int> RevokeRequestAsync(Guid requestId, string? kind, CancellationToken ct);

    Task<int> DeleteForClientAsync(string clientId, CancellationToken ct);
}
