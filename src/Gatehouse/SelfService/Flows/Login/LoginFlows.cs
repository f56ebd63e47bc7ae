using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http;
using Gatehouse.Http.Errors;
using Gatehouse.Identities;
using Gatehouse.Schemas;
using Gatehouse.SelfService.Csrf;
using Gatehouse.SelfService.Hooks;
using Gatehouse.SelfService.Strategies;
using Gatehouse.SelfService.Ui;
using Gatehouse.Sessions;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Flows.Login;

/// <summary>
/// The login flow: browser and API variants, refresh (re-authentication) and return_to. The form and the check of the
/// credentials are the enabled login methods' (<see cref="ILoginStrategy"/>) for the flow's requested assurance level;
/// the session records the method that completed.
/// </summary>
public sealed class LoginFlows(
    FlowService flows,
    FlowResponder responder,
    CsrfTokens csrf,
    SessionManager sessions,
    StrategyRegistry strategies,
    ReturnUrlPolicy returnUrls,
    IdentityJson identityJson,
    HookRunner hooks,
    Verification.VerificationFlows verification,
    RateLimiting.LoginAttempts attempts,
    SessionAssurance assurance,
    OAuth2LoginChallenges oauth2Logins,
    IPrivilegedIdentityStore privileged,
    IdentityManager identityManager,
    SessionTokenExchange exchange,
    IUnitOfWork work,
    TestLoginCookie testFlows,
    GatehouseOptions options)
{
    public async Task InitAsync(HttpContext http, string type)
    {
        var ct = http.RequestAborted;
        var q = http.Request.Query;
        var refresh = q["refresh"].ToString() is "true" or "1";
        var aal = q["aal"].ToString();
        if (aal.Length > 0 && aal is not ("aal1" or "aal2"))
            throw GatehouseError.BadRequest($"Unable to parse AuthenticationMethod Assurance Level (AAL): expected one of [aal1, aal2] but got {aal}");
        var returnTo = returnUrls.Validate(q["return_to"].ToString());
        // Started by Gatehouse's OAuth2 provider (/oauth2/auth without urls.login): as Kratos with Hydra, a login request
        // that Hydra's rules do not let skip asks an existing session to sign in again.
        var loginChallenge = type == FlowTypes.Browser ? OAuth2LoginChallenges.FromQuery(http.Request) : null;
        var loginRequest = loginChallenge is null ? null : await oauth2Logins.GetAsync(loginChallenge, ct);
        if (loginRequest is not null && loginRequest["skip"]?.GetValue<bool>() != true) refresh = true;
        // oauth2_provider.override_return_to: the OAuth2 request is where the flow (and flows switched to) return.
        if (loginRequest is not null && oauth2Logins.OverriddenReturnTo(loginRequest) is { } requestUrl) returnTo = returnUrls.Validate(requestUrl);
        var session = await sessions.FromRequestAsync(http, ct);
        var requestedAal = aal == AssuranceLevels.Aal2 ? AssuranceLevels.Aal2 : AssuranceLevels.Aal1;
        // aal2 upgrades a session: it needs one (Kratos's ErrSessionRequiredForHigherAAL) that is not aal2 already.
        if (requestedAal == AssuranceLevels.Aal2 && session is null)
            throw FlowResponder.SessionRequiredForHigherAal();
        if (session is not null && !refresh && (requestedAal == AssuranceLevels.Aal1 || session.Aal == AssuranceLevels.Aal2))
        {
            if (loginChallenge is not null)
            {
                // Kratos: the session signs the login request in without a form. SPAs are told where to go (422), as
                // after a login (Kratos answers session_already_available here, which leaves an SPA nowhere to go).
                // A session short of what the client (acr_values=aal2) or whoami asks for goes through the second factor first.
                var required = OAuth2LoginChallenges.WantsAal2(loginRequest!) ? SessionAssurance.HighestAvailable : assurance.WhoamiRequiredAal;
                var next = await assurance.SatisfiesAsync(session, required, ct)
                    ? await oauth2Logins.AcceptAsync(loginChallenge, session, ct)
                    : assurance.StepUpUrl(flows.PublicBase + http.Request.Path + http.Request.QueryString);
                if (FlowService.WantsJson(http.Request)) throw FlowResponder.BrowserLocationChangeRequired(next);
                FlowService.Redirect(http, next);
                return;
            }
            if (type == FlowTypes.Browser && !FlowService.WantsJson(http.Request))
            {
                FlowService.Redirect(http, returnUrls.Resolve(returnTo, options.Selfservice.Flows.Login.After.DefaultBrowserReturnUrl));
                return;
            }
            throw FlowResponder.SessionAlreadyAvailable();
        }

        var token = type == FlowTypes.Browser ? csrf.Ensure(http) : "";
        var flow = flows.Create(FlowKinds.Login, type, http, options.Selfservice.Flows.Login.Lifespan, returnTo, token);
        flow.Refresh = refresh && session is not null;
        flow.RequestedAal = requestedAal;
        var ui = new UiContainer { Action = flows.ActionUrl(flow) };
        if (type == FlowTypes.Browser) ui.Nodes.Add(UiNodes.Csrf(token));
        var via = requestedAal == AssuranceLevels.Aal2 && q["via"].ToString() is { Length: > 0 } v ? v : null;
        var form = new LoginForm { Flow = flow, Ui = ui, Refreshing = flow.Refresh ? session : null, Current = session, Via = via };
        // selfservice.flows.login.style: identifier_first asks first-factor flows for the identifier first (refresh and aal2 stay unified).
        var identifierFirst = !flow.Refresh && requestedAal == AssuranceLevels.Aal1 && Strategies.IdentifierFirst.IdentifierFirstStrategy.IsStyle(options);
        foreach (var strategy in MethodsFor(flow))
            await (identifierFirst ? strategy.PopulateIdentifierFirstIdentificationAsync(form, ct) : strategy.PopulateAsync(form, ct));
        if (flow.Refresh)
        {
            ui.Messages.Add(Messages.LoginReAuth());
            flow.IdentityId = session!.IdentityId;
        }
        if (requestedAal == AssuranceLevels.Aal2)
        {
            flow.IdentityId = session!.IdentityId;
            if (session.Aal != AssuranceLevels.Aal2) ui.Messages.Add(Messages.LoginMfa());
        }
        UiNodeOrder.Arrange(FlowKinds.Login, ui, null);
        // The document as written is kept parsed for the answer (ToJson below), unless a hook or a fast login replaces it.
        var uiJson = ui.ToJson();
        flow.Ui = uiJson.ToJsonString();
        var uiText = flow.Ui;
        // Kratos: an API flow without a session may ask for a session token exchange code (apps finishing social sign-in in a browser).
        var exchangeCode = type == FlowTypes.Api && session is null && SessionTokenExchange.Requested(http.Request) ? SessionTokenExchange.Start(flow) : null;
        await hooks.RunBeforeAsync(http, flow, ct);
        // Kratos's fast login, after the before-login hooks (a hook that stops the flow stops it before anything is sent).
        foreach (var strategy in MethodsFor(flow))
        {
            if (!await strategy.FastLoginAsync(form, ct)) continue;
            flow.Ui = ui.ToJson().ToJsonString();
            break;
        }
        await flows.InsertAsync(flow, ct);
        var shown = ReferenceEquals(flow.Ui, uiText) ? uiJson : null;
        if (exchangeCode is not null)
        {
            var json = flows.ToJson(flow, shown);
            json["session_token_exchange_code"] = exchangeCode;
            await FlowService.WriteFlowAsync(http, 200, json);
            return;
        }
        await responder.RespondNewFlowAsync(http, flow, shown);
    }

    public async Task GetAsync(HttpContext http) =>
        await FlowService.WriteFlowAsync(http, 200, await FetchAsync(http, FlowService.FlowId(http.Request, "id")));

    /// <summary>
    /// The flow as the public fetch endpoint answers it, by the same rules (a browser flow only for the browser holding its
    /// CSRF cookie; a test flow for anyone until its callback captured, then only for the browser holding its test cookie;
    /// expired → 410); used by that endpoint and, in-process, by the built-in pages.
    /// </summary>
    public async Task<JsonObject> FetchAsync(HttpContext http, Guid id)
    {
        var flow = await flows.FetchAsync(http, id, FlowKinds.Login, f =>
        {
            if (f.IsTestFlow) testFlows.VerifyHolder(http, f);
            else csrf.VerifyCookie(http, f);
        });
        // Kratos adds the OAuth2 login request (the client, the scopes) for the login UI; a request that is gone fails the fetch.
        if (flow["oauth2_login_challenge"] is JsonValue challenge)
            flow["oauth2_login_request"] = await oauth2Logins.GetAsync(challenge.GetValue<string>(), http.RequestAborted);
        return flow;
    }

    public async Task SubmitAsync(HttpContext http)
    {
        var ct = http.RequestAborted;
        if (await RefusedBeforeFlowAsync(http, ct)) return;
        // The submit's writes that may wait (a code and its mail, an address verified, the session, the flow) commit
        // together with the flow's update (FlowService.UpdateAsync), or when the submit ends, before its answer is sent.
        await using var held = work.Begin(ct);
        var flow = await flows.LoadForSubmitAsync(http, FlowKinds.Login);
        // Kratos's updateLoginFlow looks at the session before anything else of the submit (expiry, CSRF, body): a signed-in
        // request only goes on to re-authenticate (refresh) or to reach a higher assurance level than its session has.
        var current = await sessions.FromRequestAsync(http, ct);
        if (current is not null && !flow.Refresh && !(flow.RequestedAal == AssuranceLevels.Aal2 && current.Aal != AssuranceLevels.Aal2))
        {
            await RespondAlreadySignedInAsync(http, flow, ct);
            return;
        }
        if (flow.RequestedAal == AssuranceLevels.Aal2 && current is null)
            throw FlowResponder.SessionRequiredForHigherAal();
        var early = http.Features.Get<EarlyBody>();
        early?.Error?.Throw();
        var body = early?.Body ?? await FormBody.ReadAsync(http.Request, ct);
        if (flow.IsTestFlow) TestLoginCookie.VerifyBearer(http, flow, FormBody.String(body, "csrf_token"));
        else csrf.VerifySubmit(http, flow, FormBody.String(body, "csrf_token"));
        // An administrator's test flow is not replaced by a login flow for everyone: a new test flow is made on the admin API.
        if (flow.IsTestFlow && flows.IsExpired(flow))
            throw new GatehouseError(410, "The test login flow expired; create a new one with POST /admin/test-login-flows.", "self_service_flow_expired");
        if (flows.IsExpired(flow))
        {
            await ReplaceExpiredAsync(http, flow, flow.ExpiresAt, current, ct);
            return;
        }
        if (flow.State == FlowStates.PassedChallenge)
            throw GatehouseError.BadRequest("The request was already completed successfully and can not be retried.");

        var ui = UiContainer.FromJson(flow.Ui);
        ui.ClearMessages();
        FlowService.TakeTransientPayload(flow, body);
        var method = FormBody.String(body, "method");
        var strategy = MethodsFor(flow).FirstOrDefault(m => m.Name == method) ?? MethodsFor(flow).FirstOrDefault(m => m.Handles(method, body));
        if (strategy is null)
        {
            ui.Messages.Add(Messages.LoginNoStrategy());
            await responder.RespondWithFlowAsync(http, flow, ui, 400, ct);
            return;
        }
        flow.Active = strategy.Name;
        var submission = new LoginSubmission { Http = http, Flow = flow, Ui = ui, Body = body, Refusal = identity => Refusal(flow, identity), Current = current, Methods = [.. MethodsFor(flow)] };
        Identity? identity;
        try
        {
            identity = await strategy.AuthenticateAsync(submission, ct);
        }
        catch (FlowExpired e)
        {
            // A login code past its lifespan (Kratos's LoginCode.Validate): the flow is answered as expired.
            await ReplaceExpiredAsync(http, flow, e.ExpiredAt, current, ct);
            return;
        }
        if (identity is null)
        {
            if (submission.Answered) return;
            if (submission.RedirectBrowserTo is { } elsewhere) await responder.RespondRedirectAsync(http, flow, ui, elsewhere, ct);
            else await responder.RespondWithFlowAsync(http, flow, ui, 400, ct);
            return;
        }
        await CompleteAsync(http, flow, ui, strategy, identity, current, ct);
    }

    /// <summary>
    /// Kratos's <c>PrepareReplacementForExpiredFlow</c>: a new flow like the expired one (type, return URL, CSRF token,
    /// requested level, refresh, the OAuth2 login request it answers) with a fresh form and only the flow-expired message
    /// 4010001 counted from <paramref name="expiredAt"/> (the flow's expiry, or a login code's); 410 with its id, or a 303
    /// to it for HTML browsers.
    /// </summary>
    private async Task ReplaceExpiredAsync(HttpContext http, SelfServiceFlow flow, DateTime expiredAt, Session? current, CancellationToken ct)
    {
        var replacement = flows.Create(FlowKinds.Login, flow.Type, http, options.Selfservice.Flows.Login.Lifespan, flow.ReturnTo, flow.CsrfToken);
        replacement.RequestedAal = flow.RequestedAal;
        replacement.Refresh = flow.Refresh && current is not null;
        if (replacement.Refresh || replacement.RequestedAal == AssuranceLevels.Aal2) replacement.IdentityId = flow.IdentityId;
        // Kratos's FromOldFlow keeps the old request_url (so the new flow still answers the OAuth2 login request the
        // expired one was started for).
        replacement.RequestUrl = flow.RequestUrl;
        var ui = new UiContainer { Action = flows.ActionUrl(replacement) };
        if (replacement.Type == FlowTypes.Browser) ui.Nodes.Add(UiNodes.Csrf(replacement.CsrfToken));
        var form = new LoginForm { Flow = replacement, Ui = ui, Refreshing = replacement.Refresh ? current : null, Current = current };
        var identifierFirst = !replacement.Refresh && replacement.RequestedAal == AssuranceLevels.Aal1 && Strategies.IdentifierFirst.IdentifierFirstStrategy.IsStyle(options);
        foreach (var strategy in MethodsFor(replacement))
            await (identifierFirst ? strategy.PopulateIdentifierFirstIdentificationAsync(form, ct) : strategy.PopulateAsync(form, ct));
        ui.Messages.Add(Messages.LoginFlowExpired(expiredAt, flows.Now()));
        replacement.Ui = ui.ToJson().ToJsonString();
        await responder.RespondExpiredAsync(http, flow, expiredAt, replacement, ct);
    }

    /// <summary>
    /// A login submit while signed in, neither a refresh nor an upgrade (Kratos's <c>ErrAlreadyLoggedIn</c>): nothing is
    /// checked or signed in. API and JSON clients get the flow back (400) with the error as message 4000001, as Kratos's
    /// flow error handler turns a 400 into; HTML browsers go to <c>selfservice.default_browser_return_url</c> (Kratos's
    /// submit does not use the flow's <c>return_to</c> here, unlike its init).
    /// </summary>
    private async Task RespondAlreadySignedInAsync(HttpContext http, SelfServiceFlow flow, CancellationToken ct)
    {
        if (flow.Type == FlowTypes.Browser && !FlowService.WantsJson(http.Request))
        {
            FlowService.Redirect(http, returnUrls.DefaultReturnUrl);
            return;
        }
        var ui = UiContainer.FromJson(flow.Ui);
        ui.ClearMessages();
        ui.Messages.Add(Messages.Generic(FlowResponder.SessionAlreadyAvailable().Reason!));
        await responder.RespondWithFlowAsync(http, flow, ui, 400, ct);
    }

    /// <summary>
    /// Signs in an identity a method proved outside a submit (social sign-in's callback): the flow's refusals apply
    /// (a refresh signs in the same identity; a disabled one does not sign in), then hooks and session as for a submit.
    /// <paramref name="proof"/> is the session's method entry when the method says more than its name and level (social
    /// sign-in: the provider, its upstream <c>acr</c>/<c>amr</c> and the level they give).
    /// </summary>
    public async Task CompleteExternalAsync(HttpContext http, SelfServiceFlow flow, ILoginStrategy strategy, Identity identity, CancellationToken ct, AuthenticationMethod? proof = null)
    {
        var ui = UiContainer.FromJson(flow.Ui);
        ui.ClearMessages();
        flow.Active = strategy.Name;
        if (Refusal(flow, identity) is { } refused)
        {
            ui.Messages.Add(refused);
            await responder.RespondWithFlowAsync(http, flow, ui, 400, ct);
            return;
        }
        await CompleteAsync(http, flow, ui, strategy, identity, await sessions.FromRequestAsync(http, ct), ct, proof);
    }

    /// <summary>
    /// A login flow made for a method that switches flows (social sign-in at registration with an account that exists):
    /// the same type, return URL and CSRF token; the before-login hooks run, as for a flow the user started.
    /// </summary>
    public Task<SelfServiceFlow> CreateForAsync(HttpContext http, SelfServiceFlow from, CancellationToken ct) =>
        CreateFirstFactorAsync(http, from.Type, from.ReturnTo, from.CsrfToken, flow =>
        {
            flow.TransientPayload = from.TransientPayload;
            OAuth2LoginChallenges.CarryOver(from, flow);
            SessionTokenExchange.CarryOver(from, flow);
        }, ct);

    /// <summary>
    /// A browser login flow for a sign-in that starts and finishes within one request outside the flow routes (FedCM's
    /// token submit): aal1, the browser's <paramref name="csrfToken"/>, no return_to (the default return URL applies); the
    /// before-login hooks run, as for a flow the user started.
    /// </summary>
    public Task<SelfServiceFlow> CreateForBrowserAsync(HttpContext http, string csrfToken, CancellationToken ct) =>
        CreateFirstFactorAsync(http, FlowTypes.Browser, null, csrfToken, _ => { }, ct);

    private async Task<SelfServiceFlow> CreateFirstFactorAsync(HttpContext http, string type, string? returnTo, string csrfToken, Action<SelfServiceFlow> carryOver, CancellationToken ct)
    {
        var flow = flows.Create(FlowKinds.Login, type, http, options.Selfservice.Flows.Login.Lifespan, returnTo, csrfToken);
        flow.RequestedAal = AssuranceLevels.Aal1;
        carryOver(flow);
        var ui = new UiContainer { Action = flows.ActionUrl(flow) };
        if (flow.Type == FlowTypes.Browser) ui.Nodes.Add(UiNodes.Csrf(flow.CsrfToken));
        var form = new LoginForm { Flow = flow, Ui = ui };
        foreach (var strategy in MethodsFor(flow)) await strategy.PopulateAsync(form, ct);
        UiNodeOrder.Arrange(FlowKinds.Login, ui, null);
        flow.Ui = ui.ToJson().ToJsonString();
        await hooks.RunBeforeAsync(http, flow, ct);
        await flows.InsertAsync(flow, ct);
        return flow;
    }

    private async Task CompleteAsync(HttpContext http, SelfServiceFlow flow, UiContainer ui, ILoginStrategy strategy, Identity identity, Session? current, CancellationToken ct, AuthenticationMethod? proof = null)
    {
        var provider = proof?.Provider;
        // Account linking (Kratos's checkDuplicateCredentialsIdentifierMatch): a login flow a colliding social sign-up
        // turned into links that credential only to an identity one of whose credentials has the colliding identifier or
        // address as identifier, once it proved itself.
        if (DuplicateCredentials.Of(flow) is { } duplicate)
        {
            var proven = await privileged.FindConfidentialAsync(identity.Id, ct);
            if (proven is null || !proven.Credentials.Any(c => c.Identifiers.Any(i => i.Identifier == duplicate.Identifier)))
            {
                ui.Messages.Add(Messages.LinkedCredentialsMismatch());
                await responder.RespondWithFlowAsync(http, flow, ui, 400, ct);
                return;
            }
            identity = await identityManager.AddCredentialAsync(identity.Id, duplicate.Type, duplicate.Config, duplicate.Identifiers, ct);
            DuplicateCredentials.Clear(flow);
        }

        // Hooks that may stop the login (require_verified_address, web hooks that read their answer) run before any session exists.
        var hookContext = new HookContext { Http = http, Flow = flow, FlowKind = FlowKinds.Login, Method = strategy.Name, Provider = provider, Identity = identity, IdentityPersisted = true };
        try
        {
            await hooks.RunAfterAsync(HookPhase.PrePersist, hookContext, ct);
        }
        catch (FlowHookInterrupt e)
        {
            e.ApplyTo(ui);
            await responder.RespondWithFlowAsync(http, flow, ui, 400, ct);
            return;
        }
        catch (VerifiedAddressRequired)
        {
            await RespondVerificationRequiredAsync(http, flow, identity, ct);
            return;
        }
        identity = hookContext.Identity;

        var method1 = proof ?? new AuthenticationMethod(strategy.Name, strategy.Aal, flows.Now(), provider);
        IssuedSession? issued = null;
        // A refresh or a second factor completes the session the request came with (same id and token, one more method);
        // another identity's proof gets a fresh session, as in Kratos.
        if ((flow.Refresh || flow.RequestedAal == AssuranceLevels.Aal2) && current is not null && current.IdentityId == identity.Id)
        {
            var refreshed = await sessions.RefreshAsync(current, method1, ct);
            // Kratos answers an API client with the session's (unchanged) token and gives a browser the cookie again, for
            // the session's new expiry (UpsertAndIssueCookie). The request presented that token (FromRequestAsync kept it).
            issued = new IssuedSession(refreshed, http.Features.Get<CurrentSession>()!.Token, "");
            if (flow.Type == FlowTypes.Browser) sessions.WriteCookie(http, issued);
        }
        else
        {
            issued = await sessions.IssueAsync(identity, method1, http, ct);
            if (flow.Type == FlowTypes.Browser)
            {
                // Kratos's IssueCookie: a browser that had no session, or another identity's, gets a new anti-CSRF token.
                if (current is null || current.IdentityId != identity.Id) csrf.Regenerate(http);
                sessions.WriteCookie(http, issued);
            }
        }
        hookContext.Session = issued.Session;
        // The after-persist hooks (a web hook, revoking other sessions) see the session stored: what is held commits first.
        if (hooks.AfterHooks(FlowKinds.Login, strategy.Name).Count > 0) await work.CommitAsync(ct);
        await hooks.RunAfterAsync(HookPhase.PostPersist, hookContext, ct);
        flow.State = FlowStates.PassedChallenge;
        flow.Ui = ui.ToJson().ToJsonString();
        await flows.UpdateAsync(flow, ct);

        var returnTo = returnUrls.Resolve(flow.ReturnTo, options.Selfservice.Flows.Login.After.DefaultBrowserReturnUrlFor(strategy.Name));
        // Kratos's checkAAL: a session that whoami would refuse (an identity with a second factor, signed in with the first)
        // goes on to the aal2 login — HTML browsers by 303, SPAs by 422; API clients get the session without its identity.
        var satisfied = await assurance.SatisfiesAsync(issued.Session, assurance.WhoamiRequiredAal, ct);
        var loginChallenge = flow.Type == FlowTypes.Browser ? OAuth2LoginChallenges.Of(flow) : null;
        // Step-up for OAuth2 (issue 14): a client asking for acr_values=aal2 gets the second factor of an identity that has one
        // (acr_values are voluntary in OpenID Connect: without a second factor the login goes on at aal1, and acr says so).
        if (satisfied && loginChallenge is not null && OAuth2LoginChallenges.WantsAal2(await oauth2Logins.GetAsync(loginChallenge, ct)))
            satisfied = await assurance.SatisfiesAsync(issued.Session, SessionAssurance.HighestAvailable, ct);
        // An app that asked for a token exchange gets the session through it: the browser that finished the social sign-in
        // goes to return_to with the code (Kratos's MaybeRedirectAPICodeFlow, for the oidc method only).
        if (strategy.Name == CredentialTypes.Oidc && await exchange.TryRedirectAsync(http, flow, issued.Session, returnTo, ct)) return;
        if (!satisfied && flow.Type == FlowTypes.Browser)
        {
            var stepUp = assurance.StepUpUrl(flow.RequestUrl);
            if (FlowService.WantsJson(http.Request)) throw FlowResponder.BrowserLocationChangeRequired(stepUp);
            FlowService.Redirect(http, stepUp);
            return;
        }
        if (loginChallenge is not null)
        {
            // Kratos's post-login hook: accept the login request and go back to /oauth2/auth (SPAs: 422 with the URL).
            var next = await oauth2Logins.AcceptAsync(loginChallenge, issued.Session, ct);
            if (FlowService.WantsJson(http.Request)) throw FlowResponder.BrowserLocationChangeRequired(next);
            FlowService.Redirect(http, next);
            return;
        }
        await responder.RespondSuccessAsync(http, flow, issued, null, identityJson, returnTo, includeSessionIdentity: satisfied);
    }

    /// <summary>
    /// <c>require_verified_address</c> stopped the login (Kratos's <c>AddressVerifier</c>): a verification flow for the
    /// identity's first address is started and its code or link mailed; JSON clients get 403
    /// <c>session_verified_address_required</c> with <c>continue_with: [show_verification_ui]</c> in its details,
    /// HTML browsers a 303 to the verification page. No session is issued.
    /// </summary>
    private async Task RespondVerificationRequiredAsync(HttpContext http, SelfServiceFlow flow, Identity identity, CancellationToken ct)
    {
        if (await verification.StartForAsync(http, flow.Type, identity, ct) is not { } started)
            throw RequireVerifiedAddressHook.AddressNotVerified(); // verification is off or there is no email address to verify
        var url = flows.UiUrlFor(started.Flow);
        var continueWith = new JsonObject
        {
            ["action"] = "show_verification_ui",
            ["flow"] = new JsonObject { ["id"] = started.Flow.Id.ToString(), ["verifiable_address"] = started.Address, ["url"] = url },
        };
        if (flow.Type == FlowTypes.Api || FlowService.WantsJson(http.Request))
            throw RequireVerifiedAddressHook.AddressNotVerified(new JsonObject { ["continue_with"] = new JsonArray(continueWith) }, StatusCodes.Status403Forbidden);
        FlowService.Redirect(http, url);
    }

    /// <summary>
    /// During a brute-force flood, this process remembers the identifiers and addresses the shared counters refused; a JSON
    /// submit naming one is answered 429 from that memory before the flow is read or an exception is thrown, so refusing
    /// costs about as much as a trivial request and does not starve other requests. Only while something is remembered,
    /// and only for JSON submits (whose errors are never forwarded to the error UI, so the answer is the same envelope);
    /// the body read for it is kept for the normal path. True when the answer was written.
    /// </summary>
    private async Task<bool> RefusedBeforeFlowAsync(HttpContext http, CancellationToken ct)
    {
        if (!attempts.AnyRefusedInMemory || !ContentNegotiation.WantsJson(http.Request) || !http.Request.HasJsonContentType()) return false;
        JsonObject body;
        try
        {
            body = await FormBody.ReadAsync(http.Request, ct);
        }
        catch (Exception e) when (e is GatehouseError or System.Text.Json.JsonException or BadHttpRequestException)
        {
            // A body that does not parse is the normal path's to answer, after the flow (whose errors come first).
            http.Features.Set(new EarlyBody(null, System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e)));
            return false;
        }
        http.Features.Set(new EarlyBody(body, null));
        if (strategies.Find<ILoginStrategy>(FormBody.String(body, "method"))?.RefusedBeforeFlow(http, body) is not { } refused) return false;
        await ErrorEnvelopeMiddleware.WriteAsync(http, refused);
        return true;
    }

    /// <summary>The submit body as read before the flow (or why it could not be).</summary>
    private sealed record EarlyBody(JsonObject? Body, System.Runtime.ExceptionServices.ExceptionDispatchInfo? Error);

    /// <summary>The enabled login methods that reach the flow's requested assurance level.</summary>
    /// <remarks>A test flow offers only the method that made it (social sign-in): no other method signs anybody in through it.</remarks>
    private IEnumerable<ILoginStrategy> MethodsFor(SelfServiceFlow flow) => flow.IsTestFlow
        ? strategies.Enabled<ITestLoginStrategy>()
        : strategies.Enabled<ILoginStrategy>().Where(s => s.Aal == (flow.RequestedAal ?? AssuranceLevels.Aal1));

    /// <summary>A refresh signs in the same identity again; a disabled identity does not sign in.</summary>
    private static JsonObject? Refusal(SelfServiceFlow flow, Identity identity)
    {
        if (flow.Refresh && flow.IdentityId != identity.Id) return Messages.InvalidCredentials();
        return identity.State != IdentityStates.Active ? Messages.IdentityDisabled() : null;
    }
}
