using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http.Errors;
using Gatehouse.OAuth2;
using Gatehouse.OAuth2.Flows;
using Gatehouse.Sessions;

namespace Gatehouse.SelfService.Flows.Login;

/// <summary>
/// Gatehouse's own OAuth2 provider as the flows' Hydra (no <c>oauth2_provider.url</c>): its admin calls are method calls
/// on <see cref="LoginConsentService"/>; their errors become the Kratos envelope Kratos answers when its Hydra calls fail.
/// </summary>
public sealed class BuiltInOAuth2LoginProvider(LoginConsentService oauth2, GatehouseOptions options) : IOAuth2LoginProvider
{
    /// <summary>An unknown, expired or used challenge is Kratos's 400 "Unable to get OAuth 2.0 Login Challenge." with Hydra's status in the details.</summary>
    public async Task<JsonObject> GetLoginRequestAsync(string challenge, CancellationToken ct)
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
    /// Kratos's <c>AcceptLoginRequest</c> body (the identity as subject, the session as the identity provider session, its
    /// methods as <c>amr</c>, remembered as the session cookie is, for the session lifespan). Gatehouse also sends the
    /// session's assurance level as <c>acr</c> (<c>aal1</c>/<c>aal2</c>), so a client that asked for <c>acr_values=aal2</c>
    /// can see what it got.
    /// </summary>
    public async Task<string> AcceptLoginRequestAsync(string challenge, Session session, CancellationToken ct)
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

    /// <summary>Hydra's client errors as 400 (5xx as 500) with Hydra's status code in the details.</summary>
    private static GatehouseError Failed(string reason, int status, string hint) =>
        new(status >= 500 ? 500 : 400, reason, details: new JsonObject { ["status_code"] = status, ["oauth2_error_hint"] = hint });
}
