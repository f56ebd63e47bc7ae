using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Json;
using Gatehouse.Identities;
using Gatehouse.Schemas;
using Gatehouse.SelfService.Csrf;
using Gatehouse.SelfService.Hooks;
using Gatehouse.SelfService.Flows.Settings;
using Gatehouse.SelfService.Strategies;
using Gatehouse.SelfService.Ui;
using Gatehouse.Sessions;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Flows.Recovery;

/// <summary>
/// The recovery flow with the method <c>selfservice.flows.recovery.use</c> names (an <see cref="IRecoveryStrategy"/>:
/// <c>code</c>, the default, or <c>link</c>), which must be enabled. A right secret signs the user in (AMR
/// <c>code_recovery</c>/<c>link_recovery</c>) and hands over to a settings flow to set a new password, as Kratos does:
/// HTML requests are redirected to it, JSON requests (SPAs and API flows alike) get 422 <c>browser_location_change_required</c>
/// — Kratos's default — or, with <c>feature_flags.use_continue_with_transitions</c>, the recovery flow with its
/// <c>continue_with</c> (the session token for API flows). Same answer whether or not the address exists.
/// </summary>
public sealed partial class RecoveryFlows(
    FlowService flows,
    FlowResponder responder,
    CsrfTokens csrf,
    StrategyRegistry strategies,
    OneTimeCodes codes,
    IIdentityReader identityReader,
    SessionManager sessions,
    SettingsFlows settings,
    IdentityJson identityJson,
    ReturnUrlPolicy returnUrls,
    HookRunner hooks,
    GatehouseOptions options)
{
    /// <summary>The configured method new flows use (Kratos's <c>GetActiveRecoveryStrategy</c>: a 400 when <c>selfservice.methods.&lt;use&gt;.enabled</c> is off; nothing checks this at start-up).</summary>
    private IRecoveryStrategy Method => strategies.Find<IRecoveryStrategy>(options.Selfservice.Flows.Recovery.Use)
        ?? throw GatehouseError.BadRequest($"The active recovery strategy {options.Selfservice.Flows.Recovery.Use} is not enabled. Please enable it in the configuration.");

    public async Task InitAsync(HttpContext http, string type)
    {
        var ct = http.RequestAborted;
        // Only a browser is sent to the error UI; a native app's /api call gets the JSON error it can read.
        EnsureEnabled(type == FlowTypes.Browser ? http : null);
        var returnTo = returnUrls.Validate(http.Request.Query["return_to"].ToString());
        if (await sessions.FromRequestAsync(http, ct) is not null)
        {
            if (type == FlowTypes.Browser && !FlowService.WantsJson(http.Request))
            {
                FlowService.Redirect(http, returnUrls.Resolve(returnTo));
                return;
            }
            throw new GatehouseError(400, "A valid session was detected and thus recovery is not possible.", "session_already_available");
        }
        var flow = NewFlow(http, type, returnTo);
        // Kratos answers the before hooks' errors directly, also for browsers, and forwards a browser flow's later ones
        // (createBrowserRecoveryFlow).
        http.ForwardErrors(ForwardedErrors.None);
        await hooks.RunBeforeAsync(http, flow, ct);
        http.ForwardErrors(type == FlowTypes.Browser ? ForwardedErrors.All : ForwardedErrors.None);
        await flows.InsertAsync(flow, ct);
        await responder.RespondNewFlowAsync(http, flow);
    }

    /// <summary>Recovery switched off: 400; on the browser init and the fetch route forwarded to the error UI for browsers, as in Kratos.</summary>
    private void EnsureEnabled(HttpContext? forwardFor = null)
    {
        if (options.Selfservice.Flows.Recovery.Enabled) return;
        var error = new GatehouseError(400, "Recovery is not allowed because it was disabled.", "self_service_flow_disabled");
        throw forwardFor is null ? error : forwardFor.Forwarded(error);
    }

    private SelfServiceFlow NewFlow(HttpContext http, string type, string? returnTo)
    {
        var token = type == FlowTypes.Browser ? csrf.Ensure(http) : "";
        var flow = flows.Create(FlowKinds.Recovery, type, http, options.Selfservice.Flows.Recovery.Lifespan, returnTo, token);
        flow.Active = Method.Name;
        if (ChoosesAddress)
        {
            // Kratos's recovery.NewFlow: the flag picks the version when the flow is made (recovery v2's first state).
            flow.State = FlowStates.RecoveryAwaitingAddress;
            flow.Ui = AnyAddressUi(flow).ToJson().ToJsonString();
        }
        else
        {
            flow.Ui = EmailUi(flow, null).ToJson().ToJsonString();
        }
        return flow;
    }

    public async Task GetAsync(HttpContext http)
    {
        EnsureEnabled(http);
        await FlowService.WriteFlowAsync(http, 200, await FetchAsync(http, FlowService.FlowId(http.Request, "id")));
    }

    /// <summary>
    /// The flow as the public fetch endpoint answers it, by the same rules (a browser flow only for the browser holding its
    /// CSRF cookie; expired → 410); used by that endpoint and, in-process, by the built-in pages.
    /// </summary>
    public async Task<JsonObject> FetchAsync(HttpContext http, Guid id)
    {
        var flow = await flows.LoadAsync(id, FlowKinds.Recovery, http.RequestAborted);
        // A flow bound just now has its token only in this response's cookie, so there is nothing to check yet (Kratos
        // skips the check for admin-made flows: DangerousSkipCSRFCheck).
        if (!await BindToBrowserAsync(http, flow, http.RequestAborted)) csrf.VerifyCookie(http, flow);
        if (flows.IsExpired(flow)) throw flows.ExpiredOnFetch(flow);
        return flows.ToJson(flow);
    }

    private UiContainer EmailUi(SelfServiceFlow flow, string? email) => Form(flow, ui => Method.PopulateAddressForm(ui, email));

    /// <summary>
    /// A recovery form: the CSRF token first, then the method's nodes. Kratos's code and link methods set the token node
    /// whatever the flow's type (<c>PopulateRecoveryMethod</c> calls <c>SetCSRF</c> unconditionally), so an API flow has it
    /// too, with an empty value (its submit route is exempt from CSRF, so the request has no token) — unlike
    /// login, registration and settings. An admin-made flow (<paramref name="csrf"/> false) has only what the method gives it.
    /// </summary>
    private UiContainer Form(SelfServiceFlow flow, Action<UiContainer> populate, bool csrf = true)
    {
        var ui = new UiContainer { Action = flows.ActionUrl(flow) };
        if (csrf) ui.Nodes.Add(UiNodes.Csrf(flow.CsrfToken));
        populate(ui);
        return ui;
    }

    public async Task SubmitAsync(HttpContext http)
    {
        var ct = http.RequestAborted;
        var flow = await flows.LoadForSubmitAsync(http, FlowKinds.Recovery);
        // Kratos's updateRecoveryFlow checks the flow's expiry (f.Valid) before any method reads the submit or its CSRF token.
        if (flows.IsExpired(flow))
        {
            await RespondExpiredAsync(http, flow, ct);
            return;
        }
        JsonObject body;
        if (HttpMethods.IsGet(http.Request.Method))
        {
            // The recovery link: ?flow=&token= (no CSRF: the secret is the proof); the method whose secret it carries takes it.
            body = FormBody.FromQuery(http.Request.Query, "token");
        }
        else
        {
            body = await FormBody.ReadAsync(http.Request, ct);
            // As in GetAsync: a browser submitting an admin-made flow it never opened has no token to send; the code is the proof.
            if (!await BindToBrowserAsync(http, flow, ct)) csrf.VerifySubmit(http, flow, FormBody.String(body, "csrf_token"));
        }
        FlowService.TakeTransientPayload(flow, body);
        var ui = UiContainer.FromJson(flow.Ui);
        ui.ClearMessages();
        if (FlowStates.IsRecoveryChooseAddress(flow.State))
        {
            await SubmitChooseAddressAsync(http, flow, body, ui, ct);
            return;
        }
        // Kratos asks its methods in turn (code, then link) before looking at the flow's state: a code flow past
        // choose_method takes any submit without an email as a code (none is a wrong one), and a link token is spent
        // whatever the state; any method may redeem a secret it issued to this flow (an admin-made link).
        var redeemer = strategies.All<IRecoveryStrategy>().FirstOrDefault(m => m.CarriesSecret(flow, body));
        if (redeemer is not null)
        {
            await RedeemAsync(http, flow, body, ui, redeemer, ct);
            return;
        }
        // Kratos's code and link Recover refuse anything but a secret from a signed-in user — after a browser recovered,
        // its own resubmits: JSON requests get 400 session_already_available, others a 302 to the default return URL
        // (session.RedirectOnAuthenticated).
        if (await RefusedAsSignedInAsync(http, ct)) return;
        // An address goes to the configured method, named by `method` alone (Kratos's recovery methods read no other
        // field for it, unlike verification's code method: a code without a method is no submit either takes, 4010005).
        var method = FormBody.String(body, "method");
        var strategy = strategies.All<IRecoveryStrategy>().FirstOrDefault(m => m.Name == method);
        if (strategy is null || strategy != Method)
        {
            ui.Messages.Add(Messages.RecoveryNoStrategy());
            await responder.RespondWithFlowAsync(http, flow, ui, 400, ct);
            return;
        }
        if (flow.State == FlowStates.PassedChallenge)
        {
            // "was already handled, do not allow retry": Kratos's code retryRecoveryFlow / link retryRecoveryFlowWithMessage
            // make a new flow of the flow's type, from this request, carrying 4060001, and send the client (303) to it.
            if (flow.Type == FlowTypes.Browser) csrf.Regenerate(http);
            var replacement = WithMessage(NewFlow(http, flow.Type, returnTo: null), Messages.RecoveryRetrySuccess());
            await flows.InsertAsync(replacement, ct);
            FlowService.Redirect(http, strategy.RetryIsFetched(flow.Type, FlowService.WantsJson(http.Request)) ? FetchUrl(replacement) : flows.UiUrlFor(replacement));
            return;
        }
        var email = FormBody.String(body, "email");
        if (string.IsNullOrWhiteSpace(email))
        {
            ui = EmailUi(flow, null);
            ui.AddMessage("email", Messages.Required("email"));
            await responder.RespondWithFlowAsync(http, flow, ui, 400, ct);
            return;
        }
        if (!KratosFormats.IsLooseEmail(email.Trim()))
        {
            // Kratos validates the field as email_loose: nothing is looked up or mailed for a value that is no address.
            ui = EmailUi(flow, email);
            ui.AddMessage("email", Messages.InvalidEmail(email));
            await responder.RespondWithFlowAsync(http, flow, ui, 400, ct);
            return;
        }
        await codes.CountMailAsync(email, ct);
        await SendAsync(flow, email.Trim().ToLowerInvariant(), ct);
        flow.State = FlowStates.SentEmail;
        ui = Form(flow, u => Method.PopulateSent(u, email.Trim(), withMessage: true));
        await responder.RespondWithFlowAsync(http, flow, ui, 200, ct);
    }

    /// <summary>A submit carrying <paramref name="redeemer"/>'s secret: spent, and the user recovered when it is right.</summary>
    private async Task RedeemAsync(HttpContext http, SelfServiceFlow flow, JsonObject body, UiContainer ui, IRecoveryStrategy redeemer, CancellationToken ct)
    {
        SelfServiceCode? used;
        try
        {
            used = await redeemer.RedeemAsync(flow, body, ui, ct);
        }
        catch (FlowReplaced e)
        {
            // Kratos's code retryRecoveryFlow: a new flow with the message; JSON clients are sent to fetch it (303 to
            // /self-service/recovery/flows?id=), other browsers to its UI — with use_continue_with_transitions, JSON
            // clients get the error itself with details.continue_with naming the new flow. The link method's
            // retryRecoveryFlowWithMessage reads no flag: its new flow is a browser flow, and everyone is sent to its UI.
            var replacement = Retry(http, flow, e);
            await flows.InsertAsync(replacement, ct);
            // Kratos's flagged branch calls retryOptions.err.Error() even for a retry carrying a message alone, which
            // panics; Gatehouse keeps the unflagged 303 for those (none reaches here from the code method today).
            if (options.FeatureFlags.UseContinueWithTransitions && e.IsError && !e.AsBrowserFlow && FlowService.WantsJson(http.Request))
                throw new GatehouseError(400, e.Message, details: ShowRecoveryUi(replacement));
            FlowService.Redirect(http, !e.AsBrowserFlow && FlowService.WantsJson(http.Request)
                ? FetchUrl(replacement)
                : flows.UiUrlFor(replacement));
            return;
        }
        if (used is null)
        {
            // Kratos writes the flow with the message as a plain 200 (HTML browsers: 303 to the UI), not a 400.
            await responder.RespondWithFlowAsync(http, flow, ui, 200, ct);
            return;
        }
        await RecoverAsync(http, flow, used, redeemer, ct);
    }

    /// <summary>
    /// A submit from a signed-in client is refused (Kratos's code and link <c>Recover</c>): JSON requests get 400
    /// <c>session_already_available</c>, others a 302 to the default return URL (<c>session.RedirectOnAuthenticated</c>).
    /// </summary>
    private async Task<bool> RefusedAsSignedInAsync(HttpContext http, CancellationToken ct)
    {
        if (await sessions.FromRequestAsync(http, ct) is null) return false;
        if (FlowService.WantsJson(http.Request)) throw new GatehouseError(400, "A valid session was detected and thus recovery is not possible.", "session_already_available");
        http.Response.StatusCode = StatusCodes.Status302Found;
        http.Response.Headers.Location = returnUrls.DefaultReturnUrl;
        return true;
    }

    /// <summary>
    /// An expired flow submitted, answered as Kratos's recovery <c>ErrorHandler.WriteFlowError</c> answers its
    /// <c>flow.ExpiredError</c>: a new flow (<c>FromOldFlow</c>: the old flow's type — an API flow of a method whose secret is
    /// opened in a browser, the link method, becomes a browser flow — and its <c>request_url</c>, so its <c>return_to</c>; the
    /// CSRF token of the browser that sent the submit) carrying 4060005, and a <b>303</b>: API flows and JSON requests to
    /// <c>/self-service/recovery/flows?id=&lt;new&gt;</c>, other browsers to the recovery UI. No 410, unlike the other flows —
    /// but with <c>feature_flags.use_continue_with_transitions</c> a new API flow is named by the 410
    /// <c>self_service_flow_expired</c> (<c>use_flow_id</c>, and <c>show_recovery_ui</c> in <c>details.continue_with</c>).
    /// </summary>
    private async Task RespondExpiredAsync(HttpContext http, SelfServiceFlow expired, CancellationToken ct)
    {
        var inBrowser = expired.Type == FlowTypes.Api && strategies.Find<IRecoveryStrategy>(expired.Active ?? "") is { CompletesInBrowser: true };
        var replacement = NewFlow(http, inBrowser ? FlowTypes.Browser : expired.Type, expired.ReturnTo);
        replacement.RequestUrl = expired.RequestUrl;
        WithMessage(replacement, Messages.RecoveryFlowExpired(expired.ExpiresAt, flows.Now()));
        await flows.InsertAsync(replacement, ct);
        if (options.FeatureFlags.UseContinueWithTransitions && replacement.Type == FlowTypes.Api)
            throw flows.Expired(expired.ExpiresAt, replacement, ShowRecoveryUi(replacement));
        FlowService.Redirect(http, replacement.Type == FlowTypes.Api || FlowService.WantsJson(http.Request)
            ? FetchUrl(replacement)
            : flows.UiUrlFor(replacement));
    }

    private string FetchUrl(SelfServiceFlow flow) => $"{flows.PublicBase}/self-service/recovery/flows?id={flow.Id}";

    /// <summary>
    /// An error's <c>details</c> naming the new flow (Kratos's <c>ErrorWithContinueWith</c> with <c>NewContinueWithRecoveryUI</c>:
    /// the flow's id only, no <c>url</c>).
    /// </summary>
    private static JsonObject ShowRecoveryUi(SelfServiceFlow flow) => new()
    {
        ["continue_with"] = new JsonArray(new JsonObject
        {
            ["action"] = "show_recovery_ui",
            ["flow"] = new JsonObject { ["id"] = flow.Id.ToString() },
        }),
    };

    /// <summary>
    /// The new flow of Kratos's <c>retryRecoveryFlow</c>: made from the submit request, so it has no <c>return_to</c> (its
    /// <c>request_url</c> is the submit's) and, for a browser flow, a new anti-CSRF token for the browser that sent it
    /// (Kratos's <c>RegenerateToken</c>; see <see cref="CsrfTokens.Regenerate"/> for why API flows keep theirs); the old
    /// flow's type — a browser flow for the link method — carrying the message.
    /// </summary>
    private SelfServiceFlow Retry(HttpContext http, SelfServiceFlow flow, FlowReplaced e)
    {
        var type = e.AsBrowserFlow ? FlowTypes.Browser : flow.Type;
        if (type == FlowTypes.Browser) csrf.Regenerate(http);
        var replacement = NewFlow(http, type, returnTo: null);
        return WithMessage(replacement, e.UiMessage);
    }

    private static SelfServiceFlow WithMessage(SelfServiceFlow flow, JsonObject message)
    {
        var ui = UiContainer.FromJson(flow.Ui);
        ui.Messages.Add(message);
        flow.Ui = ui.ToJson().ToJsonString();
        return flow;
    }

    /// <summary>
    /// A browser flow made through the admin API has no browser yet; the first browser to open it (holding the code or
    /// link, which is the proof) gets it bound to its CSRF cookie. Returns whether the flow was bound by this request.
    /// </summary>
    private async Task<bool> BindToBrowserAsync(HttpContext http, SelfServiceFlow flow, CancellationToken ct)
    {
        if (flow.Type != FlowTypes.Browser || flow.CsrfToken.Length > 0) return false;
        flow.CsrfToken = csrf.Ensure(http);
        var ui = UiContainer.FromJson(flow.Ui);
        ui.Nodes.Insert(0, UiNodes.Csrf(flow.CsrfToken));
        flow.Ui = ui.ToJson().ToJsonString();
        await flows.UpdateAsync(flow, ct);
        return true;
    }

    /// <summary>
    /// Mails a code or link for the address, or — unknown address — the "invalid" template with
    /// <c>notify_unknown_recipients</c>, else nothing. Known and unknown addresses run the same statements (one lookup, a
    /// code written — bound to no identity and never sent for an unknown address, so it can recover nothing — and one mail
    /// insert that writes no row when nothing is to be sent), so the answer's timing does not tell whether an account exists.
    /// </summary>
    private async Task SendAsync(SelfServiceFlow flow, string address, CancellationToken ct)
    {
        var identity = await identityReader.FindByRecoveryAddressAsync("email", address, ct);
        var model = new JsonObject { ["to"] = address };
        if (identity is not null) model["identity"] = identityJson.ToNode(identity, IdentityView.Public);
        await Method.SendAsync(flow, identity?.Id, address, model, deliver: identity is not null || options.Selfservice.Flows.Recovery.NotifyUnknownRecipients, ct);
    }

    /// <summary>
    /// Signs the user in and creates the settings flow where they set a new password, answered as Kratos's
    /// <c>recoveryIssueSession</c> does: by default JSON requests get 422 <c>browser_location_change_required</c> naming the
    /// settings UI — API flows too, whose session token is then in no answer — other requests a 303 there. With
    /// <c>feature_flags.use_continue_with_transitions</c>, API flows (whatever the request asks for) and JSON requests get
    /// 200 with the recovery flow and its <c>continue_with</c>: <c>set_ory_session_token</c> (API flows) then
    /// <c>show_settings_ui</c> (the settings flow's id and UI URL). The link method (<see cref="IRecoveryStrategy.CompletesInBrowser"/>),
    /// whose Kratos counterpart reads no flag, always sets the cookie, makes a browser settings flow and answers 303.
    /// </summary>
    private async Task RecoverAsync(HttpContext http, SelfServiceFlow flow, SelfServiceCode used, IRecoveryStrategy strategy, CancellationToken ct)
    {
        var amr = strategy.SessionMethod;
        // A code made for an unknown address is bound to no identity: it recovers nothing.
        var identity = used.IdentityId is { } identityId ? await identityReader.FindAsync(identityId, ct) : null;
        var ui = UiContainer.FromJson(flow.Ui);
        ui.ClearMessages();
        if (identity is null || identity.State != IdentityStates.Active)
        {
            // An unknown address's code answers exactly as a wrong one does (200).
            ui.Messages.Add(identity is null ? Messages.RecoveryCodeInvalid() : Messages.IdentityDisabled());
            await responder.RespondWithFlowAsync(http, flow, ui, identity is null ? 200 : 400, ct);
            return;
        }
        var hookContext = new HookContext { Http = http, Flow = flow, FlowKind = FlowKinds.Recovery, Method = amr, Identity = identity, IdentityPersisted = true };
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
        var inBrowser = strategy.CompletesInBrowser || flow.Type == FlowTypes.Browser;
        if (inBrowser)
        {
            // Kratos's recoveryIssueSession (code: browser flows; link: always) gives the browser a new anti-CSRF token
            // and the flow keeps it (SetCSRFToken); the settings flow made below carries it too.
            flow.CsrfToken = csrf.Regenerate(http);
            ui.SetCsrf(flow.CsrfToken);
        }
        var issued = await sessions.IssueAsync(hookContext.Identity, new AuthenticationMethod(amr, AssuranceLevels.Aal1, flows.Now()), http, ct);
        if (inBrowser) sessions.WriteCookie(http, issued);
        hookContext.Session = issued.Session;
        await hooks.RunAfterAsync(HookPhase.PostPersist, hookContext, ct);
        var recoveredAt = flows.Now();
        var settingsFlow = await settings.CreateForRecoveryAsync(http, inBrowser ? FlowTypes.Browser : flow.Type, identity.Id, flow.ReturnTo, flow.CsrfToken,
            Messages.RecoverySuccessful(recoveredAt + options.Selfservice.Flows.Settings.PrivilegedSessionMaxAge, recoveredAt), ct);
        var settingsUrl = flows.UiUrlFor(settingsFlow);

        // Kratos keeps continue_with out of the stored flow (db:"-"): only the flagged answer below carries it.
        flow.State = FlowStates.PassedChallenge;
        flow.IdentityId = identity.Id;
        flow.Ui = ui.ToJson().ToJsonString();
        await flows.UpdateAsync(flow, ct);

        if (!strategy.CompletesInBrowser && options.FeatureFlags.UseContinueWithTransitions && (flow.Type == FlowTypes.Api || FlowService.WantsJson(http.Request)))
        {
            var continueWith = new JsonArray();
            if (flow.Type == FlowTypes.Api) continueWith.Add(new JsonObject { ["action"] = "set_ory_session_token", ["ory_session_token"] = issued.Token });
            continueWith.Add(new JsonObject
            {
                ["action"] = "show_settings_ui",
                ["flow"] = new JsonObject { ["id"] = settingsFlow.Id.ToString(), ["url"] = settingsUrl },
            });
            flow.ContinueWith = continueWith.ToJsonString();
            await FlowService.WriteFlowAsync(http, 200, flows.ToJson(flow));
            return;
        }
        if (!strategy.CompletesInBrowser && FlowService.WantsJson(http.Request)) throw FlowResponder.BrowserLocationChangeRequired(settingsUrl);
        FlowService.Redirect(http, settingsUrl);
    }

    /// <summary>
    /// <c>POST /admin/recovery/code</c> and <c>/admin/recovery/link</c>: a recovery flow for an identity, ready to be
    /// completed with the returned code or link (nothing is mailed).
    /// </summary>
    public async Task AdminCreateAsync(HttpContext http, string method)
    {
        var ct = http.RequestAborted;
        EnsureEnabled();
        var strategy = strategies.Registered<IRecoveryStrategy>(method) ?? throw GatehouseError.NotFound($"There is no recovery method \"{method}\".");
        var body = await HttpJson.ReadBodyAsync(http.Request, ct) as JsonObject ?? throw GatehouseError.BadRequest("The request body must be a JSON object.");
        var rawId = FormBody.String(body, "identity_id");
        if (!Guid.TryParse(rawId, out var identityId)) throw GatehouseError.BadRequest("The identity_id field is missing or is not a UUID.");
        var lifespan = strategy.Lifespan;
        if (FormBody.String(body, "expires_in") is { } expiresIn)
        {
            if (!GoDuration.TryParse(expiresIn, out lifespan))
                throw GatehouseError.BadRequest($"Unable to parse \"expires_in\" whose format should match \"[0-9]+(ns|us|ms|s|m|h)\" but did not: {expiresIn}");
            if (lifespan <= TimeSpan.Zero) throw GatehouseError.BadRequest(strategy.ExpiresInNotInFuture(expiresIn, lifespan));
        }
        // The link method ignores flow_type (its flows are browser flows), as Kratos's does.
        var type = strategy.AdminFlowType(FormBody.String(body, "flow_type") ?? FlowTypes.Browser);
        if (type is not (FlowTypes.Browser or FlowTypes.Api)) throw GatehouseError.BadRequest($"Value from \"flow_type\" is not valid: \"{type}\"");
        var returnTo = returnUrls.Validate(http.Request.Query["return_to"].ToString());
        var identity = await identityReader.FindAsync(identityId, ct)
            ?? throw GatehouseError.NotFound("could not find identity");
        // No browser has this flow yet; it is bound to the first browser that opens it (see BindToBrowserAsync).
        var flow = flows.Create(FlowKinds.Recovery, type, http, lifespan, returnTo, "");
        flow.Active = strategy.Name;
        flow.State = FlowStates.SentEmail;
        var address = identity.RecoveryAddresses.FirstOrDefault()?.Value ?? "";
        // Kratos's admin code flow holds only the code and its submit (createRecoveryCodeForIdentity replaces the nodes); a
        // browser flow gets its token node when a browser binds it (BindToBrowserAsync).
        flow.Ui = Form(flow, ui => strategy.PopulateSent(ui, null, withMessage: false), csrf: false).ToJson().ToJsonString();
        await flows.InsertAsync(flow, ct);
        var (status, answer) = await strategy.IssueForAdminAsync(flow, identity, address, lifespan, ct);
        await HttpJson.WriteAsync(http, status, answer);
    }
}
