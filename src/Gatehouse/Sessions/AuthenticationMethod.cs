namespace Gatehouse.Sessions;

/// <summary>
/// One completed authentication step of a session (Kratos's <c>sessionAuthenticationMethod</c>): JSON
/// <c>{method, aal, completed_at}</c>, plus <c>provider</c> (the provider id) for social sign-in.
/// </summary>
public sealed record AuthenticationMethod(string Method, string Aal, DateTime CompletedAt, string? Provider = null);

/// <summary>
/// A freshly issued session with its plaintext tokens. The tokens exist only here and in the response that hands
/// them out; the database keeps their SHA-256 hashes.
/// </summary>
public sealed record IssuedSession(Session Session, string Token, string LogoutToken);
