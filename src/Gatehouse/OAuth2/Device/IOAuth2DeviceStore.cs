namespace Gatehouse.OAuth2.Device;

/// <summary>Storage of device authorizations and device challenges, implemented in Persistence. Lookups are by hash.</summary>
public interface IOAuth2DeviceStore
{
    /// <summary>Stores a new device authorization; false when its user code is taken (the caller draws another).</summary>
    Task<bool> AddRequestAsync(OAuth2DeviceRequest request, CancellationToken ct);

    Task<OAuth2DeviceRequest?> FindRequestByDeviceCodeAsync(byte[] hash, CancellationToken ct);

    Task<OAuth2DeviceRequest?> FindRequestByUserCodeAsync(byte[] hash, CancellationToken ct);

    Task<OAuth2DeviceRequest?> FindRequestAsync(Guid pk, CancellationToken ct);

    /// <summary>Moves the request from <paramref name="from"/> to <paramref name="to"/> in one conditional update: true for the one caller that did.</summary>
    Task<bool> ChangeRequestStateAsync(Guid pk, int from, int to, Guid? flowId, CancellationToken ct);

    /// <summary>
    /// Counts a token request of the device (RFC 8628 3.5) in one conditional update: true when it came at or after
    /// <see cref="OAuth2DeviceRequest.NextPollAt"/>; otherwise false, and the device's interval is raised by 5 seconds.
    /// </summary>
    Task<bool> PollAsync(Guid pk, DateTime now, CancellationToken ct);

    Task AddChallengeAsync(OAuth2DeviceChallenge challenge, CancellationToken ct);

    Task<OAuth2DeviceChallenge?> FindChallengeAsync(byte[] hash, CancellationToken ct);

    /// <summary>Takes one user-code attempt from a challenge (in any state), atomically: false when it has none left.</summary>
    Task<bool> TakeAttemptAsync(Guid pk, int max, CancellationToken ct);

    /// <summary>
    /// Records the accepted user code's request and a new verifier (replacing any earlier one, spent or not): false only
    /// when the challenge no longer exists.
    /// </summary>
    Task<bool> AcceptChallengeAsync(Guid pk, Guid deviceRequestId, byte[] verifier, CancellationToken ct);

    /// <summary>Spends a verifier in one conditional update: the challenge for the one caller that did, else null.</summary>
    Task<OAuth2DeviceChallenge?> SpendVerifierAsync(byte[] verifier, CancellationToken ct);
}
