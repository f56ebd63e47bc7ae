namespace Gatehouse.OAuth2.Trust;

/// <summary>
/// A trust relationship for the JWT-bearer grant (RFC 7523 2.1; Hydra's <c>hydra_oauth2_trusted_jwt_bearer_issuer</c>):
/// JWTs of <see cref="Issuer"/> about <see cref="Subject"/> (or any subject), signed with <see cref="PublicKey"/>, may be
/// exchanged for access tokens with at most <see cref="Scope"/> until <see cref="ExpiresAt"/>.
/// </summary>
public sealed class TrustedJwtIssuer
{
    /// <summary>Hydra's grant <c>id</c> (UUIDv7 here, so keyset pages follow creation order).</summary>
    public Guid Id { get; set; }
    public Guid Nid { get; set; }
    public string Issuer { get; set; } = "";

    /// <summary>Empty when <see cref="AllowAnySubject"/>.</summary>
    public string Subject { get; set; } = "";
    public bool AllowAnySubject { get; set; }

    /// <summary>Allowed scopes, as a JSON array.</summary>
    public string Scope { get; set; } = "[]";
    public string KeyId { get; set; } = "";

    /// <summary>The issuer's public key (JWK JSON, public members only).</summary>
    public string PublicKey { get; set; } = "";
    public DateTime CreatedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
}
