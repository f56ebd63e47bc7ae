using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http.Errors;
using Gatehouse.OAuth2;
using Gatehouse.OAuth2.Flows;
using Gatehouse.Sessions;
using Microsoft.AspNetCore.WebUtilities;

namespace Gatehouse.SelfService.Flows.Login;

/// <summary>
/// The login flow as the login app of Gatehouse's own OAuth2 provider — what Kratos does with Hydra
/// (<c>hydra/hydra.go</c>, the login handler and hook): a flow started with <c>?login_challenge=</c> carries it, reads the
/// login request, and once the user signed in accepts it for the session's identity and sends the browser to the
/// <c>redirect_to</c> Hydra answers. Here Hydra is in the same process, so its admin calls are method calls; their errors
/// become the Kratos envelope Kratos answers when its Hydra calls fail.
/// </summary>
public sealed class OAuth2LoginChallenges(LoginConsentService oauth2, GatehouseOptions options)
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
    public async Task<JsonObject> GetAsync(string challenge, CancellationToken ct)
    {
        LoginConsentService.AdminAnswer answer;
        try
        {
            answer = await oauth2.GetLoginRequestAsync(challenge, ct);
        }
        catch (OAuth2Error e)
        {
            throw Failed("Unable to get OAuth 2.0 Login Challenge.", e.StatusCode, e.FullDescription);
        }
        if (answer.Status != 200) throw Failed("Unable to get OAuth 2.0 Login Challenge.", answer.Status, "The login request was already handled.");
        return answer.Body;
    }

    /// <summary>
    /// Accepts the login request for <paramref name="session"/> (Kratos's <c>AcceptLoginRequest</c>: the identity as subject,
    /// the session as the identity provider session, its methods as <c>amr</c>, remembered as the session cookie is, for the
    /// session lifespan) and answers where the browser goes next. Gatehouse also sends the session's assurance level as
    /// <c>acr</c> (<c>aal1</c>/<c>aal2</c>), so a client that asked for <c>acr_values=aal2</c> can see what it got.
    /// </summary>
    public async Task<string> AcceptAsync(string challenge, Session session, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(session);
        var amr = new JsonArray();
        foreach (var method in SessionJson.ParseMethods(session.AuthenticationMethods).OfType<JsonObject>())
        {
            if (method["method"]?.GetValue<string>() is { } name && !amr.Any(a => a!.GetValue<string>() == name)) amr.Add(name);
        }
        var body = new JsonObject
        {
            ["subject"] = session.IdentityId.ToString(),
            ["identity_provider_session_id"] = session.Id.ToString(),
            ["remember"] = options.Session.Cookie.Persistent,
            ["remember_for"] = (long)options.Session.Lifespan.TotalSeconds,
            ["amr"] = amr,
            ["acr"] = session.Aal,
        };
        LoginConsentService.AdminAnswer answer;
        try
        {
            answer = await oauth2.AcceptLoginAsync(challenge, body, ct);
        }
        catch (OAuth2Error e)
        {
            throw Failed("Unable to accept OAuth 2.0 Login Challenge.", e.StatusCode, e.FullDescription);
        }
        if (answer.Status != 200) throw Failed("Unable to accept OAuth 2.0 Login Challenge.", answer.Status, "The login request was already handled.");
        return answer.Body["redirect_to"]!.GetValue<string>();
    }

    /// <summary>Whether the client asked for a second factor: <c>aal2</c> among the request's <c>acr_values</c>.</summary>
    public static bool WantsAal2(JsonObject loginRequest) =>
        loginRequest["oidc_context"]?["acr_values"] is JsonArray values && values.Any(v => v?.GetValue<string>() == AssuranceLevels.Aal2);

    /// <summary>Kratos answers Hydra's client errors as 400 (5xx as 500) with Hydra's status code in the details.</summary>
    private static GatehouseError Failed(string reason, int status, string hint) =>
        new(status >= 500 ? 500 : 400, reason, details: new JsonObject { ["status_code"] = status, ["oauth2_error_hint"] = hint });
}
