namespace Gatehouse.OAuth2.Device;

/// <summary>
/// One visit of <c>/oauth2/device/verify</c>: the device challenge the user-code page answers with
/// <c>acceptUserCodeRequest</c> (Hydra's flow in the <c>DEVICE_UNUSED</c> state). Challenge, verifier and the browser's
/// CSRF value are stored as SHA-256 only. Each challenge takes a bounded number of user-code guesses.
/// </summary>
public sealed class OAuth2DeviceChallenge
{
    public Guid Pk { get; set; }
    public Guid Nid { get; set; }
    public byte[] Challenge { get; set; } = [];
    public byte[]? Verifier { get; set; }
    public byte[] Csrf { get; set; } = [];

    /// <summary>The device authorization whose user code was accepted for this challenge.</summary>
    public Guid? DeviceRequestId { get; set; }

    /// <summary>User codes submitted for this challenge (right or wrong).</summary>
    public int Attempts { get; set; }

    /// <summary>0 open, 1 a user code was accepted (verifier issued), 2 the verifier was spent (a new acceptance makes it 1 again).</summary>
    public int State { get; set; }

    /// <summary>Hydra's <c>request_url</c>: <c>/oauth2/device/verify</c> as requested, without <c>user_code</c>.</summary>
    public string RequestUrl { get; set; } = "";

    public DateTime ExpiresAt { get; set; }
}
