using Gatehouse.Http.Json;
using Gatehouse.OAuth2.Flows;
using Gatehouse.OAuth2.Protocol;
using Gatehouse.RateLimiting;

namespace Gatehouse.OAuth2.Device;

/// <summary>
/// The device authorization grant's routes: <c>oAuth2DeviceFlow</c> (<c>POST /oauth2/device/auth</c>),
/// <c>performOAuth2DeviceVerificationFlow</c> (<c>GET /oauth2/device/verify</c>) on the public listener and
/// <c>acceptUserCodeRequest</c> (<c>PUT /admin/oauth2/auth/requests/device/accept</c>) in the admin API.
/// </summary>
public static class DeviceEndpoints
{
    public const string DeviceAuth = "/oauth2/device/auth";
    public const string Verify = DeviceFlowService.VerifyPath;
    public const string AcceptUserCode = "/oauth2/auth/requests/device/accept";

    public static RouteGroupBuilder MapDevicePublic(this RouteGroupBuilder root)
    {
        root.MapPost(DeviceAuth, AuthorizeDevice);
        root.MapGet(Verify, VerifyAsync);
        return root;
    }

    public static RouteGroupBuilder MapDeviceAdmin(this RouteGroupBuilder admin)
    {
        admin.MapPut(AcceptUserCode, async (HttpContext http, DeviceFlowService devices) =>
        {
            System.Text.Json.Nodes.JsonNode? body;
            try
            {
                body = await HttpJson.ParseBodyAsync(http.Request, http.RequestAborted);
            }
            catch (System.Text.Json.JsonException e)
            {
                throw OAuth2Error.InvalidRequest("Unable to decode request body: " + e.Message);
            }
            var answer = await devices.AcceptUserCodeAsync(http.Request.Query["device_challenge"].ToString(), body, http.RequestAborted);
            await HttpJson.WriteAsync(http, answer.Status, answer.Body);
        });
        return admin;
    }

    private static async Task AuthorizeDevice(HttpContext http, ClientAuthenticator authenticator, DeviceFlowService devices)
    {
        var form = await TokenEndpoints.ReadFormAsync(http);
        if (form.Count == 0) throw OAuth2Error.InvalidRequest("The POST body can not be empty.");
        var client = await authenticator.AuthenticateAsync(http.Request, form, http.RequestAborted);
        var answer = await devices.AuthorizeAsync(client, form, http.RequestAborted);
        http.Response.Headers.CacheControl = "no-store";
        http.Response.Headers.Pragma = "no-cache";
        await HttpJson.WriteAsync(http, 200, answer);
    }

    /// <summary>
    /// Hydra's four steps on one URL: no verifier starts a device challenge; <c>device_verifier</c> starts the login;
    /// <c>login_verifier</c> leads on to consent; <c>consent_verifier</c> completes the device authorization. There is no
    /// client redirect URI to send errors to, and Hydra does not forward them to <c>urls.error</c> either: its handler writes
    /// every error of this route with its JSON writer (<c>oauth2/handler.go</c> <c>performOAuth2DeviceVerificationFlow</c>),
    /// so they are Hydra's error JSON here too, whether or not <c>urls.error</c> is set.
    /// </summary>
    private static async Task VerifyAsync(HttpContext http, DeviceFlowService devices, LoginConsentService flows, OAuth2Settings settings, RateLimiter limiter)
    {
        var ct = http.RequestAborted;
        var q = http.Request.Query;
        string? Cookie(string name) => OAuth2Cookies.Read(http.Request, settings, name);
        http.Response.Headers.CacheControl = "no-store";
        LoginConsentService.Redirect next;
        try
        {
            if (q["device_verifier"] is { Count: > 0 } dv) next = await devices.HandleDeviceVerifierAsync(dv.ToString().Trim(), q["client_id"].ToString(), Cookie, ct);
            else if (q["login_verifier"] is { Count: > 0 } lv) next = await flows.HandleLoginVerifierAsync(lv.ToString().Trim(), Cookie, ct, device: true);
            else if (q["consent_verifier"] is { Count: > 0 } cv) next = await devices.HandleConsentVerifierAsync(cv.ToString().Trim(), Cookie, ct);
            else
            {
                // A new device challenge per visit: counted like a new self-service flow (flows_per_address).
                if (limiter.ClientBucket(http) is { } bucket) await limiter.EnforceAsync(RateLimitKind.FlowsPerAddress, bucket, ct);
                next = await devices.StartVerificationAsync(q, ct);
            }
        }
        catch (AuthorizeError e)
        {
            // The login/consent steps name a client redirect target; the device flow has none, so the error itself is answered.
            throw e.Error;
        }
        OAuth2Cookies.Write(http.Response, settings, next.Cookies);
        http.Response.Redirect(next.Location);
    }
}
