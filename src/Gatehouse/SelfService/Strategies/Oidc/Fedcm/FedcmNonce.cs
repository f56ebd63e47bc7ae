namespace Gatehouse.SelfService.Strategies.Oidc.Fedcm;

/// <summary>
/// A nonce <c>GET /self-service/fed-cm/parameters</c> handed to a browser for one provider: usable once, by the browser
/// holding the anti-CSRF cookie it was issued with, until <see cref="ExpiresAt"/>. Only SHA-256 digests of the nonce and of
/// the cookie's token are kept (both are 256 random bits, so a fast hash leaves nothing to guess).
/// </summary>
public sealed class FedcmNonce
{
    public Guid Pk { get; set; }
    public Guid Nid { get; set; }

    /// <summary>SHA-256 of the nonce.</summary>
    public byte[] Signature { get; set; } = [];

    /// <summary>SHA-256 of the anti-CSRF token of the browser it was issued to.</summary>
    public byte[] BrowserSignature { get; set; } = [];

    /// <summary>The id of the provider it was issued for (<c>selfservice.methods.oidc.config.providers[].id</c>).</summary>
    public string Provider { get; set; } = "";

    public DateTime ExpiresAt { get; set; }
}

/// <summary>What spending a FedCM nonce found.</summary>
public enum FedcmNonceUse
{
    /// <summary>Never issued to this browser for this provider, or used already.</summary>
    Unknown,

    /// <summary>Issued, but past its expiry.</summary>
    Expired,

    /// <summary>Issued and unused: it is now used.</summary>
    Spent,
}
