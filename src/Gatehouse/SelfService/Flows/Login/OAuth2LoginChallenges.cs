using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http.Errors;
using Gatehouse.Sessions;
using Microsoft.AspNetCore.WebUtilities;

namespace Gatehouse.SelfService.Flows.Login;

/// <summary>
/// The login flow as the login app of Gatehouse's own OAuth2 provider — what Kratos does with Hydra
/// (<c>hydra/hydra.go</c>, the login handler and hook): a flow started with <c>?login_challenge=</c> carries it, reads the
/// login request, and once the user signed in accepts it for the session's identity and sends the browser to the
/// <c>redirect_to</c> Hydra answers. The provider is Gatehouse's own, in-process, or an external Hydra when
/// <c>oauth2_provider.url</c> is set (<see cref="IOAuth2LoginProvider"/>).
/// </summary>
public sealed class OAuth2LoginChallenges(IOAuth2LoginProvider provider, GatehouseOptions options)
{
    public const string Parameter = "login_challenge";

    /// <summary>
    /// The challenge a login or registration flow was started with. As in Kratos, it is part of the flow's
    /// <c>request_url</c> (Kratos also keeps it there and in <c>oauth2_login_challenge</c>); the step-up login reads it
    /// from there too.
    /// </summary>
    public static string? Of(SelfServiceFlow flow)
    {
        ArgumentNullException.ThrowIfNull(flow);
        if (flow.Kind is not (FlowKinds.Login or FlowKinds.Registration) || !Uri.TryCreate(flow.RequestUrl, UriKind.Absolute, out var url)) return null;
        return QueryHelpers.ParseQuery(url.Query).TryGetValue(Parameter, out var v) && v.ToString().Length > 0 ? v.ToString() : null;
    }

    /// <summary>
    /// A flow made from another (social sign-in switching between login and registration) answers the same OAuth2 login
    /// request, as Kratos passes <c>OAuth2LoginChallenge</c> on: the challenge goes into the new flow's <c>request_url</c>.
    /// </summary>
    public static void CarryOver(SelfServiceFlow from, SelfServiceFlow to)
    {
        ArgumentNullException.ThrowIfNull(to);
        if (Of(from) is not { } challenge || Of(to) is not null) return;
        to.RequestUrl = QueryHelpers.AddQueryString(to.RequestUrl, Parameter, challenge);
    }

    /// <summary>The challenge of a request that starts a flow; null without one, 400 when it is present but empty (Kratos's <c>GetLoginChallengeID</c>).</summary>
    public static string? FromQuery(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.Query.TryGetValue(Parameter, out var value)) return null;
        var challenge = value.ToString();
        if (challenge.Length == 0) throw GatehouseError.BadRequest("the login_challenge parameter is present but empty");
        return challenge;
    }

    /// <summary>
    /// The login request (Hydra's <c>oAuth2LoginRequest</c>) — <c>oauth2_login_request</c> of the flow. An unknown,
    /// expired or used challenge is Kratos's 400 "Unable to get OAuth 2.0 Login Challenge." with Hydra's status in the details.
    /// </summary>
    public Task<JsonObject> GetAsync(string challenge, CancellationToken ct) => provider.GetLoginRequestAsync(challenge, ct);

    /// <summary>
    /// Accepts the login request for <paramref name="session"/> (Kratos's <c>AcceptLoginRequest</c>) and answers where the
    /// browser goes next (the provider's <c>redirect_to</c>).
    /// </summary>
    public Task<string> AcceptAsync(string challenge, Session session, CancellationToken ct) => provider.AcceptLoginRequestAsync(challenge, session, ct);

    /// <summary>
    /// <c>oauth2_provider.override_return_to</c> (Kratos's login and registration <c>createBrowser*Flow</c>): the flow's
    /// <c>return_to</c> becomes the login request's <c>request_url</c>, so flows the user switches to (recovery, ...) end back
    /// at the OAuth2 request. Null when off or the request has none; the caller validates it as any <c>return_to</c>.
    /// </summary>
    public string? OverriddenReturnTo(JsonObject loginRequest)
    {
        ArgumentNullException.ThrowIfNull(loginRequest);
        if (!options.Oauth2Provider.OverrideReturnTo) return null;
        return loginRequest["request_url"] is JsonValue v && v.TryGetValue<string>(out var url) && url.Length > 0 ? url : null;
    }

    /// <summary>Whether the client asked for a second factor: <c>aal2</c> among the request's <c>acr_values</c>.</summary>
    public static bool WantsAal2(JsonObject loginRequest) =>
        loginRequest["oidc_context"]?["acr_values"] is JsonArray values && values.Any(v => v?.GetValue<string>() == AssuranceLevels.Aal2);
}
