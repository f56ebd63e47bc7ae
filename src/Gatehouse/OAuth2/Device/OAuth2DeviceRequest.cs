namespace Gatehouse.OAuth2.Device;

/// <summary>
/// A device authorization (RFC 8628; Hydra's <c>hydra_oauth2_device_auth_codes</c>): what <c>/oauth2/device/auth</c>
/// answered a device, until the device's token request spends it. The device code is stored as its SHA-256, the user code
/// as an HMAC keyed by the configured secrets (it is short enough to be guessed from a plain hash).
/// </summary>
public sealed class OAuth2DeviceRequest
{
    public Guid Pk { get; set; }
    public Guid Nid { get; set; }
    public byte[] DeviceCode { get; set; } = [];
    public byte[] UserCode { get; set; } = [];
    public string ClientId { get; set; } = "";

    /// <summary>Requested scopes, space-separated.</summary>
    public string Scope { get; set; } = "";

    /// <summary>Requested access-token audience, as a JSON array.</summary>
    public string Audience { get; set; } = "[]";

    /// <summary>An <see cref="OAuth2DeviceRequestState"/>.</summary>
    public int State { get; set; }

    /// <summary>The login/consent flow that answered the request, once the user accepted or denied it.</summary>
    public Guid? FlowId { get; set; }

    /// <summary>The polling interval this device must keep, in seconds (raised by 5 on each <c>slow_down</c>, RFC 8628 3.5).</summary>
    public int PollInterval { get; set; }

    /// <summary>The device may poll again from this time on; null: not polled yet.</summary>
    public DateTime? NextPollAt { get; set; }

    public DateTime RequestedAt { get; set; }

    /// <summary>Device and user code work until then (<c>ttl.device_user_code</c>).</summary>
    public DateTime ExpiresAt { get; set; }
}

/// <summary>Where a device authorization is (Hydra's <c>user_code_state</c>, plus the spent state).</summary>
public static class OAuth2DeviceRequestState
{
    /// <summary>Waiting for the user: the token endpoint answers <c>authorization_pending</c>.</summary>
    public const int Pending = 0;

    /// <summary>The user signed in and consented: the next token request gets the tokens.</summary>
    public const int Accepted = 1;

    /// <summary>Login or consent was rejected: <c>access_denied</c>.</summary>
    public const int Denied = 2;

    /// <summary>The device code was exchanged for tokens.</summary>
    public const int Used = 3;
}
