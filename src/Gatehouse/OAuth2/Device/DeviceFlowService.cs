using Gatehouse.Http.Json;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.OAuth2.Clients;
using Gatehouse.OAuth2.Flows;
using Gatehouse.OAuth2.Protocol;
using Gatehouse.OAuth2.Tokens;

namespace Gatehouse.OAuth2.Device;

/// <summary>
/// The device authorization grant (RFC 8628) as Hydra v26.2 serves it (<c>fosite/handler/rfc8628</c>,
/// <c>oauth2/handler.go</c> <c>oAuth2DeviceFlow</c> / <c>performOAuth2DeviceVerificationFlow</c>,
/// <c>consent/strategy_default.go</c> <c>HandleOAuth2DeviceAuthorizationRequest</c>, <c>consent/handler.go</c>
/// <c>acceptUserCodeRequest</c>): the device asks <c>/oauth2/device/auth</c> for a device code and a user code; the user
/// opens <c>/oauth2/device/verify</c>, which sends the browser to the user-code page with a device challenge; the page
/// accepts the user code through the admin API and gets the way on (a device verifier); the browser then goes through the
/// usual login and consent challenges, back at <c>/oauth2/device/verify</c>, and ends at <c>urls.device.success</c>;
/// meanwhile the device polls <c>/oauth2/token</c> with <c>grant_type=urn:ietf:params:oauth:grant-type:device_code</c>.
/// </summary>
public sealed class DeviceFlowService(IOAuth2DeviceStore store, LoginConsentService flows, OAuth2TokenService tokens, FlowTokenIssuer issuer,
    OAuth2Settings settings, GatehouseOptions options, TimeProvider time)
{
    public const string GrantType = "urn:ietf:params:oauth:grant-type:device_code";
    public const string DeviceCodePrefix = "ory_dc_";
    public const string VerifyPath = "/oauth2/device/verify";

    /// <summary>Hydra's device CSRF cookie (<c>serve.cookies.names.device_csrf</c>).</summary>
    private string CsrfCookie => settings.DeviceCsrfCookie;

    /// <summary>
    /// User codes one device challenge takes (Gatehouse addition: Hydra does not limit them). A new challenge needs a new
    /// visit of <c>/oauth2/device/verify</c>, which counts against the address's <c>flows_per_address</c> limit.
    /// </summary>
    public const int MaxUserCodeAttempts = 5;

    private const string DeviceAcceptGoType = "flow.AcceptDeviceUserCodeRequest";

    private readonly byte[] _userCodeKey = SHA256.HashData(Encoding.UTF8.GetBytes("gatehouse-device-user-code\n"
        + (options.Secrets.Default.FirstOrDefault() ?? options.Secrets.Cookie.FirstOrDefault() ?? "")));

    // ---- POST /oauth2/device/auth ----

    /// <summary>fosite's <c>NewDeviceRequest</c> checks, then a new device code and user code (Hydra's <c>deviceAuthorization</c>).</summary>
    public async Task<JsonObject> AuthorizeAsync(OAuth2ClientService.Loaded client, IFormCollection form, CancellationToken ct)
    {
        if (client.ClientId != form["client_id"].ToString()) throw OAuth2Error.InvalidRequest("Provided client_id mismatch.");
        var doc = client.Document;
        if (!doc.GrantTypes.Contains(GrantType))
            throw OAuth2Error.InvalidGrant($"The requested OAuth 2.0 Client does not have the '{GrantType}' grant.");
        var scopes = ScopeStrategy.Split(form["scope"].ToString());
        var allowed = ScopeStrategy.Split(doc.Scope);
        foreach (var s in scopes)
        {
            if (!settings.AllowsScope(allowed, s)) throw OAuth2Error.InvalidScope($"The OAuth 2.0 Client is not allowed to request scope '{s}'.");
        }
        var audience = TokenEndpoints.RequestedAudience(form);
        foreach (var a in audience)
        {
            if (!doc.Audience.Contains(a)) throw OAuth2Error.InvalidRequest($"Requested audience '{a}' has not been whitelisted by the OAuth 2.0 Client.");
        }

        var now = Now();
        var deviceCode = OpaqueToken.New(DeviceCodePrefix);
        // A user code that clashes with a stored one is drawn again (fosite tries three times).
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var userCode = NewUserCode();
            var request = new OAuth2DeviceRequest
            {
                Pk = Guid.CreateVersion7(),
                DeviceCode = OpaqueToken.Hash(deviceCode),
                UserCode = UserCodeHash(userCode),
                ClientId = client.ClientId,
                Scope = string.Join(' ', scopes),
                Audience = JsonSerializer.Serialize(audience),
                State = OAuth2DeviceRequestState.Pending,
                PollInterval = settings.DevicePollingInterval,
                RequestedAt = now,
                ExpiresAt = now + settings.DeviceUserCodeLifespan,
            };
            if (!await store.AddRequestAsync(request, ct)) continue;
            var verificationUri = settings.Endpoint(VerifyPath);
            return new JsonObject
            {
                ["device_code"] = deviceCode,
                ["user_code"] = userCode,
                ["verification_uri"] = verificationUri,
                ["verification_uri_complete"] = verificationUri + "?user_code=" + Uri.EscapeDataString(userCode),
                ["expires_in"] = (long)(request.ExpiresAt - now).TotalSeconds,
                ["interval"] = settings.DevicePollingInterval,
            };
        }
        throw OAuth2Error.ServerError("Exceeded user-code generation max attempts 3.");
    }

    // ---- GET /oauth2/device/verify (no verifier): the device challenge ----

    /// <summary>
    /// Hydra's <c>forwardDeviceRequest</c>: a device challenge bound to this browser by the device CSRF cookie, and the way
    /// to the user-code page (<c>urls.device.verification</c>, else the built-in page), carrying <c>user_code</c> along.
    /// </summary>
    public async Task<LoginConsentService.Redirect> StartVerificationAsync(IQueryCollection query, CancellationToken ct)
    {
        var page = settings.EffectiveDeviceVerificationUrl
            ?? throw OAuth2Error.ServerError("The device verification UI is not configured: set urls.device.verification, or turn the built-in pages on (ui.enabled).");
        var challenge = NewSecret();
        var csrf = NewSecret();
        var now = Now();
        // Hydra keeps the request URL without the user code (it is not to be stored).
        var kept = query.Where(kv => !kv.Key.Equals("user_code", StringComparison.OrdinalIgnoreCase))
            .SelectMany(kv => kv.Value.Select(v => new KeyValuePair<string, string?>(kv.Key, v)));
        var requestUrl = Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString(settings.Endpoint(VerifyPath), kept);
        await store.AddChallengeAsync(new OAuth2DeviceChallenge
        {
            Pk = Guid.CreateVersion7(),
            Challenge = Hash(challenge),
            Csrf = Hash(csrf),
            RequestUrl = requestUrl,
            ExpiresAt = now + settings.LoginConsentRequestLifespan,
        }, ct);
        var location = LoginConsentService.WithQuery(page, "device_challenge", challenge);
        if (query.TryGetValue("user_code", out var userCode)) location = LoginConsentService.WithQuery(location, "user_code", userCode.ToString());
        return new LoginConsentService.Redirect(location, new LoginConsentService.Cookie(CsrfCookie, csrf, settings.LoginConsentRequestLifespan));
    }

    // ---- PUT /admin/oauth2/auth/requests/device/accept ----

    /// <summary>
    /// <c>acceptUserCodeRequest</c>: the user code must belong to a pending, unexpired device authorization; then the
    /// answer is <c>{redirect_to}</c>, the way back to <c>/oauth2/device/verify</c> with a device verifier. Each challenge
    /// takes <see cref="MaxUserCodeAttempts"/> user codes, counted atomically before the code is looked up. As in Hydra
    /// v26.2, accepting changes neither the challenge (a stateless flow there, <c>flow.DecodeFromDeviceChallenge</c>) nor
    /// the user code, which stays unused until the consent is given (<c>performOAuth2DeviceVerificationFlow</c> sets
    /// <c>UserCodeAccepted</c>; <c>GetUserCodeSession</c> refuses it only then): the same challenge and user code may be
    /// accepted again — also after a verifier started a login — each time with a new verifier, which replaces the previous one.
    /// </summary>
    public async Task<LoginConsentService.AdminAnswer> AcceptUserCodeAsync(string challenge, JsonNode? body, CancellationToken ct)
    {
        if (challenge.Length == 0) throw OAuth2Error.InvalidRequest("Query parameter 'device_challenge' is not defined but should have been.");
        // Hydra decodes with encoding/json: "Unable to decode request body: <Go's error>".
        if (body is null) throw OAuth2Error.InvalidRequest("Unable to decode request body: EOF");
        if (body is not JsonObject o) throw OAuth2Error.InvalidRequest($"Unable to decode request body: json: cannot unmarshal {GoJsonKind.Of(body)} into Go value of type {DeviceAcceptGoType}");
        var userCode = o["user_code"] switch
        {
            null => "",
            JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
            var other => throw OAuth2Error.InvalidRequest($"Unable to decode request body: json: cannot unmarshal {GoJsonKind.Of(other)} into Go struct field AcceptDeviceUserCodeRequest.user_code of type string"),
        };
        if (userCode.Length == 0) throw OAuth2Error.InvalidRequest("Field 'user_code' must not be empty.");

        var found = challenge.Length > 200 ? null : await store.FindChallengeAsync(Hash(challenge), ct);
        if (found is null) throw OAuth2Error.NotFoundResource();
        if (found.ExpiresAt <= Now())
            throw new OAuth2Error(401, "request_unauthorized", "The request could not be authorized. Check that you provided valid credentials in the right format.", "The device request has expired, please try again.");
        if (!await store.TakeAttemptAsync(found.Pk, MaxUserCodeAttempts, ct))
            throw OAuth2Error.InvalidRequest($"Too many user codes were tried for this device challenge; open {settings.Endpoint(VerifyPath)} again.");

        var request = userCode.Length > 200 ? null : await FindByUserCodeAsync(userCode, ct);
        if (request is null || request.State != OAuth2DeviceRequestState.Pending || request.ExpiresAt <= Now())
            throw OAuth2Error.InvalidRequest("The 'user_code' session could not be found or has expired or is otherwise malformed.");

        var verifier = NewSecret();
        // The row is gone only if the janitor removed it meanwhile: then it is as unknown as a challenge never issued.
        if (!await store.AcceptChallengeAsync(found.Pk, request.Pk, Hash(verifier), ct)) throw OAuth2Error.NotFoundResource();
        // The login needs the client: Hydra appends client_id to the request URL.
        var back = LoginConsentService.SetQuery(LoginConsentService.SetQuery(found.RequestUrl, "client_id", request.ClientId), "device_verifier", verifier);
        return new LoginConsentService.AdminAnswer(200, new JsonObject { ["redirect_to"] = back });
    }

    // ---- GET /oauth2/device/verify?device_verifier= ----

    /// <summary>
    /// Hydra's <c>verifyDevice</c> then <c>requestAuthentication</c>: spends the verifier (once, from the browser holding
    /// the device CSRF cookie) and starts the login for the device authorization's client, scopes and audience.
    /// </summary>
    public async Task<LoginConsentService.Redirect> HandleDeviceVerifierAsync(string verifier, string clientId, Func<string, string?> cookie, CancellationToken ct)
    {
        var spent = verifier.Length is > 0 and < 200 ? await store.SpendVerifierAsync(Hash(verifier), ct) : null;
        if (spent is null || spent.DeviceRequestId is not { } requestId)
            throw OAuth2Error.AccessDenied("The device verifier has already been used, has not been granted, or is invalid.");
        if (spent.ExpiresAt <= Now()) throw OAuth2Error.InvalidRequest("The device request has expired, please try again.");
        if (cookie(CsrfCookie) is not { Length: > 0 and < 200 } csrf || !CryptographicOperations.FixedTimeEquals(spent.Csrf, Hash(csrf)))
            throw new OAuth2Error(403, "request_forbidden", "The request is not allowed.",
                "No CSRF value available in the session cookie, or it does not match the one of the device request. Make sure the flow is completed in the browser that started it.");
        if (clientId.Length == 0) throw ClientAuthenticator.InvalidClient("Query parameter 'client_id' is missing.");
        var request = await store.FindRequestAsync(requestId, ct);
        if (request is null || request.ClientId != clientId) throw ClientAuthenticator.InvalidClient("Client does not exist");
        if (request.State != OAuth2DeviceRequestState.Pending || request.ExpiresAt <= Now())
            throw OAuth2Error.InvalidRequest("The 'user_code' session could not be found or has expired or is otherwise malformed.");

        var authorize = new AuthorizeRequest
        {
            ClientId = request.ClientId,
            Scope = ScopeStrategy.Split(request.Scope),
            Audience = JsonSerializer.Deserialize<string[]>(request.Audience) ?? [],
            RequestUrl = LoginConsentService.SetQuery(settings.Endpoint(VerifyPath), "client_id", request.ClientId),
            DeviceRequestId = request.Pk,
        };
        return await flows.StartAsync(authorize, cookie(settings.SessionCookie), ct);
    }

    // ---- GET /oauth2/device/verify?consent_verifier= ----

    /// <summary>
    /// Hydra's <c>performOAuth2DeviceVerificationFlow</c> after consent: the device authorization is marked accepted with the
    /// flow that granted it (its next token request gets the tokens), and the browser goes to <c>urls.device.success</c>.
    /// </summary>
    public async Task<LoginConsentService.Redirect> HandleConsentVerifierAsync(string verifier, Func<string, string?> cookie, CancellationToken ct)
    {
        var spent = await flows.SpendConsentVerifierAsync(verifier, cookie, device: true, ct);
        var requestId = spent.Request.DeviceRequestId!.Value;
        if (!await store.ChangeRequestStateAsync(requestId, OAuth2DeviceRequestState.Pending, OAuth2DeviceRequestState.Accepted, spent.Flow.Pk, ct))
            throw OAuth2Error.InvalidRequest("The device authorization was answered already, or has expired.");
        return new LoginConsentService.Redirect(LoginConsentService.WithQuery(settings.DeviceSuccessUrl, "client_id", spent.Client.ClientId));
    }

    // ---- POST /oauth2/token, grant_type=urn:ietf:params:oauth:grant-type:device_code ----

    /// <summary>
    /// RFC 8628 3.4/3.5 as fosite's <c>DeviceCodeTokenEndpointHandler</c>: <c>authorization_pending</c> until the user
    /// answered, <c>access_denied</c> when login or consent was rejected, <c>expired_token</c> after
    /// <c>ttl.device_user_code</c>, <c>slow_down</c> when polled faster than the interval; once accepted, the device code
    /// is spent atomically for the tokens of the consent (a second use is <c>invalid_grant</c> and revokes them).
    /// </summary>
    public async Task<JsonObject> ExchangeAsync(OAuth2ClientService.Loaded client, IFormCollection form, CancellationToken ct)
    {
        if (!client.Document.GrantTypes.Contains(GrantType))
            throw TokenEndpoints.UnauthorizedClient($"The OAuth 2.0 Client is not allowed to use authorization grant \"{GrantType}\".");
        var code = form["device_code"].ToString();
        var hash = OpaqueToken.Hash(code);
        var request = OpaqueToken.LooksValid(code) ? await store.FindRequestByDeviceCodeAsync(hash, ct) : null;
        if (request is null || !CryptographicOperations.FixedTimeEquals(request.DeviceCode, hash)) throw OAuth2Error.InvalidGrant("");
        if (request.ClientId != client.ClientId)
            throw OAuth2Error.InvalidGrant("The OAuth 2.0 Client ID from this request does not match the one from the authorize request.");
        if (request.State == OAuth2DeviceRequestState.Used) throw await ReusedAsync(request, ct);
        var now = Now();
        if (request.ExpiresAt <= now)
            throw new OAuth2Error(400, "expired_token", "The device_code has expired, and the device authorization session has concluded.",
                $"Device code expired at '{request.ExpiresAt:yyyy-MM-dd HH:mm:ss} +0000 UTC'.");
        if (!await store.PollAsync(request.Pk, time.GetUtcNow().UtcDateTime, ct))
            throw new OAuth2Error(400, "slow_down", "The authorization request was rate-limited to prevent system overload.",
                "Ensure that you don't call the token endpoint sooner than the polling interval");
        switch (request.State)
        {
            case OAuth2DeviceRequestState.Pending:
                throw new OAuth2Error(400, "authorization_pending", "The authorization request is still pending as the end user hasn't yet completed the user-interaction steps.");
            case OAuth2DeviceRequestState.Denied:
                throw new OAuth2Error(403, "access_denied", "The resource owner or authorization server denied the request.",
                    "Make sure that the request you are making is valid. Maybe the credential or request parameters you are using are limited in scope or otherwise restricted.");
        }
        var flow = await flows.FindFlowAsync(request.FlowId!.Value, ct) ?? throw OAuth2Error.InvalidGrant("");
        var consent = LoginConsentService.Parse(flow.Consent);
        var scope = consent["grant_scope"]?.AsArray().Select(x => x!.GetValue<string>()).ToArray() ?? [];
        var audience = consent["grant_access_token_audience"]?.AsArray().Select(x => x!.GetValue<string>()).ToArray() ?? [];
        // The token hooks run before the device code is spent (Hydra runs them before fosite's PopulateTokenEndpointResponse).
        var claims = await issuer.RunHooksAsync(client, flow, "device_authorization", AuthorizeRequest.Load(flow.Request).Scope, scope, audience, form, null, ct);
        if (!await store.ChangeRequestStateAsync(request.Pk, OAuth2DeviceRequestState.Accepted, OAuth2DeviceRequestState.Used, null, ct))
            throw await ReusedAsync(request, ct);
        return await issuer.IssueAsync(client, flow, "device_authorization", scope, audience, ct, claims);
    }

    /// <summary>A spent device code presented again (or by a concurrent request): the tokens it gave are revoked, as fosite's handler does for a reused code.</summary>
    private async Task<OAuth2Error> ReusedAsync(OAuth2DeviceRequest request, CancellationToken ct)
    {
        if (request.FlowId is { } flowId) await tokens.RevokeRequestAsync(flowId, ct);
        return OAuth2Error.InvalidGrant("The device code has already been used.");
    }

    /// <summary>The pending device authorization of a user code (for the built-in page's checks), or null.</summary>
    public async Task<OAuth2DeviceRequest?> FindByUserCodeAsync(string userCode, CancellationToken ct)
    {
        var hash = UserCodeHash(userCode);
        var request = await store.FindRequestByUserCodeAsync(hash, ct);
        return request is not null && CryptographicOperations.FixedTimeEquals(request.UserCode, hash) ? request : null;
    }

    private string NewUserCode()
    {
        var symbols = settings.UserCodeSymbols;
        return string.Create(settings.UserCodeLength, symbols, (span, s) =>
        {
            for (var i = 0; i < span.Length; i++) span[i] = s[RandomNumberGenerator.GetInt32(s.Length)];
        });
    }

    private byte[] UserCodeHash(string userCode) => HMACSHA256.HashData(_userCodeKey, Encoding.UTF8.GetBytes(userCode));

    private static string NewSecret() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    private static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    private DateTime Now()
    {
        var now = time.GetUtcNow().UtcDateTime;
        return new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
    }
}
