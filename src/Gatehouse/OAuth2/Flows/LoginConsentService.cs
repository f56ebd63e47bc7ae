using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.OAuth2.Clients;
using Gatehouse.OAuth2.Protocol;
using Gatehouse.OAuth2.Tokens;

namespace Gatehouse.OAuth2.Flows;

/// <summary>
/// Hydra's login and consent challenge protocol (<c>consent/strategy_default.go</c>, <c>consent/handler.go</c>):
/// <c>/oauth2/auth</c> sends the browser to <c>urls.login</c> with a login challenge; the login app accepts or rejects it
/// through the admin API and gets the URL back to <c>/oauth2/auth</c> with a login verifier; that sends the browser to
/// <c>urls.consent</c> with a consent challenge; the consent app's accept leads back with a consent verifier, for which
/// the authorization code is issued. Every challenge and verifier is a random string of which only the hash is stored;
/// each step spends the previous one by a state change that only one request can make.
/// </summary>
public sealed class LoginConsentService(IOAuth2FlowStore flows, OAuth2ClientService clients, OAuth2TokenService tokens, OAuth2Settings settings, IdTokenHints hints, TimeProvider time, Device.IOAuth2DeviceStore devices, FlowVerifiers verifiers, FlowTokenIssuer issuer, IdTokens idTokens)
{
    /// <summary>
    /// A redirect the browser is sent to, with the cookies to set (or clear) on the way: <c>302</c> to the login and consent
    /// apps as Hydra's strategy sends it (the client's answer is an <see cref="AuthorizeResponse"/>).
    /// </summary>
    public sealed record Redirect(string Location, params IReadOnlyList<Cookie> Cookies)
    {
        public int Status { get; init; } = StatusCodes.Status302Found;
    }

    /// <summary>
    /// A cookie for the browser: a CSRF cookie binding a login or consent step to the browser that started it (Hydra's
    /// <c>ory_hydra_*_csrf_*</c>, for <c>ttl.login_consent_request</c>), or the remembered login (<see cref="SessionCookie"/>).
    /// A null <paramref name="Value"/> clears the cookie.
    /// </summary>
    public sealed record Cookie(string Name, string? Value, TimeSpan? MaxAge = null);

    /// <summary>Hydra's login session cookie (<c>serve.cookies.names.session</c>, <see cref="OAuth2Settings.SessionCookie"/>).</summary>
    private string SessionCookie => settings.SessionCookie;

    /// <summary>What a login or consent admin call answers: 200 <c>{redirect_to}</c>, or 410 for a request already used.</summary>
    public sealed record AdminAnswer(int Status, JsonObject Body);

    private const string LoginGoType = "flow.HandledLoginRequest";
    private const string ConsentGoType = "flow.AcceptOAuth2ConsentRequest";
    private const string RejectGoType = "flow.RequestDeniedError";

    // ---- /oauth2/auth: a new request ----

    /// <summary>
    /// Starts the flow: 302 to the login app with a login challenge. A remembered login of this browser
    /// (<paramref name="sessionCookie"/>) makes it a login request with <c>skip: true</c> and the session's subject, unless
    /// <c>prompt=login</c> (or <c>select_account</c>) or <c>max_age</c> asks for a new login (Hydra's <c>requestAuthentication</c>).
    /// </summary>
    public async Task<Redirect> StartAsync(AuthorizeRequest request, string? sessionCookie, CancellationToken ct)
    {
        var to = request.ErrorTarget;
        var now = Now();
        var remembered = request.Prompt.Contains("login") || request.Prompt.Contains("select_account") ? null : await RememberedAsync(sessionCookie, ct);
        if (remembered is not null && request.MaxAge is { } maxAge && now - remembered.AuthenticatedAt > TimeSpan.FromSeconds(Math.Min(maxAge, MaxSeconds)))
        {
            if (request.Prompt.Contains("none"))
                throw new AuthorizeError(OAuth2Error.LoginRequired("Request failed because prompt is set to 'none' and authentication time reached 'max_age'."), to);
            remembered = null;
        }
        if (request.Prompt.Contains("none") && remembered is null)
            throw new AuthorizeError(OAuth2Error.LoginRequired("Prompt 'none' was requested, but no existing login session was found."), to);
        if (request.IdTokenHint.Length > 0)
        {
            // Hydra: the hint must be an ID token of this server (expired is fine) and, with a remembered login, name its subject.
            JsonObject hint;
            try
            {
                hint = await hints.DecodeAsync(request.IdTokenHint, ct);
            }
            catch (OAuth2Error e)
            {
                throw new AuthorizeError(e, to);
            }
            if (remembered is not null)
            {
                var hintSubject = IdTokenHints.Subject(hint);
                if (hintSubject.Length == 0)
                    throw new AuthorizeError(OAuth2Error.InvalidRequest("Failed to validate OpenID Connect request because provided id token from id_token_hint does not have a subject."), to);
                // Hydra's matchesValueFromSession: the hint may name the subject itself, the client's pairwise subject, or an
                // identifier some login forced for this client (GetForcedObfuscatedLoginSession looks it up by client and
                // identifier alone, not by subject).
                var client = await clients.FindAsync(request.ClientId, ct) ?? throw new AuthorizeError(ClientAuthenticator.InvalidClient("The requested OAuth 2.0 Client does not exist."), to);
                var obfuscated = SubjectFor(client, remembered.Subject, "", to);
                if (hintSubject != remembered.Subject && hintSubject != obfuscated && !await flows.IsForcedSubjectIdentifierAsync(client.ClientId, hintSubject, ct))
                    throw new AuthorizeError(OAuth2Error.LoginRequired("Request failed because subject claim from id_token_hint does not match subject from authentication session."), to);
            }
            request = request with { IdTokenHintClaims = hint };
        }
        var challenge = NewSecret();
        var csrf = NewSecret();
        var login = new JsonObject
        {
            ["session_id"] = (remembered?.Id ?? Guid.CreateVersion7()).ToString(),
            ["csrf"] = Convert.ToBase64String(Hash(csrf)),
            ["skip"] = remembered is not null,
        };
        if (remembered is not null) login["authenticated_at"] = UnixSeconds(remembered.AuthenticatedAt);
        await flows.AddAsync(new OAuth2Flow
        {
            Pk = Guid.CreateVersion7(),
            ClientId = request.ClientId,
            Subject = remembered?.Subject ?? "",
            State = OAuth2FlowState.LoginUnused,
            LoginChallenge = Hash(challenge),
            Request = request.Serialize(),
            Login = login.ToJsonString(),
            RequestedAt = now,
            ExpiresAt = now + settings.LoginConsentRequestLifespan,
        }, ct);
        // Hydra consent/strategy_default.go forwardAuthenticationRequest: prompt=registration goes to urls.registration, and
        // identity_schema is passed on.
        var loginUrl = WithQuery(request.Prompt.Contains("registration") ? settings.EffectiveRegistrationUrl : settings.EffectiveLoginUrl, "login_challenge", challenge);
        if (request.IdentitySchema.Length > 0) loginUrl = WithQuery(loginUrl, "identity_schema", request.IdentitySchema);
        return new Redirect(loginUrl, new Cookie(CsrfCookie("login", request.ClientId), csrf, settings.LoginConsentRequestLifespan));
    }

    // ---- login admin API ----

    public async Task<AdminAnswer> GetLoginRequestAsync(string challenge, CancellationToken ct)
    {
        var (flow, request) = await FindLoginAsync(challenge, keep: true, ct);
        if (flow.State != OAuth2FlowState.LoginUnused) return Gone(request);
        var client = await clients.FindAsync(flow.ClientId, ct) ?? throw OAuth2Error.NotFoundResource();
        var login = Parse(flow.Login);
        return new AdminAnswer(200, new JsonObject
        {
            ["challenge"] = challenge,
            ["requested_scope"] = Strings(request.Scope),
            ["requested_access_token_audience"] = Strings(request.Audience),
            ["skip"] = login["skip"]?.GetValue<bool>() ?? false,
            ["subject"] = flow.Subject,
            ["oidc_context"] = request.OidcContext(),
            ["client"] = client.ToJson(),
            ["request_url"] = request.RequestUrl,
            ["session_id"] = login["session_id"]?.GetValue<string>() ?? "",
        });
    }

    public async Task<AdminAnswer> AcceptLoginAsync(string challenge, JsonNode? body, CancellationToken ct)
    {
        var o = JsonBody.Object(body, LoginGoType);
        var subject = JsonBody.String(o, "subject", LoginGoType);
        var remember = JsonBody.Bool(o, "remember", LoginGoType);
        var rememberFor = JsonBody.Int(o, "remember_for", LoginGoType);
        var acr = JsonBody.String(o, "acr", LoginGoType);
        var amr = JsonBody.Strings(o, "amr", LoginGoType);
        var idpSession = JsonBody.String(o, "identity_provider_session_id", LoginGoType);
        var forceSubject = JsonBody.String(o, "force_subject_identifier", LoginGoType);
        var extend = JsonBody.Bool(o, "extend_session_lifespan", LoginGoType);
        if (subject.Length == 0) throw OAuth2Error.InvalidRequest("Field 'subject' must not be empty.");
        if (subject.Length > 255) throw OAuth2Error.InvalidRequest("Field 'subject' must be at most 255 characters long.");
        if (rememberFor < 0) throw OAuth2Error.InvalidRequest("Field 'remember_for' must not be negative.");

        var (flow, request) = await FindLoginAsync(challenge, keep: false, ct);
        if (flow.State is not (OAuth2FlowState.LoginUnused)) return Gone(request);
        var login = Parse(flow.Login);
        var skip = login["skip"]?.GetValue<bool>() ?? false;
        // Another subject than the remembered one: Hydra sends the browser back with prompt=login, to log in again.
        if (skip && subject != flow.Subject) return Redirected(SetQuery(request.RequestUrl, "prompt", "login"));
        var handled = new JsonObject
        {
            ["session_id"] = login["session_id"]?.DeepClone(),
            ["csrf"] = login["csrf"]?.DeepClone(),
            ["skip"] = skip,
            ["subject"] = subject,
            // A skipped login stays remembered, so that the next request can skip too (Hydra).
            ["remember"] = remember || skip,
            ["remember_for"] = rememberFor,
            ["acr"] = acr,
            ["amr"] = Strings(amr),
            ["context"] = o["context"]?.DeepClone() ?? new JsonObject(),
            ["identity_provider_session_id"] = idpSession,
            ["force_subject_identifier"] = forceSubject,
            ["extend_session_lifespan"] = extend,
            // Skipped: the remembered login's time; else the user authenticated now (Hydra truncates to the second).
            ["authenticated_at"] = skip && login["authenticated_at"] is JsonValue at ? at.GetValue<long>() : UnixSeconds(Now()),
        };
        var verifier = verifiers.For(FlowVerifiers.Login, challenge);
        flow.Subject = subject;
        flow.Login = handled.ToJsonString();
        flow.LoginVerifier = Hash(verifier);
        // Accepting again before the verifier was used replaces the earlier answer; the verifier stays the same, so the
        // first answer's redirect_to leads to the latest one (in Hydra either works once).
        if (!await flows.UpdateAsync(flow, OAuth2FlowState.LoginUnused, ct)) return Gone(request);
        return Redirected(WithQuery(request.RequestUrl, "login_verifier", verifier));
    }

    public async Task<AdminAnswer> RejectLoginAsync(string challenge, JsonNode? body, CancellationToken ct)
    {
        var error = ReadDenial(body, "login request denied");
        var (flow, request) = await FindLoginAsync(challenge, keep: false, ct);
        if (flow.State != OAuth2FlowState.LoginUnused) return Gone(request);
        var verifier = verifiers.For(FlowVerifiers.Login, challenge);
        var login = Parse(flow.Login);
        login["error"] = error;
        flow.Login = login.ToJsonString();
        flow.LoginVerifier = Hash(verifier);
        flow.State = OAuth2FlowState.LoginError;
        if (!await flows.UpdateAsync(flow, OAuth2FlowState.LoginUnused, ct)) return Gone(request);
        return Redirected(WithQuery(request.RequestUrl, "login_verifier", verifier));
    }

    // ---- /oauth2/auth?login_verifier= ----

    /// <summary>
    /// Back from the login app: spends the login verifier, remembers the login for the browser when the login app said so
    /// (the <see cref="SessionCookie"/>), and sends the browser to the consent app (or the error to the client).
    /// </summary>
    /// <param name="device">The verifier arrived at <c>/oauth2/device/verify</c>: only a device authorization's flow is accepted there, and only there.</param>
    public async Task<Redirect> HandleLoginVerifierAsync(string verifier, Func<string, string?> cookie, CancellationToken ct, bool device = false)
    {
        var flow = await flows.FindByLoginVerifierAsync(Hash(verifier), ct);
        var request = flow is null ? null : AuthorizeRequest.Load(flow.Request);
        if (flow is null || request!.DeviceRequestId.HasValue != device)
            throw AuthorizeError.Untrusted(OAuth2Error.AccessDenied("The login verifier has already been used, has not been granted, or is invalid."));
        var to = await SpendableAsync(flow, request, "login", OAuth2FlowState.LoginUnused, OAuth2FlowState.LoginError, flow.Login, ct);
        var login = Parse(flow.Login);
        CheckCsrf(login, cookie(CsrfCookie("login", flow.ClientId)), to);
        var skip = login["skip"]?.GetValue<bool>() ?? false;
        var authenticatedAt = login["authenticated_at"]!.GetValue<long>();
        var sessionId = Guid.Parse(login["session_id"]!.GetValue<string>());
        // Hydra's verifyAuthentication: the subject the client will see, which an id_token_hint must name (fosite's ValidatePrompt).
        var client = await clients.FindAsync(flow.ClientId, ct) ?? throw new AuthorizeError(ClientAuthenticator.InvalidClient("The requested OAuth 2.0 Client does not exist."), to);
        var subjectIdentifier = SubjectFor(client, flow.Subject, login["force_subject_identifier"]?.GetValue<string>() ?? "", to);
        if (request.IdTokenHintClaims is { } hintClaims && IdTokenHints.Subject(hintClaims).Length == 0)
            throw new AuthorizeError(OAuth2Error.InvalidRequest("Failed to validate OpenID Connect request because provided id token from id_token_hint does not have a subject."), to);
        // fosite's ValidatePrompt, on the times Hydra keeps (seconds): the login must fit prompt, max_age and id_token_hint.
        var requestedAt = UnixSeconds(flow.RequestedAt);
        string? promptProblem =
            request.Prompt.Contains("none") && authenticatedAt > requestedAt ? "Failed to validate OpenID Connect request because prompt was set to 'none' but auth_time happened after the authorization request was registered, indicating that the user was logged in during this request which is not allowed."
            : request.Prompt.Contains("login") && authenticatedAt < requestedAt ? "Failed to validate OpenID Connect request because prompt was set to 'login' but auth_time happened before the authorization request was registered, indicating that the user was not re-authenticated which is forbidden."
            : request.MaxAge is { } maxAge && authenticatedAt + Math.Min(maxAge, MaxSeconds) < requestedAt ? "Failed to validate OpenID Connect request because authentication time does not satisfy max_age time."
            : request.IdTokenHintClaims is { } hint && IdTokenHints.Subject(hint).Length > 0 && IdTokenHints.Subject(hint) != subjectIdentifier
                ? "Failed to validate OpenID Connect request because the subject from provided id token from id_token_hint does not match the current session's subject."
            : null;
        if (promptProblem is not null)
        {
            // Hydra forgets the browser's remembered login then.
            await ForgetAsync(cookie(SessionCookie), ct);
            throw new AuthorizeError(OAuth2Error.LoginRequired(promptProblem), to);
        }
        // verifyAuthentication keeps a forced identifier per client and subject (CreateForcedObfuscatedLoginSession).
        if (login["force_subject_identifier"]?.GetValue<string>() is { Length: > 0 } forced)
            await flows.SaveForcedSubjectIdentifierAsync(flow.ClientId, flow.Subject, forced, ct);

        // Consent: remembered consents that cover every requested scope and audience let the consent app skip asking.
        var consentSkip = false;
        // A device is never authorized from a remembered consent: the user confirms each device (Hydra, for public clients).
        if (!request.Prompt.Contains("consent") && !device && await flows.FindRememberedConsentAsync(flow.ClientId, flow.Subject, Now(), ct) is { } remembered)
        {
            var granted = Parse(remembered.Consent);
            var scopes = granted["grant_scope"]?.AsArray().Select(x => x!.GetValue<string>()).ToArray() ?? [];
            var audiences = granted["grant_access_token_audience"]?.AsArray().Select(x => x!.GetValue<string>()).ToHashSet() ?? [];
            consentSkip = request.Scope.All(s => settings.AllowsScope(scopes, s)) && request.Audience.All(audiences.Contains);
        }
        if (request.Prompt.Contains("none") && !consentSkip)
            throw new AuthorizeError(OAuth2Error.ConsentRequired("Prompt 'none' was requested, but no previous consent was found."), to);
        if (settings.EffectiveConsentUrl is not { } consentUrl)
            throw new AuthorizeError(OAuth2Error.ServerError("The consent UI is not configured: set urls.consent, or turn the built-in pages on (ui.enabled)."), to);

        var challenge = NewSecret();
        var csrf = NewSecret();
        flow.State = OAuth2FlowState.ConsentUnused;
        flow.ConsentChallenge = Hash(challenge);
        flow.LoginSessionId = sessionId;
        flow.ConsentSkip = consentSkip;
        // The consent request id is the flow's id, so that a consent session can be revoked by it.
        flow.Consent = new JsonObject { ["consent_request_id"] = flow.Pk.ToString("N"), ["skip"] = consentSkip, ["csrf"] = Convert.ToBase64String(Hash(csrf)) }.ToJsonString();
        if (!await flows.UpdateAsync(flow, OAuth2FlowState.LoginUnused, ct)) throw new AuthorizeError(VerifierUsed("login"), to);

        var cookies = new List<Cookie> { new(CsrfCookie("consent", flow.ClientId), csrf, settings.LoginConsentRequestLifespan) };
        if (!skip)
        {
            // Hydra's ConfirmLoginSession: the login is kept (for sid and logout) and, when remembered, given to the browser.
            var remember = login["remember"]?.GetValue<bool>() ?? false;
            var rememberFor = login["remember_for"]?.GetValue<long>() ?? 0;
            var lifespan = rememberFor > 0 ? TimeSpan.FromSeconds(Math.Min(rememberFor, (long)settings.AuthenticationSessionLifespan.TotalSeconds)) : settings.AuthenticationSessionLifespan;
            var secret = remember ? NewSecret() : null;
            if (!remember) cookies.AddRange(await ForgetAsync(cookie(SessionCookie), ct));
            await flows.SaveLoginSessionAsync(new OAuth2LoginSession
            {
                Id = sessionId,
                Subject = flow.Subject,
                AuthenticatedAt = DateTime.UnixEpoch.AddSeconds(authenticatedAt),
                Remember = remember,
                IdentityProviderSessionId = login["identity_provider_session_id"]?.GetValue<string>() ?? "",
                CookieHash = secret is null ? null : Hash(secret),
                ExpiresAt = Now() + lifespan,
            }, ct);
            if (secret is not null) cookies.Add(new Cookie(SessionCookie, secret, lifespan));
        }
        return new Redirect(WithQuery(consentUrl, "consent_challenge", challenge), cookies);
    }

    /// <summary>The remembered login the browser's session cookie names, if any.</summary>
    private async Task<OAuth2LoginSession?> RememberedAsync(string? sessionCookie, CancellationToken ct) =>
        sessionCookie is { Length: > 0 and < 200 } ? await flows.FindRememberedLoginSessionAsync(Hash(sessionCookie), Now(), ct) : null;

    /// <summary>Hydra's <c>revokeAuthenticationSession</c>: deletes the browser's remembered login and clears its cookie.</summary>
    private async Task<Cookie[]> ForgetAsync(string? sessionCookie, CancellationToken ct)
    {
        if (sessionCookie is not { Length: > 0 and < 200 }) return [];
        await flows.DeleteLoginSessionsAsync(null, null, Hash(sessionCookie), ct);
        return [new Cookie(SessionCookie, null)];
    }

    // ---- consent admin API ----

    public async Task<AdminAnswer> GetConsentRequestAsync(string challenge, CancellationToken ct)
    {
        var (flow, request) = await FindConsentAsync(challenge, keep: true, ct);
        if (flow.State != OAuth2FlowState.ConsentUnused) return Gone(request);
        var client = await clients.FindAsync(flow.ClientId, ct) ?? throw OAuth2Error.NotFoundResource();
        return new AdminAnswer(200, ConsentRequestJson(flow, request, client.ToJson(), challenge));
    }

    /// <summary>Hydra's <c>oAuth2ConsentRequest</c> of a flow (with an empty challenge in a consent session, as Hydra lists them).</summary>
    internal static JsonObject ConsentRequestJson(OAuth2Flow flow, AuthorizeRequest request, JsonObject client, string challenge)
    {
        var login = Parse(flow.Login);
        var consent = Parse(flow.Consent);
        return new JsonObject
        {
            ["challenge"] = challenge,
            ["consent_request_id"] = consent["consent_request_id"]?.DeepClone(),
            ["requested_scope"] = Strings(request.Scope),
            ["requested_access_token_audience"] = Strings(request.Audience),
            ["skip"] = consent["skip"]?.GetValue<bool>() ?? false,
            ["subject"] = flow.Subject,
            ["oidc_context"] = request.OidcContext(),
            ["client"] = client,
            ["request_url"] = request.RequestUrl,
            ["login_challenge"] = flow.Pk.ToString(),
            ["login_session_id"] = login["session_id"]?.DeepClone(),
            ["acr"] = login["acr"]?.DeepClone() ?? "",
            ["amr"] = login["amr"]?.DeepClone() ?? new JsonArray(),
            ["context"] = login["context"]?.DeepClone() ?? new JsonObject(),
        };
    }

    public async Task<AdminAnswer> AcceptConsentAsync(string challenge, JsonNode? body, CancellationToken ct)
    {
        var o = JsonBody.Object(body, ConsentGoType);
        var grantScope = JsonBody.Strings(o, "grant_scope", ConsentGoType);
        var grantAudience = JsonBody.Strings(o, "grant_access_token_audience", ConsentGoType);
        var remember = JsonBody.Bool(o, "remember", ConsentGoType);
        var rememberFor = JsonBody.Int(o, "remember_for", ConsentGoType);
        if (rememberFor < 0) throw OAuth2Error.InvalidRequest("Field 'remember_for' must not be negative.");
        JsonObject? accessClaims = null, idClaims = null;
        if (o["session"] is { } session)
        {
            if (session is not JsonObject s) throw JsonBody.Decode($"json: cannot unmarshal {(session is JsonArray ? "array" : "value")} into Go struct field {ConsentGoType}.session of type flow.AcceptOAuth2ConsentRequestSession");
            accessClaims = JsonBody.Claims(s, "access_token", "flow.AcceptOAuth2ConsentRequestSession");
            idClaims = JsonBody.Claims(s, "id_token", "flow.AcceptOAuth2ConsentRequestSession");
        }

        var (flow, request) = await FindConsentAsync(challenge, keep: false, ct);
        if (flow.State != OAuth2FlowState.ConsentUnused) return Gone(request);
        var consent = Parse(flow.Consent);
        var now = Now();
        consent["grant_scope"] = Strings(grantScope.Distinct(StringComparer.Ordinal));
        consent["grant_access_token_audience"] = Strings(grantAudience.Distinct(StringComparer.Ordinal));
        consent["remember"] = remember;
        consent["remember_for"] = rememberFor;
        consent["session"] = new JsonObject { ["access_token"] = accessClaims ?? new JsonObject(), ["id_token"] = idClaims ?? new JsonObject() };
        consent["handled_at"] = now.ToString("O");
        consent.Remove("error");
        if (o["context"] is { } context) consent["context"] = context.DeepClone();
        var verifier = verifiers.For(FlowVerifiers.Consent, challenge);
        flow.Consent = consent.ToJsonString();
        flow.ConsentVerifier = Hash(verifier);
        // remember_for 0 remembers the consent until it is revoked (Hydra); a century stands for "forever".
        flow.ConsentRememberedUntil = remember ? (rememberFor == 0 ? now.AddYears(100) : now.AddSeconds(Math.Min(rememberFor, MaxSeconds))) : null;
        flow.ConsentExpiresAt = rememberFor == 0 ? null : now.AddSeconds(Math.Min(rememberFor, MaxSeconds));
        if (!await flows.UpdateAsync(flow, OAuth2FlowState.ConsentUnused, ct)) return Gone(request);
        return Redirected(WithQuery(request.RequestUrl, "consent_verifier", verifier));
    }

    public async Task<AdminAnswer> RejectConsentAsync(string challenge, JsonNode? body, CancellationToken ct)
    {
        var error = ReadDenial(body, "consent request denied");
        var (flow, request) = await FindConsentAsync(challenge, keep: false, ct);
        if (flow.State != OAuth2FlowState.ConsentUnused) return Gone(request);
        var verifier = verifiers.For(FlowVerifiers.Consent, challenge);
        var consent = Parse(flow.Consent);
        consent["error"] = error;
        consent["handled_at"] = Now().ToString("O");
        flow.Consent = consent.ToJsonString();
        flow.ConsentVerifier = Hash(verifier);
        flow.ConsentRememberedUntil = null;
        flow.ConsentExpiresAt = null;
        flow.State = OAuth2FlowState.ConsentError;
        if (!await flows.UpdateAsync(flow, OAuth2FlowState.ConsentUnused, ct)) return Gone(request);
        return Redirected(WithQuery(request.RequestUrl, "consent_verifier", verifier));
    }

    // ---- /oauth2/auth?consent_verifier= ----

    /// <summary>
    /// Back from the consent app: spends the consent verifier and answers the client in the request's response mode, as
    /// fosite's authorize handlers do for the granted scope: the explicit grant (<c>flow_authorize_code_auth.go</c>:
    /// <c>code</c>, <c>state</c>, <c>scope</c>), the implicit grant (<c>flow_authorize_implicit.go</c>: <c>access_token</c>,
    /// <c>expires_in</c>, <c>token_type</c>, <c>state</c>, <c>scope</c>), OpenID Connect implicit (<c>flow_implicit.go</c>:
    /// that and <c>id_token</c>, or <c>state</c> and <c>id_token</c>) and hybrid (<c>flow_hybrid.go</c>: <c>code</c>, the
    /// access token's parameters with <c>token</c>, <c>state</c>, and with <c>openid</c> granted the <c>id_token</c> with
    /// <c>c_hash</c> and <c>at_hash</c>). Front-channel tokens use the client's <c>implicit_grant_*</c> lifespans and are
    /// stored with the flow as request id, as the code's tokens are.
    /// </summary>
    public async Task<AuthorizeResponse> HandleConsentVerifierAsync(string verifier, Func<string, string?> cookie, CancellationToken ct)
    {
        var (flow, request, client, scope, audience) = await SpendConsentVerifierAsync(verifier, cookie, device: false, ct);
        var to = request.ErrorTarget;
        var types = request.ResponseTypes;
        var openid = scope.Contains("openid", StringComparer.OrdinalIgnoreCase);
        // The request was checked with the requested scope; without openid granted, id_token alone or with token is not answered.
        if (!ResponseTypeSet.HandledAll(types, openid)) throw new AuthorizeError(OAuth2Error.UnsupportedResponseType(), to);

        List<KeyValuePair<string, string>> parameters = [];
        List<OAuth2Token> rows = [];
        TimeSpan? idLifespan;
        try
        {
            // Hybrid and implicit ID tokens live the implicit grant's lifespan; checked before anything is stored.
            idLifespan = openid && ResponseTypeSet.Has(types, "id_token") ? issuer.IdTokenLifespan(client.Document, "implicit") : null;
        }
        catch (OAuth2Error e)
        {
            throw new AuthorizeError(e, to);
        }
        OAuth2TokenService.Issued? code = null, access = null;
        if (ResponseTypeSet.Has(types, "code"))
        {
            code = tokens.New(OAuth2TokenKinds.AuthorizationCode, flow.Pk, client.ClientId, flow.Subject, scope, audience, null, settings.AuthCodeLifespan);
            rows.Add(code.Row);
            parameters.Add(new("code", code.Token));
            if (ResponseTypeSet.ExactOne(types, "code"))
            {
                parameters.Add(new("state", request.State));
                parameters.Add(new("scope", string.Join(' ', scope)));
            }
        }
        if (ResponseTypeSet.Has(types, "token"))
        {
            access = await issuer.NewAccessTokenAsync(client, flow, "implicit", scope, audience, ct);
            rows.Add(access.Row);
            parameters.Add(new("access_token", access.Token));
            parameters.Add(new("expires_in", FlowTokenIssuer.ExpiresIn(access).ToString(System.Globalization.CultureInfo.InvariantCulture)));
            parameters.Add(new("token_type", "bearer"));
            parameters.Add(new("state", request.State));
            parameters.Add(new("scope", string.Join(' ', scope)));
        }
        if (!parameters.Any(p => p.Key == "state")) parameters.Add(new("state", request.State));
        await tokens.AddAsync(rows, ct);
        if (idLifespan is { } lifespan)
            parameters.Add(new("id_token", await idTokens.IssueAsync(flow, request, client.ClientId, access?.Token, time.GetUtcNow().UtcDateTime, lifespan, code?.Token, ct)));
        return new AuthorizeResponse(request.RedirectUri, request.ResponseMode, parameters);
    }

    /// <summary>A spent consent verifier: the flow and what the consent granted.</summary>
    public sealed record SpentConsent(OAuth2Flow Flow, AuthorizeRequest Request, OAuth2ClientService.Loaded Client, string[] Scope, string[] Audience);

    /// <summary>
    /// Spends the consent verifier (once, from the browser holding the consent CSRF cookie) and answers what was granted;
    /// a rejected consent delivers its error. <paramref name="device"/> as for <see cref="HandleLoginVerifierAsync"/>.
    /// </summary>
    public async Task<SpentConsent> SpendConsentVerifierAsync(string verifier, Func<string, string?> cookie, bool device, CancellationToken ct)
    {
        var flow = await flows.FindByConsentVerifierAsync(Hash(verifier), ct);
        var request = flow is null ? null : AuthorizeRequest.Load(flow.Request);
        if (flow is null || request!.DeviceRequestId.HasValue != device)
            throw AuthorizeError.Untrusted(OAuth2Error.AccessDenied("The consent verifier has already been used, has not been granted, or is invalid."));
        var to = await SpendableAsync(flow, request, "consent", OAuth2FlowState.ConsentUnused, OAuth2FlowState.ConsentError, flow.Consent, ct);
        CheckCsrf(Parse(flow.Consent), cookie(CsrfCookie("consent", flow.ClientId)), to);
        var client = await clients.FindAsync(flow.ClientId, ct) ?? throw new AuthorizeError(ClientAuthenticator.InvalidClient("The requested OAuth 2.0 Client does not exist."), to);

        var consent = Parse(flow.Consent);
        var scope = consent["grant_scope"]!.AsArray().Select(x => x!.GetValue<string>()).ToArray();
        var audience = consent["grant_access_token_audience"]!.AsArray().Select(x => x!.GetValue<string>()).ToArray();
        // Hydra's updateSessionWithRequest fixes the ID token's subject now: later changes of the client or the salt do not
        // change it for this grant's tokens (refreshes included).
        consent[SubjectObfuscatedKey] = SubjectFor(client, flow.Subject, Parse(flow.Login)["force_subject_identifier"]?.GetValue<string>() ?? "", to);
        flow.Consent = consent.ToJsonString();
        flow.State = OAuth2FlowState.ConsentUsed;
        if (!await flows.UpdateAsync(flow, OAuth2FlowState.ConsentUnused, ct)) throw new AuthorizeError(VerifierUsed("consent"), to);
        return new SpentConsent(flow, request, client, scope, audience);
    }

    /// <summary>Where the flow's consent keeps the subject its ID tokens and userinfo name (<see cref="SubjectIdentifiers"/>).</summary>
    public const string SubjectObfuscatedKey = "subject_obfuscated";

    private string SubjectFor(OAuth2ClientService.Loaded client, string subject, string forced, AuthorizeError.Target to)
    {
        try
        {
            return SubjectIdentifiers.For(settings, client, subject, forced);
        }
        catch (OAuth2Error e)
        {
            throw new AuthorizeError(e, to);
        }
    }

    /// <summary>The grant's flow (the request id of a code or token), for the token endpoint and userinfo.</summary>
    public Task<OAuth2Flow?> FindFlowAsync(Guid requestId, CancellationToken ct) => flows.FindAsync(requestId, ct);

    // ---- helpers ----

    /// <summary>
    /// Hydra's per-client CSRF cookie names (<c>serve.cookies.names.login_csrf</c> / <c>consent_csrf</c>, then <c>_</c> and the
    /// client's <see cref="OAuth2Cookies.ClientSuffix"/>, as <c>consent/strategy_default.go</c>): the verifier
    /// is only accepted from the browser that was sent to the login (consent) app, so a verifier URL passed to another
    /// browser cannot log that browser in as someone else.
    /// </summary>
    private string CsrfCookie(string step, string clientId) =>
        $"{(step == "login" ? settings.LoginCsrfCookie : settings.ConsentCsrfCookie)}_{OAuth2Cookies.ClientSuffix(clientId)}";

    private static void CheckCsrf(JsonObject answer, string? cookie, AuthorizeError.Target to)
    {
        var expected = answer["csrf"]?.GetValue<string>();
        if (expected is not null && cookie is { Length: > 0 and < 200 }
            && CryptographicOperations.FixedTimeEquals(Convert.FromBase64String(expected), Hash(cookie))) return;
        throw new AuthorizeError(new OAuth2Error(403, "request_forbidden", "The request is not allowed.",
            "No CSRF value available in the session cookie, or it does not match the one of the login/consent request. Make sure the flow is completed in the browser that started it."), to);
    }

    /// <summary>
    /// The checks of a verifier's flow, the same for login and consent: a rejected request delivers its error to the
    /// client (once); otherwise the flow must still wait for this verifier and be unexpired. Returns where errors go.
    /// </summary>
    private async Task<AuthorizeError.Target> SpendableAsync(OAuth2Flow flow, AuthorizeRequest request, string which, int waiting, int rejected, string answer, CancellationToken ct)
    {
        var to = request.ErrorTarget;
        if (flow.State == rejected)
        {
            var denied = Parse(answer)["error"]!.AsObject();
            flow.State = OAuth2FlowState.Done;
            if (!await flows.UpdateAsync(flow, rejected, ct)) throw new AuthorizeError(VerifierUsed(which), to);
            // A device polling for this request learns of the denial (access_denied, RFC 8628 3.5).
            if (request.DeviceRequestId is { } deviceRequest)
                await devices.ChangeRequestStateAsync(deviceRequest, Device.OAuth2DeviceRequestState.Pending, Device.OAuth2DeviceRequestState.Denied, flow.Pk, ct);
            throw new AuthorizeError(Denial(denied), to);
        }
        if (flow.ExpiresAt <= Now()) throw new AuthorizeError(OAuth2Error.InvalidRequest($"The {which} request has expired, please try again."), to);
        if (flow.State != waiting) throw new AuthorizeError(VerifierUsed(which), to);
        return to;
    }

    /// <summary>
    /// The flow (and its request) last read by a login or consent challenge in this request (this service is scoped), kept
    /// by the get methods for an accept or reject of the same challenge: a login or consent app built in (the login flow
    /// with a session, the built-in consent page) gets the request and answers it in one HTTP request, which then reads
    /// the flow once. An accept or reject takes it (it changes the flow) and its conditional update still decides, against
    /// the stored state, whether the answer applies, as after a read of its own.
    /// </summary>
    private (bool Login, byte[] Hash, OAuth2Flow Flow, AuthorizeRequest Request)? _read;

    private Task<(OAuth2Flow Flow, AuthorizeRequest Request)> FindLoginAsync(string challenge, bool keep, CancellationToken ct) =>
        FindByChallengeAsync(challenge, login: true, keep, ct);

    private Task<(OAuth2Flow Flow, AuthorizeRequest Request)> FindConsentAsync(string challenge, bool keep, CancellationToken ct) =>
        FindByChallengeAsync(challenge, login: false, keep, ct);

    private async Task<(OAuth2Flow Flow, AuthorizeRequest Request)> FindByChallengeAsync(string challenge, bool login, bool keep, CancellationToken ct)
    {
        if (challenge.Length == 0) throw OAuth2Error.InvalidRequest("Query parameter 'challenge' is not defined but should have been.");
        if (challenge.Length > 200) throw OAuth2Error.NotFoundResource();
        var hash = Hash(challenge);
        var read = _read;
        _read = null;
        OAuth2Flow? flow;
        AuthorizeRequest request;
        if (read is { } r && r.Login == login && r.Hash.AsSpan().SequenceEqual(hash))
        {
            (flow, request) = (r.Flow, r.Request);
        }
        else
        {
            flow = login ? await flows.FindByLoginChallengeAsync(hash, ct) : await flows.FindByConsentChallengeAsync(hash, ct);
            if (flow is null) throw OAuth2Error.NotFoundResource();
            request = AuthorizeRequest.Load(flow.Request);
        }
        var waiting = login ? OAuth2FlowState.LoginUnused : OAuth2FlowState.ConsentUnused;
        if (flow.ExpiresAt <= Now() && flow.State == waiting) throw OAuth2Error.NotFoundResource(login ? "The login request has expired." : "The consent request has expired.");
        if (keep) _read = (login, hash, flow, request);
        return (flow, request);
    }

    /// <summary>Hydra's <c>RequestDeniedError</c> body, with its defaults (<c>SetDefaults</c>).</summary>
    private static JsonObject ReadDenial(JsonNode? body, string defaultName)
    {
        var o = JsonBody.Object(body, RejectGoType);
        var name = JsonBody.String(o, "error", RejectGoType);
        var description = JsonBody.String(o, "error_description", RejectGoType);
        var hint = JsonBody.String(o, "error_hint", RejectGoType);
        JsonBody.String(o, "error_debug", RejectGoType);
        var status = JsonBody.Int(o, "status_code", RejectGoType);
        return new JsonObject
        {
            ["error"] = name.Length > 0 ? name : defaultName,
            ["error_description"] = description,
            ["error_hint"] = hint,
            ["status_code"] = status is >= 400 and < 600 ? status : 400,
        };
    }

    private static OAuth2Error Denial(JsonObject e) => new(
        (int)e["status_code"]!.GetValue<long>(), e["error"]!.GetValue<string>(), e["error_description"]!.GetValue<string>(), e["error_hint"]!.GetValue<string>());

    /// <summary>Hydra's answer to a verifier spent before (<c>consent/strategy_default.go</c>): <c>access_denied</c>.</summary>
    private static OAuth2Error VerifierUsed(string which) => OAuth2Error.AccessDenied($"The {which} verifier has already been used.");

    private static AdminAnswer Gone(AuthorizeRequest request) => new(410, new JsonObject { ["redirect_to"] = request.RequestUrl });

    private static AdminAnswer Redirected(string url) => new(200, new JsonObject { ["redirect_to"] = url });

    internal static JsonObject Parse(string json) => JsonNode.Parse(json) as JsonObject ?? [];

    private static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode)v)]);

    internal static string WithQuery(string url, string name, string value)
    {
        var fragment = url.IndexOf('#', StringComparison.Ordinal);
        var tail = fragment >= 0 ? url[fragment..] : "";
        var head = fragment >= 0 ? url[..fragment] : url;
        var separator = head.Contains('?', StringComparison.Ordinal) ? (head.EndsWith('?') || head.EndsWith('&') ? "" : "&") : "?";
        return head + separator + Uri.EscapeDataString(name) + "=" + Uri.EscapeDataString(value) + tail;
    }

    /// <summary>A century: longer lifespans and ages are taken as this (keeps time arithmetic in range).</summary>
    private const long MaxSeconds = 100L * 365 * 24 * 3600;

    private static long UnixSeconds(DateTime utc) => (utc.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerSecond;

    /// <summary>The URL with query parameter <paramref name="name"/> set to <paramref name="value"/> (replacing any).</summary>
    internal static string SetQuery(string url, string name, string value)
    {
        var uri = new Uri(url);
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(uri.Query)
            .Where(kv => kv.Key != name)
            .SelectMany(kv => kv.Value.Select(v => new KeyValuePair<string, string?>(kv.Key, v)))
            .Append(new KeyValuePair<string, string?>(name, value));
        return Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString(uri.GetLeftPart(UriPartial.Path), query);
    }

    private static string NewSecret() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    internal static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    private DateTime Now()
    {
        var now = time.GetUtcNow().UtcDateTime;
        return new DateTime(now.Ticks - now.Ticks % 10, DateTimeKind.Utc);
    }
}
