namespace Gatehouse.Identities;

/// <summary>Changes the verification state of an identity's verifiable addresses (the verification flow's writes).</summary>
public interface IVerifiableAddressStore
{
    /// <summary>An address that was sent a code or link goes from <c>pending</c> to <c>sent</c>; returns the rows changed (0 for no such pending address).</summary>
    Task<int> MarkSentIfPendingAsync(Guid addressId, DateTime now, CancellationToken ct);

    /// <summary>The address (by identity, channel and value) is verified: <c>completed</c>, <c>verified_at</c>.</summary>
    Task MarkVerifiedAsync(Guid? identityId, string via, string value, DateTime now, CancellationToken ct);
}
