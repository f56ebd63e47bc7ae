namespace Gatehouse.OAuth2.Tokens;

/// <summary>The replay store of JWT ids (<see cref="UsedJwtAssertion"/>), implemented in Persistence.</summary>
public interface IJwtAssertionStore
{
    /// <summary>True when a use of this jti is recorded that has not expired at <paramref name="now"/>.</summary>
    Task<bool> IsKnownAsync(byte[] signature, DateTime now, CancellationToken ct);

    /// <summary>
    /// Records a use of the jti until <paramref name="expiresAt"/>: true for exactly one caller, false when an unexpired use is
    /// recorded already (also when a concurrent request recorded it first). An expired earlier use is replaced.
    /// </summary>
    Task<bool> TryRecordAsync(byte[] signature, DateTime expiresAt, DateTime now, CancellationToken ct);
}
