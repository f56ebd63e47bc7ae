using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Json;
using Gatehouse.Identities;
using Gatehouse.Persistence;
using Gatehouse.Schemas;
using Gatehouse.SelfService.Csrf;
using Gatehouse.SelfService.Hooks;
using Gatehouse.SelfService.Flows.Settings;
using Gatehouse.SelfService.Ui;
using Gatehouse.Sessions;
using Gatehouse.Text;
using Microsoft.EntityFrameworkCore;
using CourierService = Gatehouse.Courier.Courier;

namespace Gatehouse.SelfService.Flows.Recovery;

/// <summary>
/// The recovery flow with the <c>code</c> (default) or <c>link</c> method. A right code or link signs the user in
/// (AMR <c>code_recovery</c>/<c>link_recovery</c>) and hands over to a settings flow to set a new password, as Kratos does:
/// HTML browsers are redirected to it, SPAs get 422 <c>browser_location_change_required</c>, API clients the flow with
/// <c>continue_with</c> (<c>set_ory_session_token</c>, <c>show_settings_ui</c>). Same answer whether or not the address exists.
/// </summary>
public sealed class RecoveryFlows(
    FlowService flows,
    FlowResponder responder,
    CsrfTokens csrf,
    OneTimeCodes codes,
    CourierService courier,
    GatehouseDbContext db,
    SessionManager sessions,
    SettingsFlows settings,
    IdentityJson identityJson,
    ReturnUrlPolicy returnUrls,
    HookRunner hooks,
    GatehouseOptions options)
{
    private string Method => options.Selfservice.Flows.Recovery.Use == "link" ? "link" : "code";

    private static string KindFor(string method) => method == "link" ? "recovery_link" : "recovery_code";

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
        flow.Active = Method;
        flow.Ui = EmailUi(flow, null).ToJson().ToJsonString();
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

    private UiContainer EmailUi(SelfServiceFlow flow, string? email)
    {
        var ui = new UiContainer { Action = flows.ActionUrl(flow) };
        if (flow.Type == FlowTypes.Browser) ui.Nodes.Add(UiNodes.Csrf(flow.CsrfToken));
        ui.Nodes.Add(UiNodes.Input("email", "email", Method, email, required: true, autocomplete: "email", label: Messages.LabelEmail()));
        ui.Nodes.Add(UiNodes.Submit("method", Method, Method, Messages.LabelSubmit()));
        return ui;
    }

    private UiContainer CodeUi(SelfServiceFlow flow, string? email)
    {
        var ui = new UiContainer { Action = flows.ActionUrl(flow) };
        if (flow.Type == FlowTypes.Browser) ui.Nodes.Add(UiNodes.Csrf(flow.CsrfToken));
        ui.Nodes.Add(UiNodes.Input("code", "text", "code", required: true, autocomplete: "one-time-code", label: Messages.LabelRecoveryCode()));
        ui.Nodes.Add(UiNodes.Submit("method", "code", "code", Messages.LabelContinue()));
        if (email is not null) ui.Nodes.Add(UiNodes.Submit("email", email, "code", Messages.LabelResendCode()));
        return ui;
    }

    public async Task SubmitAsync(HttpContext http)
    {
        var ct = http.RequestAborted;
        var flow = await flows.LoadForSubmitAsync(http, FlowKinds.Recovery);
        JsonObject body;
        if (HttpMethods.IsGet(http.Request.Method))
        {
            // The recovery link: ?flow=&token= (no CSRF: the secret token is the proof).
            body = new JsonObject { ["method"] = "link" };
            if (http.Request.Query["token"].ToString() is { Length: > 0 } t) body["token"] = t;
        }
        else
        {
            body = await FormBody.ReadAsync(http.Request, ct);
            // As in GetAsync: a browser submitting an admin-made flow it never opened has no token to send; the code is the proof.
            if (!await BindToBrowserAsync(http, flow, ct)) csrf.VerifySubmit(http, flow, FormBody.String(body, "csrf_token"));
        }
        if (flows.IsExpired(flow))
        {
            var replacement = NewFlow(http, flow.Type, flow.ReturnTo);
            replacement.CsrfToken = flow.CsrfToken;
            var rui = UiContainer.FromJson(replacement.Ui);
            rui.Messages.Add(Messages.Error(4060005, $"The recovery flow expired {(flows.Now() - flow.ExpiresAt).TotalMinutes:0.00} minutes ago, please try again."));
            replacement.Ui = rui.ToJson().ToJsonString();
            await responder.RespondExpiredAsync(http, flow, replacement, ct);
            return;
        }
        FlowService.TakeTransientPayload(flow, body);
        var ui = UiContainer.FromJson(flow.Ui);
        ui.ClearMessages();
        if (flow.State == FlowStates.PassedChallenge)
        {
            ui.Messages.Add(Messages.RecoveryRetrySuccess());
            await responder.RespondWithFlowAsync(http, flow, ui, 400, ct);
            return;
        }
        var method = FormBody.String(body, "method") ?? (body["code"] is not null ? "code" : null);
        if (method is null || (method != Method && !(method == "link" && body["token"] is not null)))
        {
            ui.Messages.Add(Messages.RecoveryNoStrategy());
            await responder.RespondWithFlowAsync(http, flow, ui, 400, ct);
            return;
        }
        var code = FormBody.String(body, "code");
        var token = FormBody.String(body, "token");
        var email = FormBody.String(body, "email");
        if (method == "code" && !string.IsNullOrEmpty(code) && flow.State == FlowStates.SentEmail)
        {
            var (outcome, used) = await codes.UseCodeAsync(flow.Id, KindFor("code"), code, options.Selfservice.Methods.Code.Config.MaxSubmissions, ct);
            if (outcome != OneTimeCodes.Outcome.Valid)
            {
                ui.Messages.Add(Messages.RecoveryCodeInvalid());
                await responder.RespondWithFlowAsync(http, flow, ui, 400, ct);
                return;
            }
            await RecoverAsync(http, flow, used!, "code_recovery", ct);
            return;
        }
        if (method == "link" && !string.IsNullOrEmpty(token))
        {
            var used = await codes.UseTokenAsync(flow.Id, KindFor("link"), token, ct);
            if (used is null)
            {
                ui.Messages.Add(Messages.RecoveryTokenInvalid());
                await responder.RespondWithFlowAsync(http, flow, ui, 400, ct);
                return;
            }
            await RecoverAsync(http, flow, used, "link_recovery", ct);
            return;
        }
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
        ui = Method == "code" ? CodeUi(flow, email.Trim()) : EmailUi(flow, email.Trim());
        ui.Messages.Add(Method == "code" ? Messages.RecoveryCodeSent() : Messages.RecoveryLinkSent());
        await responder.RespondWithFlowAsync(http, flow, ui, 200, ct);
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
        var identity = await db.Identities.AsNoTracking().Include(i => i.VerifiableAddresses).Include(i => i.RecoveryAddresses).AsSingleQuery()
            .FirstOrDefaultAsync(i => i.RecoveryAddresses.Any(a => a.Via == "email" && a.Value == address), ct);
        var byCode = Method == "code";
        var secret = byCode ? OneTimeCodes.NewCode() : OneTimeCodes.NewToken();
        var lifespan = byCode ? options.Selfservice.Methods.Code.Config.Lifespan : options.Selfservice.Methods.Link.Config.Lifespan;
        await codes.CreateAsync(flow.Id, identity?.Id, KindFor(Method), address, "email", secret, lifespan, ct);
        var model = new JsonObject { ["to"] = address };
        string template;
        if (identity is null) template = byCode ? "recovery_code_invalid" : "recovery_invalid";
        else
        {
            model["identity"] = identityJson.ToNode(identity, IdentityView.Public);
            if (byCode) model["recovery_code"] = secret;
            else model["recovery_url"] = $"{flows.PublicBase}/self-service/recovery?flow={flow.Id}&token={secret}";
            template = byCode ? "recovery_code_valid" : "recovery_valid";
        }
        await courier.QueueEmailAsync(template, address, model, ct, deliver: identity is not null || options.Selfservice.Flows.Recovery.NotifyUnknownRecipients);
    }

    /// <summary>Signs the user in and creates the settings flow where they set a new password.</summary>
    private async Task RecoverAsync(HttpContext http, SelfServiceFlow flow, SelfServiceCode used, string amr, CancellationToken ct)
    {
        // A code made for an unknown address is bound to no identity: it recovers nothing.
        var identity = used.IdentityId is not { } identityId ? null
            : await db.Identities.AsNoTracking().Include(i => i.VerifiableAddresses).Include(i => i.RecoveryAddresses).AsSplitQuery()
                .FirstOrDefaultAsync(i => i.Id == identityId, ct);
        var ui = UiContainer.FromJson(flow.Ui);
        ui.ClearMessages();
        if (identity is null || identity.State != IdentityStates.Active)
        {
            ui.Messages.Add(identity is null ? Messages.RecoveryCodeInvalid() : Messages.IdentityDisabled());
            await responder.RespondWithFlowAsync(http, flow, ui, 400, ct);
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
        var issued = await sessions.IssueAsync(hookContext.Identity, new AuthenticationMethod(amr, "aal1", flows.Now()), http, ct);
        if (flow.Type == FlowTypes.Browser) sessions.WriteCookie(http, issued);
        hookContext.Session = issued.Session;
        await hooks.RunAfterAsync(HookPhase.PostPersist, hookContext, ct);
        var settingsFlow = await settings.CreateForRecoveryAsync(http, flow.Type, identity.Id, flow.ReturnTo, flow.CsrfToken,
            Messages.RecoverySuccessful(options.Selfservice.Flows.Settings.PrivilegedSessionMaxAge.TotalMinutes), ct);
        var settingsUrl = flows.UiUrlFor(settingsFlow);

        flow.State = FlowStates.PassedChallenge;
        flow.IdentityId = identity.Id;
        var continueWith = new JsonArray();
        if (flow.Type == FlowTypes.Api) continueWith.Add(new JsonObject { ["action"] = "set_ory_session_token", ["ory_session_token"] = issued.Token });
        continueWith.Add(new JsonObject { ["action"] = "show_settings_ui", ["flow"] = new JsonObject { ["id"] = settingsFlow.Id.ToString(), ["url"] = settingsUrl } });
        flow.ContinueWith = continueWith.ToJsonString();
        flow.Ui = ui.ToJson().ToJsonString();
        await flows.UpdateAsync(flow, ct);

        if (flow.Type == FlowTypes.Api)
        {
            await FlowService.WriteFlowAsync(http, 200, flows.ToJson(flow));
            return;
        }
        if (FlowService.WantsJson(http.Request))
        {
            throw new GatehouseError(422, $"In order to complete this flow please redirect the browser to: {settingsUrl}", "browser_location_change_required")
            {
                Siblings = new JsonObject { ["redirect_browser_to"] = settingsUrl },
            };
        }
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
        var body = await HttpJson.ReadBodyAsync(http.Request, ct) as JsonObject ?? throw GatehouseError.BadRequest("The request body must be a JSON object.");
        var rawId = FormBody.String(body, "identity_id");
        if (!Guid.TryParse(rawId, out var identityId)) throw GatehouseError.BadRequest("The identity_id field is missing or is not a UUID.");
        var lifespan = method == "code" ? options.Selfservice.Methods.Code.Config.Lifespan : options.Selfservice.Methods.Link.Config.Lifespan;
        if (FormBody.String(body, "expires_in") is { } expiresIn)
        {
            if (!GoDuration.TryParse(expiresIn, out lifespan)) throw GatehouseError.BadRequest($"Unable to parse \"expires_in\" as a duration string: \"{expiresIn}\".");
            if (lifespan <= TimeSpan.Zero) throw GatehouseError.BadRequest("Value from \"expires_in\" must result to a future time.");
        }
        var type = FormBody.String(body, "flow_type") ?? FlowTypes.Browser;
        if (type is not (FlowTypes.Browser or FlowTypes.Api)) throw GatehouseError.BadRequest("flow_type must be \"browser\" or \"api\".");
        var returnTo = returnUrls.Validate(http.Request.Query["return_to"].ToString());
        var identity = await db.Identities.AsNoTracking().Include(i => i.RecoveryAddresses).FirstOrDefaultAsync(i => i.Id == identityId, ct)
            ?? throw GatehouseError.NotFound("could not find identity");
        // No browser has this flow yet; it is bound to the first browser that opens it (see BindToBrowserAsync).
        var flow = flows.Create(FlowKinds.Recovery, method == "code" ? type : FlowTypes.Browser, http, lifespan, returnTo, "");
        flow.Active = method;
        flow.State = FlowStates.SentEmail;
        var address = identity.RecoveryAddresses.FirstOrDefault()?.Value ?? "";
        if (method == "code")
        {
            var secret = OneTimeCodes.NewCode();
            flow.Ui = CodeUi(flow, null).ToJson().ToJsonString();
            await flows.InsertAsync(flow, ct);
            await codes.CreateAsync(flow.Id, identity.Id, KindFor("code"), address, "email", secret, lifespan, ct);
            await HttpJson.WriteAsync(http, 201, new JsonObject
            {
                ["recovery_link"] = flows.UiUrlFor(flow),
                ["recovery_code"] = secret,
                ["expires_at"] = GoTimeJsonConverter.Format(flow.ExpiresAt),
            });
        }
        else
        {
            var secret = OneTimeCodes.NewToken();
            flow.Ui = EmailUi(flow, null).ToJson().ToJsonString();
            await flows.InsertAsync(flow, ct);
            await codes.CreateAsync(flow.Id, identity.Id, KindFor("link"), address, "email", secret, lifespan, ct);
            await HttpJson.WriteAsync(http, 200, new JsonObject
            {
                ["recovery_link"] = $"{flows.PublicBase}/self-service/recovery?flow={flow.Id}&token={secret}",
                ["expires_at"] = GoTimeJsonConverter.Format(flow.ExpiresAt),
            });
        }
    }
}
