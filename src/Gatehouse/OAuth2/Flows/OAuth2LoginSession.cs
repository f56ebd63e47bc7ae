namespace Gatehouse.OAuth2.Flows;

/// <summary>
/// A login the provider remembers for a browser (Hydra's <c>hydra_oauth2_authentication_session</c>): while it lasts, a new
/// authorization request of that browser is a login request with <c>skip: true</c> and its subject. Hydra keeps the session
/// id in a signed cookie; Gatehouse gives the browser a random secret (<c>ory_hydra_session</c>) of which only the SHA-256 is
/// stored, so neither the database nor the public <c>sid</c> lets anyone present the cookie.
/// </summary>
public sealed class OAuth2LoginSession
{
    /// <summary>The session id: the login request's <c>session_id</c>, the ID token's <c>sid</c>.</summary>
    public Guid Id { get; set; }
    public Guid Nid { get; set; }
    public string Subject { get; set; } = "";
    public DateTime AuthenticatedAt { get; set; }

    /// <summary>Accepted with <c>remember: true</c>: only such sessions let a later request skip the login.</summary>
    public bool Remember { get; set; }

    /// <summary>The login app's session (<c>identity_provider_session_id</c>; the Kratos session of the built-in login).</summary>
    public string IdentityProviderSessionId { get; set; } = "";

    /// <summary>SHA-256 of the browser's cookie secret; null when the browser was given none (not remembered).</summary>
    public byte[]? CookieHash { get; set; }
    public DateTime ExpiresAt { get; set; }
}
