namespace Gatehouse.Sessions;

/// <summary>
/// One completed authentication step of a session (Kratos's <c>sessionAuthenticationMethod</c>): JSON
/// <c>{method, aal, completed_at}</c>, plus <c>provider</c> (the provider id) for social sign-in and, when the provider's
/// ID token had them, its <c>acr</c> and <c>amr</c> claims (<c>upstream_acr</c>, <c>upstream_amr</c>).
/// </summary>
public sealed record AuthenticationMethod(string Method, string Aal, DateTime CompletedAt, string? Provider = null)
{
    /// <summary>The upstream provider's <c>acr</c> claim (social sign-in), or null.</summary>
    public string? UpstreamAcr { get; init; }

    /// <summary>The upstream provider's <c>amr</c> claim (social sign-in), or null.</summary>
    public IReadOnlyList<string>? UpstreamAmr { get; init; }
}

/// <summary>
/// A freshly issued session with its plaintext tokens. The tokens exist only here and in the response that hands
/// them out; the database keeps their SHA-256 hashes.
/// </summary>
public sealed record IssuedSession(Session Session, string Token, string LogoutToken);
