namespace Gatehouse.OAuth2.Credentials;

/// <summary>
/// A <c>c_nonce</c> handed out for a verifiable-credential proof (<c>POST /credentials</c> priming, or the token response's
/// <c>c_nonce_draft_00</c>): bound to one access token, usable once, until <see cref="ExpiresAt"/>. Only the SHA-256 of the
/// nonce and of the access token are kept (256 random bits leave nothing to guess, so a fast hash suffices).
/// </summary>
public sealed class VerifiableCredentialNonce
{
    public Guid Pk { get; set; }
    public Guid Nid { get; set; }

    /// <summary>SHA-256 of the nonce.</summary>
    public byte[] Signature { get; set; } = [];

    /// <summary>The access token's stored signature (<see cref="Tokens.OAuth2Token.Signature"/>): the nonce works only with it.</summary>
    public byte[] AccessTokenSignature { get; set; } = [];

    public DateTime ExpiresAt { get; set; }
}
