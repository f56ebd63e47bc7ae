namespace Gatehouse.OAuth2.Credentials;

/// <summary>Storage of verifiable-credential nonces (<see cref="VerifiableCredentialNonce"/>), implemented in Persistence.</summary>
public interface IVerifiableCredentialNonceStore
{
    /// <summary>
    /// Stores a new nonce; of the access token's unexpired nonces only the newest <paramref name="keepPerToken"/> stay
    /// (older ones are deleted), so priming requests cannot pile up rows.
    /// </summary>
    Task AddAsync(VerifiableCredentialNonce nonce, int keepPerToken, CancellationToken ct);

    /// <summary>
    /// Spends the nonce with <paramref name="signature"/> bound to <paramref name="accessTokenSignature"/>: <see cref="NonceUse.Spent"/>
    /// for exactly one caller (the row is deleted), <see cref="NonceUse.Expired"/> when it is past its expiry at
    /// <paramref name="now"/> (left for the cleanup), else <see cref="NonceUse.Unknown"/> (never issued, another token's,
    /// or spent already — also by a concurrent request).
    /// </summary>
    Task<NonceUse> SpendAsync(byte[] signature, byte[] accessTokenSignature, DateTime now, CancellationToken ct);
}

public enum NonceUse
{
    Unknown,
    Expired,
    Spent,
}
