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

namespace Gatehouse.SelfService.Flows.Settings;

/// <summary>
/// The settings flow for the signed-in identity. The form's groups and the handling of a submit are the enabled settings
/// methods' (<see cref="ISettingsStrategy"/>: <c>profile</c>, <c>password</c>, …). Changing a credential needs a privileged
/// (recent) session, otherwise 403 <c>session_refresh_required</c> pointing to a refresh login, as Kratos does.
/// </summary>
public sealed class SettingsFlows(
    FlowService flows,
    FlowResponder responder,
    CsrfTokens csrf,
    SessionManager sessions,
    IdentitySchemaRegistry schemas,
    IdentityManager identities,
    IdentityJson identityJson,
    StrategyRegistry strategies,
    ReturnUrlPolicy returnUrls,
    GatehouseOptions options,
    IEnumerable<ISettingsHook> settingsHooks,
    HookRunner hooks,
    SessionAssurance assurance,
    SettingsContinuity continuity,
    Verification.VerificationFlows verification)
{
    public async Task InitAsync(HttpContext http, string type)
    {
        var ct = http.RequestAborted;
        var session = await sessions.FromRequestAsync(http, ct);
        if (session is null)
        {
            // Kratos's routes (settings/handler.go), before the request is looked at: the browser init sends an HTML browser
            // to the login init carrying over the request's own return_to (redir.TakeOverReturnToParameter; the login checks
            // it) and answers JSON its session lookup's error; the API init, behind IsAuthenticated, the middleware's reason.
            if (type == FlowTypes.Browser && !FlowService.WantsJson(http.Request))
            {
                var login = flows.PublicBase + SelfServiceEndpoints.LoginBrowser;
                var given = http.Request.Query["return_to"].FirstOrDefault() ?? "";
                FlowService.Redirect(http, given.Length == 0 ? login : login + "?return_to=" + Uri.EscapeDataString(given));
                return;
            }
            throw type == FlowTypes.Browser ? NoSession() : SessionManager.NoActiveSessionFound("This endpoint can only be accessed with a valid session. Please log in and try again.");
        }
        var returnTo = returnUrls.Validate(http.Request.Query["return_to"].ToString());
        // As Kratos's createBrowserSettingsFlow: the step-up login returns here only when the request named a return_to;
        // its createNativeSettingsFlow names no URL to return to.
        var requestUrl = returnTo is null || type == FlowTypes.Api ? null : flows.PublicBase + http.Request.Path + http.Request.QueryString;
        if (!await EnsureAalAsync(http, type, session, requestUrl, ct)) return;
        var identity = await identities.GetAsync(session.IdentityId, ct);
        var token = type == FlowTypes.Browser ? csrf.Ensure(http) : "";
        var flow = flows.Create(FlowKinds.Settings, type, http, options.Selfservice.Flows.Settings.Lifespan, returnTo, token);
        flow.State = "show_form";
        flow.IdentityId = identity.Id;
        flow.Ui = Form(flow, identity).ToJson().ToJsonString();
        await hooks.RunBeforeAsync(http, flow, ct);
        await flows.InsertAsync(flow, ct);
        // Kratos's createBrowserSettingsFlow answers by Accept alone (x.SendFlowCompletedAsRedirectOrJSON).
        if (type == FlowTypes.Api || ContentNegotiation.AcceptsJson(http.Request)) await FlowService.WriteFlowAsync(http, 200, ToJson(flow, identity));
        else FlowService.Redirect(http, flows.UiUrlFor(flow));
    }

    /// <summary>The settings flow a completed recovery hands over to (with the recovery's success message).</summary>
    public async Task<SelfServiceFlow> CreateForRecoveryAsync(HttpContext http, string type, Guid identityId, string? returnTo, string csrfToken, JsonObject message, CancellationToken ct)
    {
        var identity = await identities.GetAsync(identityId, ct);
        var token = type == FlowTypes.Browser ? (csrfToken.Length > 0 ? csrfToken : csrf.Ensure(http)) : "";
        var flow = flows.Create(FlowKinds.Settings, type, http, options.Selfservice.Flows.Settings.Lifespan, returnTo, token);
        flow.State = "show_form";
        flow.IdentityId = identity.Id;
        var ui = Form(flow, identity);
        ui.Messages.Add(message);
        flow.Ui = ui.ToJson().ToJsonString();
        await flows.InsertAsync(flow, ct);
        return flow;
    }

    /// <summary><c>GET /self-service/settings/flows?id=</c>: without a session Kratos's <see cref="Unauthenticated"/>, before the id is read.</summary>
    public async Task GetAsync(HttpContext http)
    {
        if (await sessions.FromRequestAsync(http, http.RequestAborted) is not { } session)
        {
            Unauthenticated(http);
            return;
        }
        await FlowService.WriteFlowAsync(http, 200, await FetchAsync(http, FlowService.FlowId(http.Request, "id"), session));
    }

    /// <summary>
    /// The flow as the public fetch endpoint answers it, by the same rules (the session's own flow; a browser flow only for
    /// the browser holding its CSRF cookie; expired → 410); used by that endpoint and, in-process, by the built-in pages.
    /// </summary>
    public async Task<JsonObject> FetchAsync(HttpContext http, Guid id) => await FetchAsync(http, id, null);

    private async Task<JsonObject> FetchAsync(HttpContext http, Guid id, Session? session)
    {
        var ct = http.RequestAborted;
        var flow = await flows.LoadAsync(id, FlowKinds.Settings, ct);
        session ??= await sessions.FromRequestAsync(http, ct) ?? throw NoSession();
        if (flow.IdentityId != session.IdentityId) throw Mismatch();
        await EnsureAalAsync(http, FlowTypes.Api, session, flows.UiUrlFor(flow), ct);
        csrf.VerifyCookie(http, flow);
        if (flows.IsExpired(flow)) throw flows.ExpiredOnFetch(flow);
        var identity = await identities.GetAsync(session.IdentityId, ct);
        var json = ToJson(flow, identity);
        foreach (var strategy in strategies.Enabled<ISettingsStrategy>()) strategy.RevealOnFetch(http, flow, json);
        return json;
    }

    public JsonObject ToJson(SelfServiceFlow flow, Identity identity)
    {
        var o = flows.ToJson(flow);
        o["identity"] = identityJson.ToNode(identity, IdentityView.Public);
        return o;
    }

    private UiContainer Form(SelfServiceFlow flow, Identity identity)
    {
        var ui = new UiContainer { Action = flows.ActionUrl(flow) };
        if (flow.Type == FlowTypes.Browser) ui.Nodes.Add(UiNodes.Csrf(flow.CsrfToken));
        var form = new SettingsForm { Flow = flow, Ui = ui, Identity = identity, Schema = SchemaOf(identity) };
        foreach (var strategy in strategies.Enabled<ISettingsStrategy>()) strategy.Populate(form);
        UiNodeOrder.Arrange(FlowKinds.Settings, ui, form.Schema);
        return ui;
    }

    private IdentitySchema SchemaOf(Identity identity) => schemas.Find(identity.SchemaId) ?? schemas.Default;

    /// <summary>
    /// <c>POST</c> and <c>GET /self-service/settings?flow=</c> (Kratos's <c>updateSettingsFlow</c> serves both; a GET's
    /// submit is its query). An HTML browser's request to a browser flow first resumes a submit paused for a refresh login
    /// (<see cref="SettingsContinuity"/>); a request no method takes gets 4010004 on the flow (HTML: 303 to the settings UI).
    /// </summary>
    public async Task SubmitAsync(HttpContext http)
    {
        var ct = http.RequestAborted;
        var session = await sessions.FromRequestAsync(http, ct);
        if (session is null)
        {
            Unauthenticated(http);
            return;
        }
        var flow = await flows.LoadForSubmitAsync(http, FlowKinds.Settings);
        if (flow.IdentityId != session.IdentityId) throw Mismatch();
        if (!await EnsureAalAsync(http, flow.Type, session, flows.PublicBase + http.Request.Path + http.Request.QueryString, ct)) return;
        var body = HttpMethods.IsGet(http.Request.Method) ? FormBody.FromQueryAsForm(http.Request.Query, "flow") : await FormBody.ReadAsync(http.Request, ct);
        var method = FormBody.String(body, "method");
        var strategy = strategies.Find<ISettingsStrategy>(method) ?? strategies.Enabled<ISettingsStrategy>().FirstOrDefault(m => m.Handles(method, body));
        // Kratos's methods check the token once they take the submit: one no method takes gets 4010004 without it.
        if (strategy is { SubmitCarriesCsrfToken: false }) csrf.VerifyJsonSubmit(http, flow, FormBody.String(body, "csrf_token"));
        else if (strategy is not null) csrf.VerifySubmit(http, flow, FormBody.String(body, "csrf_token"));
        var identity = await identities.GetAsync(session.IdentityId, ct);
        if (flows.IsExpired(flow))
        {
            var replacement = flows.Create(FlowKinds.Settings, flow.Type, http, options.Selfservice.Flows.Settings.Lifespan, flow.ReturnTo, flow.CsrfToken);
            replacement.State = "show_form";
            replacement.IdentityId = identity.Id;
            var rui = Form(replacement, identity);
            rui.Messages.Add(Messages.SettingsFlowExpired(flow.ExpiresAt, flows.Now()));
            replacement.Ui = rui.ToJson().ToJsonString();
            await responder.RespondExpiredAsync(http, flow, replacement, ct);
            return;
        }
        if (flow.Type == FlowTypes.Browser && !FlowService.WantsJson(http.Request) && await TakePausedAsync(flow, identity.Id, strategy, ct) is { } paused)
        {
            (strategy, body) = paused;
            // A paused oidc link or unlink passed VerifyJsonSubmit without a token (Kratos's body has none): the browser's
            // cookie must still be the flow's.
            if (strategy.SubmitCarriesCsrfToken || FormBody.String(body, "csrf_token") is { Length: > 0 }) csrf.VerifySubmit(http, flow, FormBody.String(body, "csrf_token"));
            else csrf.VerifyCookie(http, flow);
        }
        FlowService.TakeTransientPayload(flow, body);
        var ui = Form(flow, identity);
        if (strategy is null)
        {
            ui.Messages.Add(Messages.SettingsNoStrategy());
            await RespondAsync(http, flow, identity, ui, 400, ct);
            return;
        }
        flow.Active = strategy.Name;
        await strategy.UpdateAsync(Submission(http, flow, session, identity, ui, body, strategy), ct);
    }

    /// <summary>
    /// Kratos's <c>settings.PrepareUpdate</c>, which each method runs in order before reading the request: the first
    /// method, up to the one this request names, with a submit paused on this flow takes it back (once) and runs it
    /// instead. Only for HTML browsers (Kratos: not for API flows nor JSON requests).
    /// </summary>
    private async Task<(ISettingsStrategy Strategy, JsonObject Body)?> TakePausedAsync(SelfServiceFlow flow, Guid identityId, ISettingsStrategy? named, CancellationToken ct)
    {
        foreach (var candidate in strategies.Enabled<ISettingsStrategy>())
        {
            if (candidate.Name == named?.Name) break;
            if (await continuity.TakeAsync(flow, candidate.Name, identityId, ct) is { } body) return (candidate, body);
        }
        return null;
    }

    /// <summary>
    /// A settings change a method finishes outside the submit (social sign-in's callback after <c>link</c>): the request
    /// must carry a session of the flow's identity (as for a submit; 401/403 otherwise), and the method answers through the
    /// submission as it would for a submit.
    /// </summary>
    /// <remarks>
    /// <paramref name="pausable"/> is the submit to pause if the change needs a refresh login (Kratos pauses the callback's
    /// <c>link</c> to start it again when the login comes back).
    /// </remarks>
    public async Task<SettingsSubmission> ResumeAsync(HttpContext http, SelfServiceFlow flow, ISettingsStrategy strategy, CancellationToken ct, JsonObject? pausable = null)
    {
        var session = await sessions.FromRequestAsync(http, ct) ?? throw NoSession();
        if (flow.IdentityId != session.IdentityId) throw Mismatch();
        var identity = await identities.GetAsync(session.IdentityId, ct);
        flow.Active = strategy.Name;
        return Submission(http, flow, session, identity, Form(flow, identity), pausable ?? [], strategy);
    }

    private SettingsSubmission Submission(HttpContext http, SelfServiceFlow flow, Session session, Identity identity, UiContainer ui, JsonObject body, ISettingsStrategy strategy)
    {
        SettingsSubmission? submission = null;
        submission = new SettingsSubmission
        {
            Http = http, Flow = flow, Session = session, Identity = identity, Schema = SchemaOf(identity), Ui = ui, Body = body,
            RespondAsync = (status, token) => RespondAsync(http, flow, identity, ui, status, token, submission?.ResponseOnly),
            EnsurePrivilegedAsync = token => PrivilegedAsync(http, flow, session, strategy.Name, body, token),
            RunPrePersistHooksAsync = (context, token) => RunPrePersistHooksAsync(http, flow, session, identity, ui, context, strategy.Name, body, token),
            AfterTraitsChangedAsync = (before, after, context, token) => AfterTraitsChangedAsync(http, flow, before, after, context, token),
            SucceedAsync = (updated, redirectBrowserTo, token) => SucceedAsync(http, flow, updated, strategy.Name, token, redirectBrowserTo, submission!.ContinueWith),
        };
        return submission;
    }

    /// <summary>The one "hook interrupted" path of the settings methods: the hook's messages on the form, 400.</summary>
    private async Task<bool> RunPrePersistHooksAsync(HttpContext http, SelfServiceFlow flow, Session session, Identity identity, UiContainer ui, HookContext context,
        string method, JsonObject body, CancellationToken ct)
    {
        try
        {
            await hooks.RunAfterAsync(HookPhase.PrePersist, context, ct);
            return true;
        }
        catch (FlowHookInterrupt e)
        {
            e.ApplyTo(ui);
            await RespondAsync(http, flow, identity, ui, 400, ct);
            return false;
        }
        catch (NewAddressVerificationRequired e)
        {
            await DeferUntilVerifiedAsync(http, flow, session, identity, ui, method, body, e, ct);
            return false;
        }
    }

    /// <summary>
    /// The <c>verify_new_address</c> hook held the change back (Kratos's <c>hook.VerifyNewAddress</c>); nothing of it is saved.
    /// A session that is not privileged is asked to sign in again; more than one changed address gets 4050002 on the flow
    /// (200; HTML: 303 to the settings UI), an address another identity owns 4000007 (400; HTML: 303). Otherwise the change
    /// waits for a verification flow whose code goes to the new address: the flow answers with <c>continue_with</c>
    /// <c>show_verification_ui</c> (200), an HTML browser is sent (303) to the verification UI.
    /// </summary>
    private async Task DeferUntilVerifiedAsync(HttpContext http, SelfServiceFlow flow, Session session, Identity identity, UiContainer ui, string method,
        JsonObject body, NewAddressVerificationRequired e, CancellationToken ct)
    {
        if (!await PrivilegedAsync(http, flow, session, method, body, ct)) return;
        if (e.Changed.Count > 1)
        {
            ui.ClearMessages();
            ui.Messages.Add(Messages.SettingsTooManyAddressChanges());
            await RespondAsync(http, flow, identity, ui, 200, ct);
            return;
        }
        if (e.OwnedByAnother)
        {
            ui.ClearMessages();
            ui.Messages.Add(Messages.DuplicateCredentials());
            await RespondAsync(http, flow, identity, ui, 400, ct);
            return;
        }
        var started = await verification.StartForPendingChangeAsync(http, flow, session.Id, identity, e.ProposedTraits, e.Changed[0], ct);
        var item = started.ContinueWith();
        if (flow.Type == FlowTypes.Browser && !FlowService.WantsJson(http.Request))
        {
            flow.Ui = ui.ToJson().ToJsonString();
            await flows.UpdateAsync(flow, ct);
            FlowService.Redirect(http, started.UiUrl);
            return;
        }
        await RespondAsync(http, flow, identity, ui, 200, ct, json => json["continue_with"] = new JsonArray(item));
    }

    private async Task AfterTraitsChangedAsync(HttpContext http, SelfServiceFlow flow, Identity before, Identity after, HookContext context, CancellationToken ct)
    {
        foreach (var hook in settingsHooks) await hook.AfterProfileUpdateAsync(http, flow, before, after, context, ct);
    }

    /// <summary>
    /// The change is saved. API flows get the flow with the hooks' <c>continue_with</c> items (Kratos keeps them out of
    /// the stored flow and hands them to the answer; none, none in the answer); SPAs those items and then
    /// <c>redirect_browser_to</c>, added after the hooks ran (<c>settings/hook.go</c>).
    /// </summary>
    private async Task SucceedAsync(HttpContext http, SelfServiceFlow flow, Identity identity, string method, CancellationToken ct, string? redirectBrowserTo,
        IReadOnlyList<JsonObject> continueWith)
    {
        flow.State = "success";
        var ui = Form(flow, identity);
        ui.Messages.Add(Messages.Success(1050001, "Your changes have been saved!"));
        flow.Ui = ui.ToJson().ToJsonString();
        await flows.UpdateAsync(flow, ct);
        if (flow.Type == FlowTypes.Api || FlowService.WantsJson(http.Request))
        {
            var json = ToJson(flow, identity);
            var items = new JsonArray([.. continueWith.Select(i => (JsonNode)i.DeepClone())]);
            if (flow.Type == FlowTypes.Browser && (flow.ReturnTo ?? options.Selfservice.Flows.Settings.After.DefaultBrowserReturnUrlFor(method)) is { } target)
                items.Add(new JsonObject { ["action"] = "redirect_browser_to", ["redirect_browser_to"] = target });
            if (items.Count > 0) json["continue_with"] = items;
            await FlowService.WriteFlowAsync(http, 200, json);
            return;
        }
        FlowService.Redirect(http, redirectBrowserTo ?? flow.ReturnTo ?? options.Selfservice.Flows.Settings.After.DefaultBrowserReturnUrlFor(method) ?? flows.UiUrlFor(flow));
    }

    private async Task RespondAsync(HttpContext http, SelfServiceFlow flow, Identity identity, UiContainer ui, int status, CancellationToken ct, Action<JsonObject>? responseOnly = null)
    {
        // A failed submit's form is sorted again (Kratos's settings error handler); a method's next step keeps its order.
        if (UiNodeOrder.Failed(ui)) UiNodeOrder.Arrange(FlowKinds.Settings, ui, SchemaOf(identity));
        flow.Ui = ui.ToJson().ToJsonString();
        await flows.UpdateAsync(flow, ct);
        if (flow.Type == FlowTypes.Api || FlowService.WantsJson(http.Request))
        {
            var json = ToJson(flow, identity);
            responseOnly?.Invoke(json);
            await FlowService.WriteFlowAsync(http, status, json);
        }
        else
        {
            FlowService.Redirect(http, flows.UiUrlFor(flow));
        }
    }

    /// <summary>
    /// Whether the session signed in recently enough to change credentials. If not, a browser flow's submit is paused
    /// (Kratos's methods' <c>handleSettingsError</c>; <see cref="SettingsContinuity"/>) and, as Kratos's
    /// <c>reauthenticate</c>, an HTML browser is sent to sign in again (303; false), JSON and API clients get 403
    /// <c>session_refresh_required</c>. The login returns to this request's URL — the submit route, whose GET resumes
    /// the paused submit.
    /// </summary>
    private async Task<bool> PrivilegedAsync(HttpContext http, SelfServiceFlow flow, Session session, string method, JsonObject body, CancellationToken ct)
    {
        if (session.AuthenticatedAt >= flows.Now() - options.Selfservice.Flows.Settings.PrivilegedSessionMaxAge) return true;
        if (flow.Type == FlowTypes.Browser) await continuity.PauseAsync(flow, method, session.IdentityId, body, ct);
        var returnTo = flows.PublicBase + http.Request.Path + http.Request.QueryString;
        var target = $"{flows.PublicBase}{SelfServiceEndpoints.LoginBrowser}?refresh=true&return_to={Uri.EscapeDataString(returnTo)}";
        if (flow.Type == FlowTypes.Browser && !FlowService.WantsJson(http.Request))
        {
            FlowService.Redirect(http, target);
            return false;
        }
        throw new GatehouseError(403, "The login session is too old and thus not allowed to update these fields. Please re-authenticate.", "session_refresh_required",
            details: new JsonObject { ["redirect_browser_to"] = target })
        {
            Siblings = new JsonObject { ["redirect_browser_to"] = target },
        };
    }

    /// <summary>
    /// <c>selfservice.flows.settings.required_aal</c> (Kratos's <c>DoesSessionSatisfy</c> in the settings handler): an aal1
    /// session of an identity with a second factor steps up first — HTML browsers by 303 to the aal2 login, everyone else
    /// 403 <c>session_aal2_required</c>. The login returns to <paramref name="returnTo"/> when given.
    /// </summary>
    private async Task<bool> EnsureAalAsync(HttpContext http, string type, Session session, string? returnTo, CancellationToken ct)
    {
        if (await assurance.SatisfiesAsync(session, assurance.SettingsRequiredAal, ct)) return true;
        var url = returnTo is null ? assurance.StepUpUrl() : assurance.StepUpUrlReturningTo(returnTo);
        if (type == FlowTypes.Browser && !FlowService.WantsJson(http.Request))
        {
            FlowService.Redirect(http, url);
            return false;
        }
        throw SessionAssurance.Aal2Required(url);
    }

    private static GatehouseError NoSession() => SessionManager.NoActiveSessionFound();

    /// <summary>
    /// Kratos's <c>settings.OnUnauthenticated</c>, the answer of the fetch and submit routes to a request without a session
    /// before anything else is read: JSON clients 401 without an error id, everyone else a 302 to the login UI.
    /// </summary>
    private void Unauthenticated(HttpContext http)
    {
        if (FlowService.WantsJson(http.Request)) throw GatehouseError.Unauthorized("A valid Ory Session Cookie or Ory Session Token is missing.");
        http.Response.StatusCode = StatusCodes.Status302Found;
        http.Response.Headers.Location = flows.UiUrl(FlowKinds.Login);
    }

    private static GatehouseError Mismatch() =>
        new(403, "The flow belongs to another identity than the session.", "security_identity_mismatch");
}

/// <summary>Runs after a settings profile update (e.g. sending verification mail for a changed address).</summary>
public interface ISettingsHook
{
    /// <summary>Records on <paramref name="context"/> the verification flow it started for a new address, if any (for <c>show_verification_ui</c>).</summary>
    Task AfterProfileUpdateAsync(HttpContext http, SelfServiceFlow flow, Identity before, Identity after, HookContext context, CancellationToken ct);
}
