namespace Gatehouse.OAuth2.Tokens;

/// <summary>
/// An issued opaque token (access or refresh). Only the SHA-256 of the token string is stored; the string itself is
/// shown once, in the token response. Tokens of one grant share <see cref="RequestId"/>, so that revoking one (or
/// detecting a refresh token's reuse) revokes the whole chain.
/// </summary>
public sealed class OAuth2Token
{
    public Guid Pk { get; set; }
    public Guid Nid { get; set; }
    public byte[] Signature { get; set; } = [];

    /// <summary><see cref="OAuth2TokenKinds.AccessToken"/> or <see cref="OAuth2TokenKinds.RefreshToken"/>.</summary>
    public string Kind { get; set; } = "";
    public Guid RequestId { get; set; }
    public string ClientId { get; set; } = "";
    public string Subject { get; set; } = "";

    /// <summary>Granted scopes, space-separated.</summary>
    public string Scope { get; set; } = "";

    /// <summary>Granted access-token audience, as a JSON array.</summary>
    public string Audience { get; set; } = "[]";

    /// <summary>
    /// Extra claims for the access token (<c>session.access_token</c>), as a JSON object, shown as <c>ext</c>. A refresh
    /// token keeps its grant's claims here when a token hook ran (<see cref="Protocol.SessionClaims.ToStored"/>), else <c>{}</c>.
    /// </summary>
    public string Extra { get; set; } = "{}";

    /// <summary>
    /// An access token's ID-token custom claims (a JSON object) when a token hook set them, or a refresh kept a hook's:
    /// <c>/userinfo</c> answers from them, as Hydra's from the access token's stored session (<c>IDTokenClaims().Extra</c>).
    /// Null: the consent's <c>session.id_token</c>.
    /// </summary>
    public string? IdTokenExtra { get; set; }
    public DateTime IssuedAt { get; set; }
    public DateTime ExpiresAt { get; set; }

    /// <summary>False once revoked, or (refresh tokens) once used.</summary>
    public bool Active { get; set; } = true;

    /// <summary>
    /// A refresh token's first use, while it may still be used again (<c>oauth2.grant.refresh_token.rotation_grace_period</c>,
    /// Hydra's <c>first_used_at</c>); null when unused, used without a grace period, or revoked.
    /// </summary>
    public DateTime? FirstUsedAt { get; set; }

    /// <summary>How often a refresh token was used under a grace period (Hydra's <c>used_times</c>).</summary>
    public int UsedTimes { get; set; }

    /// <summary>
    /// A refresh token's access token, issued with it: a graceful rotation revokes only that one, so the tokens an earlier
    /// use of the same refresh token issued stay valid (Hydra's <c>access_token_signature</c>).
    /// </summary>
    public Guid? AccessTokenPk { get; set; }
}

public static class OAuth2TokenKinds
{
    public const string AccessToken = "access_token";
    public const string RefreshToken = "refresh_token";

    /// <summary>An authorization code: active until exchanged; its request id is the login/consent flow's.</summary>
    public const string AuthorizationCode = "authorization_code";
}
