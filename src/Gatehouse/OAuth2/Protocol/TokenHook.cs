using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http.Outbound;
using Gatehouse.OAuth2.Clients;
using Gatehouse.OAuth2.Flows;
using Gatehouse.OAuth2.Keys;

namespace Gatehouse.OAuth2.Protocol;

/// <summary>What a grant tells the token hook about the request (Hydra's <c>oauth2.Request</c> / <c>Requester</c>).</summary>
public sealed record TokenHookRequest(string ClientId, IReadOnlyList<string> RequestedScopes, IReadOnlyList<string> GrantedScopes,
    IReadOnlyList<string> GrantedAudience, IFormCollection Form)
{
    public string GrantType => Form["grant_type"].ToString();
}

/// <summary>
/// Hydra's token hooks (<c>oauth2/token_hook.go</c>, <c>oauth2/refresh_hook.go</c>), run by the token endpoint after a
/// grant's request was validated and before anything is issued or spent (Hydra's <c>oauth2TokenExchange</c> runs its
/// <c>AccessRequestHooks</c> between fosite's <c>NewAccessRequest</c> and <c>NewAccessResponse</c>): first the legacy
/// <c>oauth2.refresh_token_hook</c> (refresh_token grant only), then <c>oauth2.token_hook</c> (every grant). Each is a JSON
/// POST of the session and the request; a 200 answer's <c>session.access_token</c> and <c>session.id_token</c> replace the
/// tokens' custom claims, 204 keeps them, 403 is <c>access_denied</c> and any other answer <c>server_error</c>.
/// The client is Hydra's <c>RegistrySQL.HTTPClient</c>: 30 s per attempt, two retries (go-retryablehttp's policy and
/// back-off: connection errors, time-outs, 429 and 5xx but 501; 1 s then 2 s, or the answer's <c>Retry-After</c>), and
/// <c>clients.http.disallow_private_ip_ranges</c> applies (<see cref="PrivateNetworkGuard"/>) to every hop of the redirects
/// Go's client follows (<see cref="SendFollowingRedirectsAsync"/>). The API key is never logged.
/// </summary>
public sealed partial class TokenHook(IHttpClientFactory httpClients, OAuth2Settings settings, JsonWebKeyManager keys, TimeProvider time, ILogger<TokenHook> logger)
{
    public const string ClientName = "oauth2_token_hook";

    /// <summary>Hydra's <c>ResilientClientWithConnectionTimeout(30*time.Second)</c>: the whole attempt, answer included.</summary>
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Hydra's <c>ResilientClientWithMaxRetry(2)</c>.</summary>
    public const int MaxRetries = 2;

    /// <summary>Hydra reads at most 5 MiB of the answer.</summary>
    public const int MaxAnswerBytes = 5 << 20;

    private static readonly TimeSpan RetryWaitMin = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RetryWaitMax = TimeSpan.FromSeconds(30);
    private const string GoZeroTime = "0001-01-01T00:00:00Z";

    /// <summary>Whether either hook is configured (grants skip all hook work otherwise).</summary>
    public bool Configured => settings.HasTokenHooks;

    /// <summary>
    /// Runs the hooks for a login/consent grant (authorization_code, refresh_token, device_code) with Hydra's session of
    /// the flow (<c>updateSessionWithRequest</c>); returns the claims the tokens are issued with.
    /// </summary>
    public async Task<SessionClaims> RunForFlowAsync(TokenHookRequest request, OAuth2Flow flow, SessionClaims claims, OAuth2ClientDocument client,
        TimeSpan accessLifespan, TimeSpan? refreshLifespan, CancellationToken ct)
    {
        var authorize = AuthorizeRequest.Load(flow.Request);
        var login = JsonNode.Parse(flow.Login) as JsonObject ?? [];
        var consent = JsonNode.Parse(flow.Consent) as JsonObject ?? [];
        var now = time.GetUtcNow().UtcDateTime;
        var idKid = (await keys.GetSigningKeyAsync(JsonWebKeyManager.IdTokenSet, ct)).Key.Kid;
        var expiresAt = new JsonObject { ["access_token"] = GoTime(now + accessLifespan) };
        if (refreshLifespan is { } rl && rl >= TimeSpan.Zero) expiresAt["refresh_token"] = GoTime(now + rl);
        var session = new JsonObject
        {
            ["id_token"] = new JsonObject
            {
                ["id_token_claims"] = new JsonObject
                {
                    ["jti"] = "",
                    ["iss"] = settings.Issuer,
                    ["sub"] = flow.Subject,
                    ["aud"] = new JsonArray(request.ClientId),
                    ["nonce"] = authorize.Nonce,
                    ["exp"] = GoZeroTime,
                    ["iat"] = GoTime(flow.RequestedAt),
                    ["rat"] = GoTime(flow.RequestedAt),
                    ["auth_time"] = login["authenticated_at"] is JsonValue at ? GoTime(DateTimeOffset.FromUnixTimeSeconds(at.GetValue<long>()).UtcDateTime) : GoZeroTime,
                    ["at_hash"] = "",
                    ["acr"] = login["acr"]?.GetValue<string>() ?? "",
                    ["amr"] = login["amr"] is JsonArray { Count: > 0 } amr ? amr.DeepClone() : null,
                    ["c_hash"] = "",
                    ["ext"] = claims.IdToken?.DeepClone(),
                },
                ["headers"] = new JsonObject { ["extra"] = new JsonObject { ["kid"] = idKid } },
                ["expires_at"] = expiresAt,
                ["subject"] = flow.Subject,
            },
            ["extra"] = claims.AccessToken?.DeepClone(),
            ["kid"] = await AccessTokenKidAsync(client, ct),
            ["client_id"] = request.ClientId,
            ["consent_challenge"] = consent["consent_request_id"]?.GetValue<string>() ?? flow.Pk.ToString("N"),
        };
        AddSettings(session);
        return await RunAsync(request, session, flow.Subject, ct) ?? claims;
    }

    /// <summary>
    /// Runs the hooks for a grant without a login (client_credentials, jwt-bearer) with the session Hydra's token endpoint
    /// makes for it (<c>NewSessionWithCustomClaims</c> and the <c>oauth2TokenExchange</c> additions); returns the access
    /// token's claims (null: keep none, as the session's empty <c>Extra</c>).
    /// </summary>
    public async Task<JsonObject?> RunForClientAsync(TokenHookRequest request, string subject, OAuth2ClientDocument client, TimeSpan accessLifespan, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var session = new JsonObject
        {
            ["id_token"] = new JsonObject
            {
                ["id_token_claims"] = new JsonObject
                {
                    ["jti"] = "",
                    ["iss"] = settings.Issuer,
                    ["sub"] = "",
                    ["aud"] = null,
                    ["nonce"] = "",
                    ["exp"] = GoZeroTime,
                    ["iat"] = GoTime(now),
                    ["rat"] = GoZeroTime,
                    ["auth_time"] = GoZeroTime,
                    ["at_hash"] = "",
                    ["acr"] = "",
                    ["amr"] = null,
                    ["c_hash"] = "",
                    ["ext"] = null,
                },
                ["headers"] = new JsonObject { ["extra"] = null },
                ["expires_at"] = new JsonObject { ["access_token"] = GoTime(now + accessLifespan) },
                ["subject"] = subject,
            },
            ["extra"] = new JsonObject(),
            ["kid"] = await AccessTokenKidAsync(client, ct),
            ["client_id"] = request.ClientId,
            ["consent_challenge"] = "",
        };
        AddSettings(session);
        return (await RunAsync(request, session, subject, ct))?.AccessToken ?? new JsonObject();
    }

    private void AddSettings(JsonObject session)
    {
        session["exclude_not_before_claim"] = settings.ExcludeNotBeforeClaim;
        session["allowed_top_level_claims"] = new JsonArray([.. settings.AllowedTopLevelClaims.Select(c => (JsonNode)c)]);
        session["mirror_top_level_claims"] = settings.MirrorTopLevelClaims;
    }

    private async Task<string> AccessTokenKidAsync(OAuth2ClientDocument client, CancellationToken ct)
    {
        var strategy = client.AccessTokenStrategy is { Length: > 0 } own ? own : settings.AccessTokenStrategy;
        return strategy == "jwt" ? (await keys.GetSigningKeyAsync(JsonWebKeyManager.AccessTokenSet, ct)).Key.Kid : "";
    }

    /// <summary>Both hooks in Hydra's order (<c>RegistrySQL.AccessRequestHooks</c>); null when neither changed the session.</summary>
    private async Task<SessionClaims?> RunAsync(TokenHookRequest request, JsonObject session, string subject, CancellationToken ct)
    {
        var changed = false;
        if (settings.RefreshTokenHook is { } legacy && request.Form["grant_type"] is { Count: 1 } g && g[0] == "refresh_token")
        {
            var body = new JsonObject
            {
                ["subject"] = subject,
                ["session"] = session.DeepClone(),
                ["requester"] = new JsonObject
                {
                    ["client_id"] = request.ClientId,
                    ["granted_scopes"] = Array(request.GrantedScopes),
                    ["granted_audience"] = Array(request.GrantedAudience),
                    ["grant_types"] = Array(request.Form["grant_type"]!),
                },
                ["client_id"] = request.ClientId,
                ["granted_scopes"] = Array(request.GrantedScopes),
                ["granted_audience"] = Array(request.GrantedAudience),
            };
            changed |= await CallAsync("refresh_token_hook", legacy, body, session, ct);
        }
        if (settings.TokenHook is { } hook)
        {
            var body = new JsonObject
            {
                ["session"] = session.DeepClone(),
                ["request"] = new JsonObject
                {
                    ["client_id"] = request.ClientId,
                    ["requested_scopes"] = Array(request.RequestedScopes),
                    ["granted_scopes"] = Array(request.GrantedScopes),
                    ["granted_audience"] = Array(request.GrantedAudience),
                    ["grant_types"] = Array(request.Form["grant_type"]!),
                    ["payload"] = Payload(request.Form),
                },
            };
            changed |= await CallAsync("token_hook", hook, body, session, ct);
        }
        return changed ? new SessionClaims(session["extra"] as JsonObject, session["id_token"]?["id_token_claims"]?["ext"] as JsonObject) : null;
    }

    private static JsonArray Array(IEnumerable<string?> values) => new([.. values.Select(v => (JsonNode?)v)]);

    /// <summary>The request form as fosite's <c>Sanitize([]string{"assertion"})</c> leaves it: grant_type, response_type, scope, client_id, assertion (Go sorts map keys).</summary>
    private static JsonObject Payload(IFormCollection form)
    {
        var payload = new JsonObject();
        foreach (var key in new[] { "assertion", "client_id", "grant_type", "response_type", "scope" })
        {
            if (form.TryGetValue(key, out var values)) payload[key] = Array(values!);
        }
        return payload;
    }

    /// <summary>One hook call (<c>executeHookAndUpdateSession</c>); true when a 200 answer replaced the session's claims.</summary>
    private async Task<bool> CallAsync(string key, TokenHookOptions hook, JsonObject body, JsonObject session, CancellationToken ct)
    {
        if (hook.Auth is { } auth && auth.Type != "api_key")
            throw new OAuth2Error(500, "server_error", "An error occurred while applying the token hook authentication.")
                .WithDebug($"Unable to apply the token hook authentication: unsupported auth type '{auth.Type}'");
        var payload = JsonSerializer.SerializeToUtf8Bytes(body, HookJson);
        var (status, answer) = await SendAsync(key, hook, payload, ct);
        switch (status)
        {
            case 200:
                break;
            case 204:
                return false;
            // Hydra oauth2/token_hook.go executeHookAndUpdateSession: the debug text names Go's resp.Status.
            case 403:
                throw new OAuth2Error(403, "access_denied", "The token hook target responded with an error.").WithDebug(StatusDebug(status));
            default:
                throw new OAuth2Error(500, "server_error", "The token hook target responded with an error.").WithDebug(StatusDebug(status));
        }
        if (!TryDecode(answer, out var accessToken, out var idToken))
        {
            LogUndecodable(logger, key, hook.Url);
            throw new OAuth2Error(500, "server_error", "The token hook target responded with an error.")
                .WithDebug("Response from token hook could not be decoded: expected a JSON object with session.access_token and session.id_token objects");
        }
        session["extra"] = accessToken;
        ((JsonObject)session["id_token"]!["id_token_claims"]!)["ext"] = idToken;
        return true;
    }

    private static string StatusDebug(int status) =>
        $"Token hook responded with HTTP status code: {status} {Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status)}".TrimEnd();

    private static readonly JsonSerializerOptions HookJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Go's <c>json.Decoder.Decode</c> of <c>TokenHookResponse</c>: the first JSON value of the answer; <c>session</c>,
    /// <c>access_token</c> and <c>id_token</c> matched by name (exactly, else ignoring case, as Go does), each an object or
    /// null; anything else is a decode error. Unknown fields are ignored.
    /// </summary>
    private static bool TryDecode(byte[] answer, out JsonObject? accessToken, out JsonObject? idToken)
    {
        accessToken = idToken = null;
        JsonNode? root;
        try
        {
            var reader = new Utf8JsonReader(answer);
            if (!reader.Read()) return false;
            using var doc = JsonDocument.ParseValue(ref reader);
            root = JsonNode.Parse(doc.RootElement.GetRawText());
        }
        catch (JsonException)
        {
            return false;
        }
        if (root is null) return true;
        if (root is not JsonObject o) return false;
        var session = Field(o, "session");
        if (session is null) return true;
        if (session is not JsonObject s) return false;
        var a = Field(s, "access_token");
        var i = Field(s, "id_token");
        if (a is not (null or JsonObject) || i is not (null or JsonObject)) return false;
        accessToken = (JsonObject?)a?.DeepClone();
        idToken = (JsonObject?)i?.DeepClone();
        return true;
    }

    private static JsonNode? Field(JsonObject o, string name) =>
        o.TryGetPropertyValue(name, out var exact) ? exact : o.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>go-retryablehttp's <c>Do</c> with Hydra's settings: the final answer, or <c>server_error</c> when every attempt failed.</summary>
    private async Task<(int Status, byte[] Body)> SendAsync(string key, TokenHookOptions hook, byte[] payload, CancellationToken ct)
    {
        using var client = httpClients.CreateClient(ClientName);
        for (var attempt = 0; ; attempt++)
        {
            using var timeout = new CancellationTokenSource(AttemptTimeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
            TimeSpan? retryAfter = null;
            string failure;
            try
            {
                using var response = await SendFollowingRedirectsAsync(client, hook, payload, linked.Token);
                var status = (int)response.StatusCode;
                if (!(status is 429 or >= 500 && status != 501))
                {
                    var body = await WebHookSender.ReadLimitedAsync(response.Content, MaxAnswerBytes, linked.Token);
                    LogAnswered(logger, key, hook.Url, status);
                    return (status, body);
                }
                failure = $"answered {status}";
                if (status is 429 or 503 && response.Headers.RetryAfter?.Delta is { } delta) retryAfter = delta;
                else if (status is 429 or 503 && response.Headers.TryGetValues("Retry-After", out var raw)
                    && int.TryParse(raw.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)) retryAfter = TimeSpan.FromSeconds(seconds);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                failure = $"did not answer within {AttemptTimeout.TotalSeconds:0}s";
            }
            catch (HttpRequestException e)
            {
                failure = "could not be reached: " + e.Message;
            }
            catch (TooManyRedirectsException e)
            {
                failure = e.Message;
            }
            LogAttemptFailed(logger, key, hook.Url, attempt + 1, failure);
            if (attempt >= MaxRetries)
                // Hydra's debug text is Go's error, which names the URL; only the failure here (the URL may carry a secret).
                throw new OAuth2Error(500, "server_error", "An error occurred while executing the token hook.").WithDebug("Unable to execute HTTP Request: " + failure);
            var wait = retryAfter ?? TimeSpan.FromTicks(Math.Min(RetryWaitMax.Ticks, RetryWaitMin.Ticks << attempt));
            await Task.Delay(wait, time, ct);
        }
    }

    /// <summary>Go's <c>http.Client</c> limit (<c>defaultCheckRedirect</c>).</summary>
    public const int MaxRedirects = 10;

    private sealed class TooManyRedirectsException() : Exception($"stopped after {MaxRedirects} redirects");

    /// <summary>
    /// One attempt as Go's <c>http.Client.Do</c> (the client inside go-retryablehttp, whose requests carry <c>GetBody</c>)
    /// makes it: redirects are followed, at most <see cref="MaxRedirects"/>; <c>301</c>/<c>302</c>/<c>303</c> continue with
    /// a <c>GET</c> without the body, <c>307</c>/<c>308</c> repeat the <c>POST</c> with it; a redirect without
    /// <c>Location</c> is the answer. The headers go along — except <c>Cookie</c> (an API key sent as a cookie) once a hop
    /// leaves the host and its subdomains (Go's <c>shouldCopyHeaderOnRedirect</c>) — with Go's <c>Referer</c>. Every hop
    /// goes through the same client, so <c>clients.http.disallow_private_ip_ranges</c> guards each one.
    /// </summary>
    private static async Task<HttpResponseMessage> SendFollowingRedirectsAsync(HttpClient client, TokenHookOptions hook, byte[] payload, CancellationToken ct)
    {
        var url = new Uri(hook.Url);
        var initialHost = url.IdnHost;
        var method = HttpMethod.Post;
        var withBody = true;
        var sendCookie = true;
        Uri? referer = null;
        for (var hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(method, url);
            if (withBody)
            {
                request.Content = new ByteArrayContent(payload);
                request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/json; charset=UTF-8");
            }
            if (hook.Auth?.Config is { } apiKey)
            {
                // applyAuth: a header or a cookie; with neither "in", Hydra sends the key nowhere.
                if (apiKey.In == "header") request.Headers.TryAddWithoutValidation(apiKey.Name, apiKey.Value);
                else if (apiKey.In == "cookie" && sendCookie) request.Headers.TryAddWithoutValidation("Cookie", $"{apiKey.Name}={apiKey.Value}");
            }
            // Go's refererForURL: the last URL without user info, not from https to http.
            if (referer is not null && !(referer.Scheme == Uri.UriSchemeHttps && url.Scheme == Uri.UriSchemeHttp))
                request.Headers.TryAddWithoutValidation("Referer", referer.GetComponents(UriComponents.HttpRequestUrl, UriFormat.UriEscaped));
            var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            var status = (int)response.StatusCode;
            if (status is not (301 or 302 or 303 or 307 or 308) || response.Headers.Location is not { } location) return response;
            response.Dispose();
            if (hop + 1 > MaxRedirects) throw new TooManyRedirectsException();
            referer = url;
            url = location.IsAbsoluteUri ? location : new Uri(url, location);
            if (status is 301 or 302 or 303)
            {
                method = HttpMethod.Get;
                withBody = false;
            }
            // Go strips the sensitive headers for good once a hop leaves the first host and its subdomains.
            var host = url.IdnHost;
            if (!(host.Equals(initialHost, StringComparison.OrdinalIgnoreCase) || host.EndsWith("." + initialHost, StringComparison.OrdinalIgnoreCase))) sendCookie = false;
        }
    }

    private static string GoTime(DateTime t) => DateTime.SpecifyKind(t, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Information, Message = "oauth2.{Key} POST {Url} answered {Status}")]
    private static partial void LogAnswered(ILogger logger, string key, LoggedUrl url, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "oauth2.{Key} POST {Url}: attempt {Attempt} failed: {Failure}")]
    private static partial void LogAttemptFailed(ILogger logger, string key, LoggedUrl url, int attempt, string failure);

    [LoggerMessage(Level = LogLevel.Warning, Message = "oauth2.{Key} POST {Url}: the 200 answer is not a token hook response ({{\"session\":{{\"access_token\":{{…}},\"id_token\":{{…}}}}}})")]
    private static partial void LogUndecodable(ILogger logger, string key, LoggedUrl url);
}
