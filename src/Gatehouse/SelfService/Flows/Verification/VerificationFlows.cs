using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http;
using Gatehouse.Http.Errors;
using Gatehouse.Identities;
using Gatehouse.Schemas;
using Gatehouse.SelfService.Csrf;
using Gatehouse.SelfService.Flows.Settings;
using Gatehouse.SelfService.Hooks;
using Gatehouse.SelfService.Strategies;
using Gatehouse.SelfService.Ui;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Flows.Verification;

/// <summary>
/// The verification flow with the method <c>selfservice.flows.verification.use</c> names (an
/// <see cref="IVerificationStrategy"/>: <c>code</c>, the default, or <c>link</c>), which must be enabled: a code or link is
/// mailed to a verifiable address, and using it marks the address <c>verified</c> (<c>completed</c>, with <c>verified_at</c>). The answer is the
/// same whether or not the address exists; unknown addresses get the "invalid" template only with
/// <c>notify_unknown_recipients</c>, as in Kratos.
/// </summary>
public sealed class VerificationFlows(
    FlowService flows,
    FlowResponder responder,
    CsrfTokens csrf,
    StrategyRegistry strategies,
    OneTimeCodes codes,
    IIdentityReader identityReader,
    IVerifiableAddressStore addresses,
    IdentityJson identityJson,
    ReturnUrlPolicy returnUrls,
    HookRunner hooks,
    IdentityManager identities,
    GatehouseOptions options,
    Sessions.WhoamiCache whoami,
    IPendingTraitsChangeStore pendingStore,
    PendingTraitsChanges pendingChanges)
{
    /// <summary>The configured method (Kratos's <c>GetActiveVerificationStrategy</c>: a 400 when <c>selfservice.methods.&lt;use&gt;.enabled</c> is off; nothing checks this at start-up).</summary>
    private IVerificationStrategy Method => strategies.Find<IVerificationStrategy>(options.Selfservice.Flows.Verification.Use)
        ?? throw GatehouseError.BadRequest($"The active verification strategy {options.Selfservice.Flows.Verification.Use} is not enabled. Please enable it in the configuration.");

    public async Task InitAsync(HttpContext http, string type)
    {
        // Only a browser is sent to the error UI; a native app's /api call gets the JSON error it can read.
        EnsureEnabled(http, forward: type == FlowTypes.Browser);
        // Anything else (return_to, before hooks) Kratos answers directly on both init routes.
        var returnTo = returnUrls.Validate(http.Request.Query["return_to"].ToString());
        var flow = NewFlow(http, type, returnTo);
        await hooks.RunBeforeAsync(http, flow, http.RequestAborted);
        await flows.InsertAsync(flow, http.RequestAborted);
        await responder.RespondNewFlowAsync(http, flow);
    }

    private SelfServiceFlow NewFlow(HttpContext http, string type, string? returnTo)
    {
        var token = type == FlowTypes.Browser ? csrf.Ensure(http) : "";
        var flow = flows.Create(FlowKinds.Verification, type, http, options.Selfservice.Flows.Verification.Lifespan, returnTo, token);
        flow.Active = Method.Name;
        flow.Ui = ChooseMethodUi(flow, null).ToJson().ToJsonString();
        return flow;
    }

    /// <summary>Verification switched off: 400, forwarded to the error UI for browsers on the browser init and fetch routes, as in Kratos.</summary>
    private void EnsureEnabled(HttpContext http, bool forward = true)
    {
        if (options.Selfservice.Flows.Verification.Enabled) return;
        var error = new GatehouseError(400, "Verification is not allowed because it was disabled.", "self_service_flow_disabled");
        throw forward ? http.Forwarded(error) : error;
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
    public Task<JsonObject> FetchAsync(HttpContext http, Guid id) => flows.FetchAsync(http, id, FlowKinds.Verification);

    private UiContainer ChooseMethodUi(SelfServiceFlow flow, string? email) => Form(flow, ui => Method.PopulateAddressForm(ui, email));

    private UiContainer SentUi(SelfServiceFlow flow, string email) => Form(flow, ui => Method.PopulateSent(ui, email));

    /// <summary>The sent form; for a phone number, with the message that says a text message went out (Kratos's <c>VerificationCodeSentMessage</c>).</summary>
    private UiContainer SentUi(SelfServiceFlow flow, string address, string via)
    {
        var ui = SentUi(flow, address);
        if (via == "sms")
        {
            ui.ClearMessages();
            ui.Messages.Add(Messages.VerificationPhoneCodeSent());
        }
        return ui;
    }

    /// <summary>
    /// A verification form: the CSRF token (on browser flows, and on every flow of a method that sets it whatever the
    /// type — <see cref="IVerificationStrategy.CsrfOnEveryFlowType"/>; an API flow's is empty), then the method's nodes.
    /// </summary>
    private UiContainer Form(SelfServiceFlow flow, Action<UiContainer> populate)
    {
        var ui = new UiContainer { Action = flows.ActionUrl(flow) };
        if (flow.Type == FlowTypes.Browser || Method.CsrfOnEveryFlowType) ui.Nodes.Add(UiNodes.Csrf(flow.CsrfToken));
        populate(ui);
        return ui;
    }

    public async Task SubmitAsync(HttpContext http)
    {
        var ct = http.RequestAborted;
        var flow = await flows.LoadForSubmitAsync(http, FlowKinds.Verification);
        // Kratos's updateVerificationFlow checks the flow's expiry (f.Valid) before any method reads the submit or its CSRF token.
        if (flows.IsExpired(flow))
        {
            await RespondExpiredAsync(http, flow, ct);
            return;
        }
        // As in Kratos's code and link Verify, the CSRF token is checked only before an address is mailed: a submit carrying
        // the mailed secret (a code or link token, from the mail's link or a form) needs none — the secret is the proof — and
        // neither do the answers that change nothing (a passed flow replaced, no method, a missing address).
        var body = HttpMethods.IsGet(http.Request.Method)
            ? FormBody.FromQuery(http.Request.Query, "code", "token") // the link in the mail: ?flow=&code= (code) or ?flow=&token= (link)
            : await FormBody.ReadAsync(http.Request, ct);
        FlowService.TakeTransientPayload(flow, body);
        var ui = UiContainer.FromJson(flow.Ui);
        ui.ClearMessages();
        // A link token is spent whatever the flow's state (Kratos's link Verify looks at the token first); a code in choose_method or sent_email.
        if (flow.State == FlowStates.PassedChallenge && !strategies.All<IVerificationStrategy>().Any(m => m.CarriesSecret(flow, body)))
        {
            await ReplacePassedAsync(http, flow, ct);
            return;
        }
        var method = FormBody.String(body, "method");
        var strategy = strategies.All<IVerificationStrategy>().FirstOrDefault(m => m.Handles(method, body));
        if (strategy is null || strategy != Method)
        {
            // Kratos's code method answers a submit it refuses (no method it takes, no address) through its
            // handleVerificationError, which sets the CSRF node whatever the flow's type (an API flow's is empty).
            ui.SetCsrf(flow.CsrfToken);
            ui.Messages.Add(Messages.VerificationNoStrategy());
            await responder.RespondWithFlowAsync(http, flow, ui, 400, ct);
            return;
        }
        if (HttpMethods.IsGet(http.Request.Method) && strategy.OpensFormFromLink && FormBody.String(body, "code") is { Length: > 0 } linked)
        {
            await OpenFromLinkAsync(http, flow, linked, ct);
            return;
        }
        if (strategy.CarriesSecret(flow, body))
        {
            SelfServiceCode? used;
            try
            {
                used = await strategy.RedeemAsync(flow, body, ui, ct);
            }
            catch (FlowExpired e)
            {
                // A verification code past its lifespan (Kratos's VerificationCode.Validate, answered by
                // retryVerificationFlowWithError): the flow is answered as expired, the new flow made from the submit.
                await responder.RespondExpiredAsync(http, flow, e.ExpiredAt, Retry(http, Messages.VerificationFlowExpired(e.ExpiredAt, flows.Now()), flow.Type), ct);
                return;
            }
            catch (FlowReplaced e)
            {
                // Kratos's retryVerificationFlowWithError: a new flow with the message; JSON clients get 410
                // self_service_flow_replaced naming it, other browsers a 303 to its UI. The link method's new flow is a
                // browser flow, and everyone is sent (303) to its UI.
                var replacement = Retry(http, e.UiMessage, e.AsBrowserFlow ? FlowTypes.Browser : flow.Type);
                await flows.InsertAsync(replacement, ct);
                if (!e.AsBrowserFlow && FlowService.WantsJson(http.Request)) throw FlowService.Replaced(replacement, "An error occured, please retry the flow.");
                FlowService.Redirect(http, flows.UiUrlFor(replacement));
                return;
            }
            if (used is null)
            {
                // Kratos writes the flow with the message as a plain 200 (HTML browsers: 303 to the UI), not a 400.
                await RespondOkAsync(http, flow, ui, ct);
                return;
            }
            await CompleteAsync(http, flow, used, ct);
            return;
        }
        var email = FormBody.String(body, "email");
        if (string.IsNullOrWhiteSpace(email))
        {
            ui = ChooseMethodUi(flow, null);
            ui.SetCsrf(flow.CsrfToken);
            ui.AddMessage("email", Messages.Required("email"));
            await responder.RespondWithFlowAsync(http, flow, ui, 400, ct);
            return;
        }
        if (!KratosFormats.IsLooseEmail(email.Trim()))
        {
            // Kratos validates the field as email_loose: nothing is looked up or mailed for a value that is no address.
            ui = ChooseMethodUi(flow, email);
            ui.AddMessage("email", Messages.InvalidEmail(email));
            await responder.RespondWithFlowAsync(http, flow, ui, 400, ct);
            return;
        }
        csrf.VerifySubmit(http, flow, FormBody.String(body, "csrf_token"));
        await codes.CountMailAsync(email, ct);
        if (await pendingStore.FindPendingByVerificationFlowAsync(flow.Id, ct) is { } pending)
        {
            // A flow verifying a held-back profile change (verify_new_address) sends its new code to the change's new
            // address, as Kratos's code method does — after checking, again, that no other identity has claimed it since.
            var owner = await identityReader.FindByVerifiableAddressAsync(pending.NewAddressVia, pending.NewAddressValue, ct);
            if (owner is not null && owner.Id != pending.IdentityId)
            {
                ui.Messages.Add(Messages.DuplicateCredentials());
                await RespondWithStatusAsync(http, flow, ui, 400, ct);
                return;
            }
            await SendToPendingAddressAsync(flow, pending, ct);
            flow.State = FlowStates.SentEmail;
            ui = SentUi(flow, email.Trim(), pending.NewAddressVia);
            await RespondOkAsync(http, flow, ui, ct);
            return;
        }
        await SendAsync(flow, email, ct);
        flow.State = FlowStates.SentEmail;
        ui = SentUi(flow, email.Trim());
        await RespondOkAsync(http, flow, ui, ct);
    }

    /// <summary>
    /// Kratos's code method's <c>updateVerificationFlowWithMessage</c>: the flow with its message, an HTML browser sent (303)
    /// to the verification UI, everyone else answered with <paramref name="status"/>.
    /// </summary>
    private async Task RespondWithStatusAsync(HttpContext http, SelfServiceFlow flow, UiContainer ui, int status, CancellationToken ct)
    {
        if (ContentNegotiation.IsBrowserRequest(http.Request))
        {
            await RespondOkAsync(http, flow, ui, ct);
            return;
        }
        await responder.RespondWithFlowAsync(http, flow, ui, status, ct);
    }

    /// <summary>
    /// A submit that went through (an address mailed, a code tried or used) is answered as Kratos's
    /// <c>updateVerificationFlow</c> (and the code method's wrong-code answer in <c>verificationUseCode</c>) answer it, by
    /// <c>x.IsBrowserRequest</c> alone: a request whose <c>Accept</c> does not ask for JSON is sent (303) to the verification
    /// UI whatever the flow's type and whatever its body — a JSON body posted without <c>Accept</c> too — and one that asks
    /// for JSON gets the flow (200).
    /// </summary>
    private async Task RespondOkAsync(HttpContext http, SelfServiceFlow flow, UiContainer ui, CancellationToken ct)
    {
        if (ContentNegotiation.IsBrowserRequest(http.Request))
        {
            flow.Ui = ui.ToJson().ToJsonString();
            await flows.UpdateAsync(flow, ct);
            FlowService.Redirect(http, flows.UiUrlFor(flow));
            return;
        }
        // Accept asks for JSON, so the responder writes the flow for either type.
        await responder.RespondWithFlowAsync(http, flow, ui, 200, ct);
    }

    /// <summary>
    /// The code method's mailed link opened (<c>GET ?flow=&amp;code=</c>), as Kratos's <c>handleLinkClick</c>: the code is not
    /// used here — a mail scanner following links verifies nothing — but filled into the flow's <c>code</c> field, the
    /// browser gets a new anti-CSRF token that the flow now carries (a flow opened from a mail has none of this browser's),
    /// and everyone, API flows too, is sent (303) to the verification UI, where submitting the form uses the code. A
    /// <c>choose_method</c> flow has no code field yet; it is only bound to the browser.
    /// </summary>
    private async Task OpenFromLinkAsync(HttpContext http, SelfServiceFlow flow, string code, CancellationToken ct)
    {
        var ui = UiContainer.FromJson(flow.Ui); // its messages kept ("a code has been sent")
        if (ui.Find("code")?["attributes"] is JsonObject codeNode) codeNode["value"] = code;
        flow.CsrfToken = csrf.Regenerate(http);
        ui.SetCsrf(flow.CsrfToken);
        flow.Ui = ui.ToJson().ToJsonString();
        await flows.UpdateAsync(flow, ct);
        FlowService.Redirect(http, flows.UiUrlFor(flow));
    }

    /// <summary>
    /// An expired flow submitted, answered as Kratos's verification <c>ErrorHandler.WriteFlowError</c> answers its
    /// <c>flow.ExpiredError</c>: a new <b>browser</b> flow (<c>FromOldFlow</c> turns an API flow into a browser one; the old
    /// flow's <c>request_url</c>, so its <c>return_to</c>; a new anti-CSRF token for the browser that sent the submit) carrying 4070005,
    /// and a <b>303</b>: JSON requests to <c>/self-service/verification/flows?id=&lt;new&gt;</c>, others to the verification
    /// UI. No 410, unlike the other flows (and unlike a verification code past its lifespan).
    /// </summary>
    private async Task RespondExpiredAsync(HttpContext http, SelfServiceFlow expired, CancellationToken ct)
    {
        // Kratos's verification error handler (unlike recovery's) gives the browser a new anti-CSRF token for it.
        if (expired.Type == FlowTypes.Browser) csrf.Regenerate(http);
        var replacement = NewFlow(http, FlowTypes.Browser, expired.ReturnTo);
        replacement.RequestUrl = expired.RequestUrl;
        WithMessage(replacement, Messages.VerificationFlowExpired(expired.ExpiresAt, flows.Now()));
        await flows.InsertAsync(replacement, ct);
        FlowService.Redirect(http, FlowService.WantsJson(http.Request)
            ? $"{flows.PublicBase}/self-service/verification/flows?id={replacement.Id}"
            : flows.UiUrlFor(replacement));
    }

    /// <summary>
    /// A flow that passed its challenge, submitted again: Kratos's code and link <c>Verify</c> answer with
    /// <c>retryVerificationFlowWithMessage</c> and 4070002 — a new flow of the same type carrying the message. The code
    /// method answers JSON clients 410 <c>self_service_flow_replaced</c> naming it and sends other browsers (303) to its UI;
    /// the link method sends a browser flow to the UI and an API flow to its fetch route (303 both).
    /// </summary>
    private async Task ReplacePassedAsync(HttpContext http, SelfServiceFlow passed, CancellationToken ct)
    {
        var replacement = Retry(http, Messages.VerificationRetrySuccess(), passed.Type);
        await flows.InsertAsync(replacement, ct);
        if (Method.Name == "link")
        {
            FlowService.Redirect(http, passed.Type == FlowTypes.Browser
                ? flows.UiUrlFor(replacement)
                : $"{flows.PublicBase}/self-service/verification/flows?id={replacement.Id}");
            return;
        }
        if (FlowService.WantsJson(http.Request)) throw FlowService.Replaced(replacement, "An error occured, please use the new flow.");
        FlowService.Redirect(http, flows.UiUrlFor(replacement));
    }

    /// <summary>
    /// The new flow of Kratos's <c>retryVerificationFlowWithError</c> / <c>WithMessage</c>: made from the submit request
    /// (<c>verification.NewFlow</c>), so it has no <c>return_to</c>, for a browser flow with a new anti-CSRF token for the
    /// browser that sent it (Kratos's <c>RegenerateToken</c>; see <see cref="CsrfTokens.Regenerate"/> for why API flows keep
    /// theirs); of <paramref name="type"/>, carrying <paramref name="message"/>.
    /// </summary>
    private SelfServiceFlow Retry(HttpContext http, JsonObject message, string type)
    {
        if (type == FlowTypes.Browser) csrf.Regenerate(http);
        var replacement = NewFlow(http, type, returnTo: null);
        return WithMessage(replacement, message);
    }

    private static SelfServiceFlow WithMessage(SelfServiceFlow flow, JsonObject message)
    {
        var ui = UiContainer.FromJson(flow.Ui);
        ui.Messages.Add(message);
        flow.Ui = ui.ToJson().ToJsonString();
        return flow;
    }

    /// <summary>
    /// Mails a fresh code or link for the address to the flow (or the unknown-address notice when so configured). Known and
    /// unknown addresses run the same statements (one lookup, a code written — bound to no identity and never sent for an
    /// unknown address, so it verifies nothing — one mail insert that writes no row when nothing is to be sent, and the
    /// pending → sent update, which matches no row for an unknown address), so the answer's timing does not tell whether
    /// an account exists.
    /// </summary>
    public async Task SendAsync(SelfServiceFlow flow, string email, CancellationToken ct)
    {
        var address = email.Trim().ToLowerInvariant();
        var identity = await identityReader.FindByVerifiableAddressAsync("email", address, ct);
        var known = identity?.VerifiableAddresses.First(a => a.Via == "email" && a.Value == address);
        var model = new JsonObject { ["to"] = address };
        if (identity is not null) model["identity"] = identityJson.ToNode(identity, IdentityView.Public);
        await Method.SendAsync(flow, identity?.Id, address, model, deliver: identity is not null || options.Selfservice.Flows.Verification.NotifyUnknownRecipients, ct);
        var marked = await addresses.MarkSentIfPendingAsync(known?.Id ?? Guid.Empty, flows.Now(), ct);
        if (marked > 0) whoami.Invalidate(identity!.Id);
    }

    /// <summary>
    /// Starts a verification flow for an identity's first unverified address and mails it: a login that needs a verified
    /// address, as Kratos's <c>require_verified_address</c>. Returns the flow, or null when verification is off or nothing
    /// needs verifying.
    /// </summary>
    public async Task<(SelfServiceFlow Flow, string Address)?> StartForAsync(HttpContext http, string type, Identity identity, CancellationToken ct)
    {
        if (!options.Selfservice.Flows.Verification.Enabled) return null;
        var first = identity.VerifiableAddresses.FirstOrDefault(a => !a.Verified && a.Via == "email");
        if (first is null) return null;
        var flow = await StartOneAsync(http, type, first.Value, ct);
        return (flow, first.Value);
    }

    /// <summary>
    /// Kratos's verification hook, which runs first after a registration or a profile change when verification is enabled
    /// (<c>hook/verification.go</c> <c>Verifier.do</c>): a verification flow for the identity's first unverified address,
    /// its code or link mailed — or, with <c>feature_flags.legacy_continue_with_verification_ui</c>, one flow per unverified
    /// address, each added to the answer's <c>continue_with</c> (<paramref name="context"/>). The last flow started is what
    /// <c>show_verification_ui</c> points to. <paramref name="rotateCsrf"/>: a browser gets a new anti-CSRF token for the
    /// flow, as Kratos's hook gives one after registration (the session the registration then issues keeps it).
    /// </summary>
    public async Task StartAfterChangeAsync(HttpContext http, string type, Identity identity, HookContext context, CancellationToken ct, bool rotateCsrf = false)
    {
        if (!options.Selfservice.Flows.Verification.Enabled) return;
        var legacy = options.FeatureFlags.LegacyContinueWithVerificationUi;
        foreach (var address in identity.VerifiableAddresses.Where(a => !a.Verified && a.Via == "email" && a.Value.Length > 0))
        {
            if (rotateCsrf && type == FlowTypes.Browser) csrf.Regenerate(http);
            var flow = await StartOneAsync(http, type, address.Value, ct);
            context.Verification = new StartedVerification(flow, address.Value, flows.UiUrlFor(flow));
            if (!legacy) break; // one flow: a client can be sent to only one
            context.ContinueWith.Add(context.Verification.ContinueWith());
        }
    }

    /// <summary>
    /// The <c>verify_new_address</c> hook's verification flow (Kratos's <c>hook.VerifyNewAddress</c>): a flow of the settings
    /// flow's type in <c>sent_email</c> for <paramref name="address"/>, the profile change stored as pending on it (replacing
    /// the identity's earlier pending changes), and its code or link sent to the new address — not to any stored one.
    /// </summary>
    public async Task<StartedVerification> StartForPendingChangeAsync(HttpContext http, SelfServiceFlow settingsFlow, Guid sessionId, Identity identity,
        string proposedTraits, Schemas.AddressSpec address, CancellationToken ct)
    {
        var method = Method;
        if (!method.SendsTo(address.Via))
            throw GatehouseError.BadRequest($"The verification method {method.Name} cannot send to a {address.Via} address; use the code method (selfservice.flows.verification.use: code) to verify phone numbers.");
        var flow = NewFlow(http, settingsFlow.Type, null);
        flow.State = FlowStates.SentEmail;
        flow.Ui = SentUi(flow, address.Value, address.Via).ToJson().ToJsonString();
        await flows.InsertAsync(flow, ct);
        var now = flows.Now();
        var pending = new PendingTraitsChange
        {
            Id = Guid.CreateVersion7(),
            IdentityId = identity.Id,
            SessionId = sessionId,
            OriginSettingsFlowId = settingsFlow.Id,
            VerificationFlowId = flow.Id,
            NewAddressValue = address.Value,
            NewAddressVia = address.Via,
            OriginalTraitsHash = PendingTraitsChange.HashTraits(identity.Traits),
            ProposedTraits = proposedTraits,
            Status = PendingTraitsChangeStatus.Pending,
            CreatedAt = now,
            UpdatedAt = now,
        };
        await pendingStore.ReplaceAsync(pending, ct);
        await SendToPendingAddressAsync(flow, pending, ct);
        return new StartedVerification(flow, address.Value, flows.UiUrlFor(flow));
    }

    private async Task SendToPendingAddressAsync(SelfServiceFlow flow, PendingTraitsChange pending, CancellationToken ct)
    {
        var model = new JsonObject { ["to"] = pending.NewAddressValue };
        if (await identityReader.FindAsync(pending.IdentityId, ct) is { } identity) model["identity"] = identityJson.ToNode(identity, IdentityView.Public);
        await Method.SendToAddressAsync(flow, pending.IdentityId, pending.NewAddressVia, pending.NewAddressValue, model, ct);
    }

    private async Task<SelfServiceFlow> StartOneAsync(HttpContext http, string type, string address, CancellationToken ct)
    {
        var flow = NewFlow(http, type, null);
        flow.State = FlowStates.SentEmail;
        flow.Ui = SentUi(flow, address).ToJson().ToJsonString();
        await flows.InsertAsync(flow, ct);
        await SendAsync(flow, address, ct);
        return flow;
    }

    private async Task<bool> StillHasAddressAsync(SelfServiceCode used, CancellationToken ct) =>
        used.IdentityId is { } id && await identityReader.FindAsync(id, ct) is { } owner
        && owner.VerifiableAddresses.Any(a => a.Via == used.Via && a.Value == used.Address);

    private async Task CompleteAsync(HttpContext http, SelfServiceFlow flow, SelfServiceCode used, CancellationToken ct)
    {
        if (used.IdentityId is null)
        {
            // A code made for an unknown address is bound to no identity: it verifies nothing.
            var refused = UiContainer.FromJson(flow.Ui);
            refused.ClearMessages();
            refused.Messages.Add(Messages.VerificationCodeInvalid());
            await RespondOkAsync(http, flow, refused, ct);
            return;
        }
        var pending = await pendingChanges.FindAsync(flow.Id, ct);
        if (pending is null && !await StillHasAddressAsync(used, ct))
        {
            // The code was sent for an address the identity does not have (any more): a pending profile change's new
            // address whose change was replaced by a newer one, or an address removed since. Kratos's code went with its
            // address (or pending change), so it is "invalid or already used".
            var gone = UiContainer.FromJson(flow.Ui);
            gone.ClearMessages();
            gone.Messages.Add(Method.Name == "link" ? Messages.VerificationTokenInvalid() : Messages.VerificationCodeInvalid());
            await RespondOkAsync(http, flow, gone, ct);
            return;
        }
        HookContext? hookContext = null;
        if (hooks.AfterHooks(FlowKinds.Verification, Method.Name).Count > 0 && used.IdentityId is { } identityId)
        {
            hookContext = new HookContext
            {
                Http = http, Flow = flow, FlowKind = FlowKinds.Verification, Method = Method.Name,
                Identity = await identities.GetAsync(identityId, ct), IdentityPersisted = true,
            };
            try
            {
                await hooks.RunAfterAsync(HookPhase.PrePersist, hookContext, ct);
            }
            catch (FlowHookInterrupt e)
            {
                var failed = UiContainer.FromJson(flow.Ui);
                e.ApplyTo(failed);
                await responder.RespondWithFlowAsync(http, flow, failed, 400, ct);
                return;
            }
        }
        var success = Messages.VerificationSuccessful();
        if (pending is not null)
        {
            // The code verified a held-back profile change's new address (verify_new_address): the change is applied now,
            // or — its session gone, the traits changed meanwhile — not, and the code counts as invalid (Kratos's answers).
            var outcome = await pendingChanges.ApplyAsync(http, pending, ct);
            if (outcome.Result != PendingTraitsResult.Applied)
            {
                var refused = UiContainer.FromJson(flow.Ui);
                refused.ClearMessages();
                if (outcome.Result == PendingTraitsResult.Duplicate)
                {
                    refused.Messages.Add(Messages.DuplicateCredentials());
                    await RespondWithStatusAsync(http, flow, refused, 400, ct);
                    return;
                }
                refused.Messages.Add(Method.Name == "link" ? Messages.VerificationTokenInvalid() : Messages.VerificationCodeInvalid());
                await RespondOkAsync(http, flow, refused, ct);
                return;
            }
            if (pending.NewAddressVia == "sms") success = Messages.VerificationPhoneSuccessful();
        }
        else
        {
            await addresses.MarkVerifiedAsync(used.IdentityId, used.Via, used.Address, flows.Now(), ct);
        }
        flow.State = FlowStates.PassedChallenge;
        flow.IdentityId = used.IdentityId;
        var target = flow.ReturnTo ?? options.Selfservice.Flows.Verification.After.DefaultBrowserReturnUrl ?? returnUrls.Resolve(null);
        // As Kratos: the finished flow's form is a GET to where the user continues, holding only the method's "Continue" link.
        var ui = new UiContainer { Action = target, Method = "GET" };
        ui.Nodes.Add(UiNodes.Anchor("continue", target, Method.Name, Messages.LabelContinue()));
        ui.Messages.Add(success);
        if (hookContext is not null)
        {
            hookContext.Identity = await identities.GetAsync(hookContext.Identity!.Id, ct);
            await hooks.RunAfterAsync(HookPhase.PostPersist, hookContext, ct);
        }
        await RespondOkAsync(http, flow, ui, ct);
    }
}
