using System.Text.Json.Nodes;
using Gatehouse.Sessions;

namespace Gatehouse.SelfService.Flows.Login;

/// <summary>
/// The OAuth2 provider whose login requests the login and registration flows answer (Kratos's <c>hydra.Hydra</c>
/// interface, <c>hydra/hydra.go</c>): Gatehouse's own, in-process (<see cref="BuiltInOAuth2LoginProvider"/>), or an
/// external Ory Hydra's admin API over HTTP when <c>oauth2_provider.url</c> is set (<see cref="HydraAdminLoginProvider"/>).
/// Failures are the Kratos error envelope (<see cref="Http.Errors.GatehouseError"/>) that Kratos answers for them.
/// </summary>
public interface IOAuth2LoginProvider
{
    /// <summary>The login request (Hydra's <c>oAuth2LoginRequest</c>) of <paramref name="challenge"/>.</summary>
    Task<JsonObject> GetLoginRequestAsync(string challenge, CancellationToken ct);

    /// <summary>Accepts the login request for <paramref name="session"/>; answers the <c>redirect_to</c> the provider gave.</summary>
    Task<string> AcceptLoginRequestAsync(string challenge, Session session, CancellationToken ct);
}
