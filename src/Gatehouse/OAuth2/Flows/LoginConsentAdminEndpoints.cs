using Gatehouse.Http.Json;

namespace Gatehouse.OAuth2.Flows;

/// <summary>Hydra's login and consent request admin API (<c>OAuth2Api</c>: get/accept/reject login and consent requests).</summary>
public static class LoginConsentAdminEndpoints
{
    public const string LoginRequest = "/oauth2/auth/requests/login";
    public const string AcceptLogin = "/oauth2/auth/requests/login/accept";
    public const string RejectLogin = "/oauth2/auth/requests/login/reject";
    public const string ConsentRequest = "/oauth2/auth/requests/consent";
    public const string AcceptConsent = "/oauth2/auth/requests/consent/accept";
    public const string RejectConsent = "/oauth2/auth/requests/consent/reject";

    public static RouteGroupBuilder MapLoginConsentAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet(LoginRequest, async (HttpContext http, LoginConsentService s) =>
            await WriteAsync(http, await s.GetLoginRequestAsync(Challenge(http, "login_challenge"), http.RequestAborted)));
        admin.MapPut(AcceptLogin, async (HttpContext http, LoginConsentService s) =>
            await WriteAsync(http, await s.AcceptLoginAsync(Challenge(http, "login_challenge"), await BodyAsync(http), http.RequestAborted)));
        admin.MapPut(RejectLogin, async (HttpContext http, LoginConsentService s) =>
            await WriteAsync(http, await s.RejectLoginAsync(Challenge(http, "login_challenge"), await BodyAsync(http), http.RequestAborted)));
        admin.MapGet(ConsentRequest, async (HttpContext http, LoginConsentService s) =>
            await WriteAsync(http, await s.GetConsentRequestAsync(Challenge(http, "consent_challenge"), http.RequestAborted)));
        admin.MapPut(AcceptConsent, async (HttpContext http, LoginConsentService s) =>
            await WriteAsync(http, await s.AcceptConsentAsync(Challenge(http, "consent_challenge"), await BodyAsync(http), http.RequestAborted)));
        admin.MapPut(RejectConsent, async (HttpContext http, LoginConsentService s) =>
            await WriteAsync(http, await s.RejectConsentAsync(Challenge(http, "consent_challenge"), await BodyAsync(http), http.RequestAborted)));
        return admin;
    }

    /// <summary>Hydra reads <c>login_challenge</c> (or <c>consent_challenge</c>), or plain <c>challenge</c>.</summary>
    private static string Challenge(HttpContext http, string name)
    {
        var q = http.Request.Query;
        var value = q[name].ToString();
        return value.Length > 0 ? value : q["challenge"].ToString();
    }

    /// <summary>The JSON body; a malformed one is Hydra's "Unable to decode body because: …" <c>invalid_request</c>.</summary>
    private static async Task<System.Text.Json.Nodes.JsonNode?> BodyAsync(HttpContext http)
    {
        try
        {
            return await HttpJson.ParseBodyAsync(http.Request, http.RequestAborted);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw JsonBody.Decode(e.Message);
        }
    }

    private static Task WriteAsync(HttpContext http, LoginConsentService.AdminAnswer answer) => HttpJson.WriteAsync(http, answer.Status, answer.Body);
}
