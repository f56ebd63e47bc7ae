namespace Gatehouse.OAuth2.Keys;

/// <summary>
/// One key of a JSON Web Key set (Hydra's <c>hydra_jwk</c> row). The full key, private part included, is kept only
/// encrypted (<see cref="SystemSecretCipher"/>); the public part is kept in clear so that the JWKS can be published even
/// by a process that cannot decrypt (see <see cref="JsonWebKeyManager"/>).
/// </summary>
public sealed class StoredJsonWebKey
{
    public Guid Pk { get; set; }
    public Guid Nid { get; set; }

    /// <summary>The set's name (Hydra's <c>sid</c>), e.g. <c>hydra.openid.id-token</c>.</summary>
    public string SetId { get; set; } = "";
    public string KeyId { get; set; } = "";

    /// <summary>The key's public part as JWK JSON; null for symmetric keys, which have none.</summary>
    public string? PublicKey { get; set; }

    /// <summary>The whole key as JWK JSON, encrypted with <see cref="SystemSecretCipher"/> (base64url).</summary>
    public string EncryptedKey { get; set; } = "";
    /// <summary>A set lists newest first, and its newest private key signs (Hydra's <c>created_at DESC</c>).</summary>
    public DateTime CreatedAt { get; set; }
}
