using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Outbound;
using Gatehouse.Sessions;

namespace Gatehouse.SelfService.Flows.Login;

/// <summary>
/// An external Ory Hydra as the flows' OAuth2 provider (<c>oauth2_provider.url</c>), reached through its admin API as
/// Kratos v26.2 reaches it (<c>hydra/hydra.go</c> <c>DefaultHydra</c>, with hydra-client-go v2.2.1):
/// <c>GET {url}/admin/oauth2/auth/requests/login?login_challenge=</c> and
/// <c>PUT {url}/admin/oauth2/auth/requests/login/accept?login_challenge=</c> with a JSON body, every request carrying the
/// <c>oauth2_provider.headers</c> (set, replacing any of the same name: ory/x <c>httpx.WrapTransportWithHeader</c>), over
/// Kratos's outgoing client rules (30 s per call, <c>clients.http.disallow_private_ip_ranges</c>).
/// </summary>
/// <remarks>
/// Kratos's client (ory/x <c>NewResilientClient</c>) also retries a refused connection or a 5xx answer twice, after 1 s
/// and 2 s; Gatehouse calls once and answers the failure at once.
/// </remarks>
public sealed partial class HydraAdminLoginProvider(IHttpClientFactory httpClients, GatehouseOptions options, ILogger<HydraAdminLoginProvider> logger)
    : IOAuth2LoginProvider
{
    public const string ClientName = "oauth2_provider";

    /// <summary>Kratos's <c>HTTPClient</c>: <c>ResilientClientWithConnectionTimeout(30 * time.Second)</c>, the whole call's timeout.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public const string LoginRequestPath = "/admin/oauth2/auth/requests/login";
    public const string AcceptLoginRequestPath = "/admin/oauth2/auth/requests/login/accept";

    /// <summary>Bodies larger than this are not read (a login request is a few kilobytes).</summary>
    private const int MaxAnswerBytes = 1024 * 1024;

    private const string GetReason = "Unable to get OAuth 2.0 Login Challenge.";
    private const string AcceptReason = "Unable to accept OAuth 2.0 Login Challenge.";

    /// <summary>
    /// Kratos's <c>GetLoginRequest</c>: Hydra's 2xx answer is the login request. Otherwise 400 (500 when Hydra answered
    /// 5xx or could not be reached) "Unable to get OAuth 2.0 Login Challenge." with Hydra's <c>status_code</c> and, when
    /// Hydra answered an error object, its <c>error_hint</c> as <c>oauth2_error_hint</c> in the details. A used challenge
    /// (Hydra's 410 with <c>redirect_to</c>) is not an error object, so it has no hint.
    /// </summary>
    public async Task<JsonObject> GetLoginRequestAsync(string challenge, CancellationToken ct)
    {
        if (challenge.Length == 0) throw GatehouseError.BadRequest("invalid login_challenge");
        var (status, body) = await SendAsync(HttpMethod.Get, LoginRequestPath, challenge, null, GetReason, ct);
        if (status is >= 200 and < 300 && body is JsonObject request) return request;
        throw Failed(status >= 500 ? 500 : 400, GetReason, status, status == 410 ? null : body);
    }

    /// <summary>
    /// Kratos's <c>AcceptLoginRequest</c>: <c>subject</c> (the identity), <c>identity_provider_session_id</c> (the
    /// session), <c>remember</c> (<c>session.cookie.persistent</c>), <c>remember_for</c> (<c>session.lifespan</c> in
    /// seconds) and <c>amr</c> (the session's methods in order); nothing else. Any failure is 500 "Unable to accept OAuth
    /// 2.0 Login Challenge." with Hydra's <c>status_code</c> and <c>oauth2_error_hint</c> in the details when it answered.
    /// </summary>
    public async Task<string> AcceptLoginRequestAsync(string challenge, Session session, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(session);
        var amr = new JsonArray();
        foreach (var method in SessionJson.ParseMethods(session.AuthenticationMethods).OfType<JsonObject>())
        {
            if (method["method"] is JsonValue name && name.TryGetValue<string>(out var text)) amr.Add(text);
        }
        var body = new JsonObject
        {
            ["subject"] = session.IdentityId.ToString(),
            ["identity_provider_session_id"] = session.Id.ToString(),
            ["remember"] = options.Session.Cookie.Persistent,
            ["remember_for"] = (long)options.Session.Lifespan.TotalSeconds,
            ["amr"] = amr,
        };
        var (status, answer) = await SendAsync(HttpMethod.Put, AcceptLoginRequestPath, challenge, body, AcceptReason, ct);
        if (status is >= 200 and < 300 && answer?["redirect_to"] is JsonValue to && to.TryGetValue<string>(out var redirectTo)) return redirectTo;
        throw Failed(500, AcceptReason, status, answer);
    }

    /// <summary>One admin call: Hydra's status and its body parsed as JSON (null when it is not JSON).</summary>
    private async Task<(int Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, string challenge, JsonObject? body, string reason, CancellationToken ct)
    {
        var url = options.Oauth2Provider.Url!.TrimEnd('/') + path + "?login_challenge=" + Uri.EscapeDataString(challenge);
        using var request = new HttpRequestMessage(method, url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        ConfiguredHeaders.Set(request, options.Oauth2Provider.Headers);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Timeout);
        try
        {
            using var client = httpClients.CreateClient(ClientName);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var bytes = await WebHookSender.ReadLimitedAsync(response.Content, MaxAnswerBytes, timeout.Token);
            JsonNode? json;
            try
            {
                json = bytes.Length == 0 ? null : JsonNode.Parse(bytes);
            }
            catch (JsonException)
            {
                json = null;
            }
            var status = (int)response.StatusCode;
            if (status is < 200 or >= 300) LogRefused(logger, method.Method, path, status);
            return (status, json);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            LogUnreachable(logger, method.Method, path, $"no answer within {Timeout.TotalSeconds:0} s");
            throw new GatehouseError(500, reason);
        }
        catch (HttpRequestException e)
        {
            LogUnreachable(logger, method.Method, path, e.Message);
            throw new GatehouseError(500, reason);
        }
    }

    /// <summary>
    /// Kratos's error: Hydra's status in <c>status_code</c>; <c>oauth2_error_hint</c> (empty when Hydra sent none — Hydra
    /// v26.2 sends <c>error</c> and <c>error_description</c> only) when the answer was a JSON object.
    /// </summary>
    private static GatehouseError Failed(int code, string reason, int status, JsonNode? answer)
    {
        var details = new JsonObject { ["status_code"] = status };
        if (answer is JsonObject error)
            details["oauth2_error_hint"] = error["error_hint"] is JsonValue hint && hint.TryGetValue<string>(out var text) ? text : "";
        return new GatehouseError(code, reason, details: details);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "oauth2_provider {Method} {Path} answered {Status}")]
    private static partial void LogRefused(ILogger logger, string method, string path, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "oauth2_provider {Method} {Path} could not be reached: {Reason}")]
    private static partial void LogUnreachable(ILogger logger, string method, string path, string reason);
}
