namespace Gatehouse.OAuth2.Tokens;

/// <summary>
/// A JWT id (<c>jti</c>) that was used once — in a <c>private_key_jwt</c> client assertion or a JWT-bearer grant — and may
/// not be used again until the JWT expires (Hydra's <c>hydra_oauth2_jti_blacklist</c>). Only the SHA-256 of the jti is kept.
/// </summary>
public sealed class UsedJwtAssertion
{
    public Guid Pk { get; set; }
    public Guid Nid { get; set; }

    /// <summary>SHA-256 of the <c>jti</c>.</summary>
    public byte[] Signature { get; set; } = [];

    /// <summary>The JWT's <c>exp</c>: after it the JWT is refused anyway, and the row can go.</summary>
    public DateTime ExpiresAt { get; set; }
}
