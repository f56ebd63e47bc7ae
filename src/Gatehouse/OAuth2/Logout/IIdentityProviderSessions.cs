using Gatehouse.Sessions;

namespace Gatehouse.OAuth2.Logout;

/// <summary>
/// Where an OAuth2 logout ends the login app's session (the login's <c>identity_provider_session_id</c>): Hydra's
/// <c>kratos.Client</c> <c>DisableSession</c> (<c>internal/kratos/kratos.go</c>), called from
/// <c>consent/strategy_default.go</c> <c>performBackChannelLogoutAndDeleteSession</c> once the login session is deleted,
/// for <c>completeLogout</c> and the headless logout alike.
/// </summary>
public interface IIdentityProviderSessions
{
    /// <summary>Ends <paramref name="identityProviderSessionId"/> (a non-empty id); never fails the logout of <paramref name="sid"/>.</summary>
    Task DisableSessionAsync(string identityProviderSessionId, string sid, CancellationToken ct);
}

/// <summary>
/// Without <c>urls.identity_provider.url</c>: Kratos and Hydra as one process, so the Gatehouse session of that id is
/// revoked at once (an id that names no Gatehouse session changes nothing).
/// </summary>
public sealed partial class InProcessIdentityProviderSessions(SessionManager sessions, ILogger<InProcessIdentityProviderSessions> logger) : IIdentityProviderSessions
{
    public async Task DisableSessionAsync(string identityProviderSessionId, string sid, CancellationToken ct)
    {
        if (Guid.TryParse(identityProviderSessionId, out var id) && await sessions.RevokeAsync(id, ct)) LogEnded(logger, sid);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The Kratos session behind OAuth2 login session {Sid} was ended")]
    private static partial void LogEnded(ILogger logger, string sid);
}
