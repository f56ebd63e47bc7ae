using System.Globalization;
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

namespace Gatehouse.SelfService.Flows.Registration;

/// <summary>
/// The registration flow, in both of Kratos's styles: <c>unified</c> (traits and credentials in one step) and
/// <c>profile_first</c> (traits first, then the credentials). The form's method nodes and the handling of a submit are the
/// enabled registration methods' (<see cref="IRegistrationStrategy"/>); the flow creates the identity a method asks for,
/// runs the hooks and answers. A session is issued only when the <c>session</c> hook is configured for the method, as in Kratos.
/// </summary>
public sealed class RegistrationFlows(
    FlowService flows,
    FlowResponder responder,
    CsrfTokens csrf,
    SessionManager sessions,
    IdentitySchemaRegistry schemas,
    IdentityManager identities,
    StrategyRegistry strategies,
    ReturnUrlPolicy returnUrls,
    IdentityJson identityJson,
    Verification.VerificationFlows verification,
    HookRunner hooks,
    Login.OAuth2LoginChallenges oauth2Logins,
    SessionTokenExchange exchange,
    ConflictingIdentities conflicts,
    GatehouseOptions options)
{
    private bool ProfileFirst => options.Selfservice.Flows.Registration.ProfileFirst;

    public async Task InitAsync(HttpContext http, string type)
    {
        var ct = http.RequestAborted;
        if (!options.Selfservice.Flows.Registration.Enabled) throw Disabled();
        var returnTo = returnUrls.Validate(http.Request.Query["return_to"].ToString());
        var schemaParam = http.Request.Query["identity_schema"].ToString();
        var schema = schemaParam.Length == 0 ? schemas.Default
            : schemas.Find(schemaParam) ?? throw GatehouseError.BadRequest($"Requested identity schema \"{schemaParam}\" does not exist.");
        // Kratos's SelfServiceFlowIdentitySchema: other schemas are for the admin API only.
        if (!schemas.IsSelfServiceSelectable(schema))
            throw GatehouseError.BadRequest($"Requested identity schema \"{schemaParam}\" is not enabled for self-service flows.");
        // Started for Gatehouse's OAuth2 provider (Kratos's registration with Hydra): the flow carries the login challenge
        // and, once a session exists, accepts the login request.
        var loginChallenge = type == FlowTypes.Browser ? Login.OAuth2LoginChallenges.FromQuery(http.Request) : null;
        var loginRequest = loginChallenge is null ? null : await oauth2Logins.GetAsync(loginChallenge, ct);
        // oauth2_provider.override_return_to: Kratos's createBrowserRegistrationFlow rewrites return_to only after the
        // registration flow exists, so it reaches only the login flow a session is sent to below, which applies it itself.
        if (await sessions.FromRequestAsync(http, ct) is { } session)
        {
            if (loginChallenge is not null)
            {
                // Kratos: a login request Hydra lets skip is accepted for the session; otherwise the browser goes to the
                // login flow with the same query, which asks the session to sign in again.
                var next = loginRequest!["skip"]?.GetValue<bool>() == true
                    ? await oauth2Logins.AcceptAsync(loginChallenge, session, ct)
                    : flows.PublicBase + "/self-service/login/browser" + http.Request.QueryString;
                if (FlowService.WantsJson(http.Request)) throw FlowResponder.BrowserLocationChangeRequired(next);
                FlowService.Redirect(http, next);
                return;
            }
            if (type == FlowTypes.Browser && !FlowService.WantsJson(http.Request))
            {
                FlowService.Redirect(http, returnUrls.Resolve(returnTo));
                return;
            }
            throw new GatehouseError(400, "A valid session was detected and thus registration is not possible.", "session_already_available", "you are already logged in");
        }
        var token = type == FlowTypes.Browser ? csrf.Ensure(http) : "";
        var flow = flows.Create(FlowKinds.Registration, type, http, options.Selfservice.Flows.Registration.Lifespan, returnTo, token);
        flow.InternalContext = new JsonObject { ["schema_id"] = schema.Id }.ToJsonString();
        var ui = FirstStep(flow, schema, null);
        flow.Ui = ui.ToJson().ToJsonString();
        var exchangeCode = type == FlowTypes.Api && SessionTokenExchange.Requested(http.Request) ? SessionTokenExchange.Start(flow) : null;
        await hooks.RunBeforeAsync(http, flow, ct);
        await flows.InsertAsync(flow, ct);
        if (exchangeCode is not null)
        {
            var json = flows.ToJson(flow);
            json["session_token_exchange_code"] = exchangeCode;
            await FlowService.WriteFlowAsync(http, 200, json);
            return;
        }
        await responder.RespondNewFlowAsync(http, flow);
    }

    public async Task GetAsync(HttpContext http)
    {
        // Kratos forwards this one error of the fetch route to the error UI (getRegistrationFlow).
        if (!options.Selfservice.Flows.Registration.Enabled) throw http.Forwarded(Disabled());
        await FlowService.WriteFlowAsync(http, 200, await FetchAsync(http, FlowService.FlowId(http.Request, "id")));
    }

    private static GatehouseError Disabled() =>
        new(400, "Registration is not allowed because it was disabled.", "self_service_flow_disabled", "registration flow disabled");

    /// <summary>
    /// The flow as the public fetch endpoint answers it, by the same rules (a browser flow only for the browser holding its
    /// CSRF cookie; expired → 410); used by that endpoint and, in-process, by the built-in pages.
    /// </summary>
    public async Task<JsonObject> FetchAsync(HttpContext http, Guid id)
    {
        var flow = await flows.FetchAsync(http, id, FlowKinds.Registration);
        // As for login (Kratos's getRegistrationFlow): the OAuth2 login request the flow answers, for the UI.
        if (flow["oauth2_login_challenge"] is JsonValue challenge)
            flow["oauth2_login_request"] = await oauth2Logins.GetAsync(challenge.GetValue<string>(), http.RequestAborted);
        return flow;
    }

    private UiContainer FirstStep(SelfServiceFlow flow, IdentitySchema schema, JsonNode? traits) => Form(flow, schema, traits, RegistrationStep.First);

    private UiContainer CredentialStep(SelfServiceFlow flow, IdentitySchema schema, JsonNode traits) => Form(flow, schema, traits, RegistrationStep.Credentials);

    /// <summary>CSRF token, the traits (hidden in the credentials step), then each enabled method's nodes, in Kratos's order.</summary>
    private UiContainer Form(SelfServiceFlow flow, IdentitySchema schema, JsonNode? traits, RegistrationStep step)
    {
        var ui = new UiContainer { Action = flows.ActionUrl(flow) };
        if (flow.Type == FlowTypes.Browser) ui.Nodes.Add(UiNodes.Csrf(flow.CsrfToken));
        var traitsStart = ui.Nodes.Count;
        ui.Nodes.AddRange(UiNodes.Traits(schema, traits, hidden: step == RegistrationStep.Credentials));
        var form = new RegistrationForm { Flow = flow, Ui = ui, Schema = schema, Step = step, ProfileFirst = ProfileFirst, TraitsStart = traitsStart };
        foreach (var strategy in strategies.Enabled<IRegistrationStrategy>()) strategy.Populate(form);
        // Kratos sorts the form whenever it shows it anew: a new flow, and each step of a profile-first registration.
        UiNodeOrder.Arrange(FlowKinds.Registration, ui, schema);
        return ui;
    }

    public async Task SubmitAsync(HttpContext http)
    {
        var ct = http.RequestAborted;
        var flow = await flows.LoadForSubmitAsync(http, FlowKinds.Registration);
        var body = await FormBody.ReadAsync(http.Request, ct);
        csrf.VerifySubmit(http, flow, FormBody.String(body, "csrf_token"));
        var context = JsonNode.Parse(flow.InternalContext ?? "{}")!.AsObject();
        var schema = schemas.Find(context["schema_id"]?.GetValue<string>() ?? "") ?? schemas.Default;
        if (flows.IsExpired(flow))
        {
            await ReplaceExpiredAsync(http, flow, schema, flow.ExpiresAt, ct);
            return;
        }
        if (flow.State == FlowStates.PassedChallenge)
            throw GatehouseError.BadRequest("The request was already completed successfully and can not be retried.");
        FlowService.TakeTransientPayload(flow, body);

        var method = FormBody.String(body, "method");
        var submittedTraits = TraitValues.Coerce(schema, body["traits"]);
        var storedTraits = context["traits"];

        var strategy = strategies.Enabled<IRegistrationStrategy>().FirstOrDefault(m => m.Handles(method, body));
        if (strategy is null)
        {
            var ui0 = UiContainer.FromJson(flow.Ui);
            ui0.ClearMessages();
            ui0.Messages.Add(Messages.RegistrationNoStrategy());
            await responder.RespondWithFlowAsync(http, flow, ui0, 400, ct);
            return;
        }
        flow.Active = strategy.Name;
        var submission = new RegistrationSubmission
        {
            Http = http, Flow = flow, Schema = schema, Body = body, Context = context, SubmittedTraits = submittedTraits, ProfileFirst = ProfileFirst,
            FirstStep = t => FirstStep(flow, schema, t),
            CredentialStep = t => CredentialStep(flow, schema, t),
            CredentialTraits = () => CredentialTraits(flow, schema, submittedTraits, storedTraits),
        };
        RegistrationOutcome outcome;
        try
        {
            outcome = await strategy.RegisterAsync(submission, ct);
        }
        catch (FlowExpired e)
        {
            // A registration code past its lifespan (Kratos's RegistrationCode.Validate): the flow is answered as expired.
            await ReplaceExpiredAsync(http, flow, schema, e.ExpiredAt, ct);
            return;
        }
        await CompleteAsync(http, flow, schema, strategy.Name, outcome, ct);
    }

    /// <summary>
    /// Kratos's <c>PrepareReplacementForExpiredFlow</c>: a new flow of the same type, return URL, CSRF token and schema,
    /// with the first step's form and the flow-expired message 4040001 counted from <paramref name="expiredAt"/> (the flow's
    /// expiry, or a registration code's); 410 with its id, or a 303 to it for HTML browsers.
    /// </summary>
    private async Task ReplaceExpiredAsync(HttpContext http, SelfServiceFlow flow, IdentitySchema schema, DateTime expiredAt, CancellationToken ct)
    {
        var replacement = flows.Create(FlowKinds.Registration, flow.Type, http, options.Selfservice.Flows.Registration.Lifespan, flow.ReturnTo, flow.CsrfToken);
        // Kratos's FromOldFlow keeps the old request_url.
        replacement.RequestUrl = flow.RequestUrl;
        replacement.InternalContext = new JsonObject { ["schema_id"] = schema.Id }.ToJsonString();
        Login.OAuth2LoginChallenges.CarryOver(flow, replacement);
        var rui = FirstStep(replacement, schema, null);
        rui.Messages.Add(Messages.RegistrationFlowExpired(expiredAt, flows.Now()));
        replacement.Ui = rui.ToJson().ToJsonString();
        await responder.RespondExpiredAsync(http, flow, expiredAt, replacement, ct);
    }

    /// <summary>The identity schema a registration flow registers with (chosen when it was made).</summary>
    public IdentitySchema SchemaOf(SelfServiceFlow flow)
    {
        var context = JsonNode.Parse(flow.InternalContext ?? "{}") as JsonObject;
        return schemas.Find(context?["schema_id"]?.GetValue<string>() ?? "") ?? schemas.Default;
    }

    /// <summary>The first step's form for a flow, filled with the given traits (a method that shows it again, e.g. with what is missing).</summary>
    public UiContainer FormFor(SelfServiceFlow flow, JsonNode? traits) => FirstStep(flow, SchemaOf(flow), traits);

    /// <summary>
    /// A registration flow made for a method that switches flows (social sign-in at login with an account that does not
    /// exist yet): the same type, return URL and CSRF token, the default schema; the before-registration hooks run.
    /// </summary>
    public async Task<SelfServiceFlow> CreateForAsync(HttpContext http, SelfServiceFlow from, CancellationToken ct)
    {
        if (!options.Selfservice.Flows.Registration.Enabled) throw Disabled();
        var flow = flows.Create(FlowKinds.Registration, from.Type, http, options.Selfservice.Flows.Registration.Lifespan, from.ReturnTo, from.CsrfToken);
        flow.InternalContext = new JsonObject { ["schema_id"] = schemas.Default.Id }.ToJsonString();
        flow.TransientPayload = from.TransientPayload;
        Login.OAuth2LoginChallenges.CarryOver(from, flow);
        SessionTokenExchange.CarryOver(from, flow);
        flow.Ui = FirstStep(flow, schemas.Default, null).ToJson().ToJsonString();
        await hooks.RunBeforeAsync(http, flow, ct);
        await flows.InsertAsync(flow, ct);
        return flow;
    }

    /// <summary>
    /// Carries out what a registration method decided, for a submit or for a method that finishes elsewhere (social
    /// sign-in's callback): show the form, send the browser on, or create the identity, run the hooks and answer.
    /// </summary>
    public async Task CompleteAsync(HttpContext http, SelfServiceFlow flow, IdentitySchema schema, string method, RegistrationOutcome outcome, CancellationToken ct)
    {
        flow.Active = outcome is RegistrationOutcome.ShowForm { NoActiveMethod: true } ? null : method;
        if (outcome is RegistrationOutcome.Answered) return;
        if (outcome is RegistrationOutcome.ShowForm show)
        {
            await responder.RespondWithFlowAsync(http, flow, show.Ui, show.Status, ct);
            return;
        }
        if (outcome is RegistrationOutcome.RedirectBrowser redirect)
        {
            await responder.RespondRedirectAsync(http, flow, redirect.Ui, redirect.Url, ct);
            return;
        }
        var create = (RegistrationOutcome.CreateIdentity)outcome;
        var (ui, traits, credentials, verifiedAddresses) = create;

        // The identity is built first and saved only after the pre-persist hooks: a web hook with response.parse may
        // change it (traits, metadata, state, …), or stop the registration, before anything is written.
        var identity = identities.Build(new IdentityBody
        {
            SchemaId = schema.Id,
            Traits = traits,
            Credentials = credentials,
        });
        if (verifiedAddresses is { Count: > 0 }) MarkVerified(identity, verifiedAddresses);
        create.Complete?.Invoke(identity);
        var hookContext = new HookContext { Http = http, Flow = flow, FlowKind = FlowKinds.Registration, Method = method, Provider = create.Provider, Proof = create.Proof, Identity = identity };
        try
        {
            // A web hook's changes are applied to the identity as each hook answers (HookRunner), before it is saved.
            await hooks.RunAfterAsync(HookPhase.PrePersist, hookContext, ct);
            identity = await identities.InsertAsync(identity, ct);
        }
        catch (FlowHookInterrupt e)
        {
            e.ApplyTo(ui);
            await responder.RespondWithFlowAsync(http, flow, ui, 400, ct);
            return;
        }
        catch (GatehouseError e) when (e.Code == 409)
        {
            if (create.OnDuplicate is { } onDuplicate && await onDuplicate(identity, ct)) return;
            ui.Messages.Add(await DuplicateMessageAsync(identity, ct));
            await responder.RespondWithFlowAsync(http, flow, ui, 400, ct);
            return;
        }
        hookContext.Identity = identity;
        hookContext.IdentityPersisted = true;

        // With verification enabled, an unverified address gets its code right away (Kratos's verification hook, which runs
        // before the configured post-persist hooks); show_verification_ui then tells the client where to enter it.
        await verification.StartAfterChangeAsync(http, flow.Type, identity, hookContext, ct, rotateCsrf: true);
        await hooks.RunAfterAsync(HookPhase.PostPersist, hookContext, ct);
        identity = hookContext.Identity;
        flow.State = FlowStates.PassedChallenge;
        flow.IdentityId = identity.Id;
        flow.Ui = ui.ToJson().ToJsonString();
        await flows.UpdateAsync(flow, ct);
        var returnTo = hookContext.RedirectBrowserTo
            ?? returnUrls.Resolve(flow.ReturnTo, options.Selfservice.Flows.Registration.After.DefaultBrowserReturnUrlFor(method));
        if (method == CredentialTypes.Oidc && hookContext.Issued is { } exchanged && await exchange.TryRedirectAsync(http, flow, exchanged.Session, returnTo, ct)) return;
        if (flow.Type == FlowTypes.Browser && hookContext.RedirectBrowserTo is null && Login.OAuth2LoginChallenges.Of(flow) is { } loginChallenge)
        {
            // Kratos's post-registration hook with Hydra: the login request is accepted for the new session and the browser
            // goes back to /oauth2/auth (SPAs: 422 with the URL, as after a login). Without a session (no session hook),
            // the browser goes to the login flow for the same request, so the new account signs in there.
            var next = hookContext.Issued is { } issued
                ? await oauth2Logins.AcceptAsync(loginChallenge, issued.Session, ct)
                : flows.PublicBase + "/self-service/login/browser?" + Login.OAuth2LoginChallenges.Parameter + "=" + Uri.EscapeDataString(loginChallenge);
            if (FlowService.WantsJson(http.Request)) throw FlowResponder.BrowserLocationChangeRequired(next);
            FlowService.Redirect(http, next);
            return;
        }
        await responder.RespondSuccessAsync(http, flow, hookContext.Issued, identity, identityJson, returnTo, hookContext.ContinueWith);
    }

    /// <summary>
    /// The message of a registration whose identity collides with a stored one: Kratos's 4000007, or with
    /// <c>login_hints</c> on and something to tell (<c>identity.Manager.findExistingAuthMethod</c>), 4000028 naming how the
    /// existing account signs in.
    /// </summary>
    private async Task<JsonObject> DuplicateMessageAsync(Identity identity, CancellationToken ct)
    {
        if (!options.Selfservice.Flows.Registration.LoginHints || await conflicts.FindAsync(identity, ct) is not { } conflict)
            return Messages.DuplicateCredentials();
        var hints = DuplicateCredentialHints.Of(conflict);
        return hints.HasHints
            ? Messages.DuplicateCredentialsWithHints(hints.AvailableCredentialTypes, hints.AvailableOidcProviders, hints.IdentifierHint)
            : Messages.DuplicateCredentials();
    }

    /// <summary>Addresses the method proved (a code sent there and entered) start verified, so no verification mail follows.</summary>
    private void MarkVerified(Identity identity, IReadOnlyList<string> proved)
    {
        var now = flows.Now();
        foreach (var address in identity.VerifiableAddresses.Where(a => proved.Contains(a.Value, StringComparer.OrdinalIgnoreCase)))
        {
            address.Verified = true;
            address.Status = VerifiableAddressStatus.Completed;
            address.VerifiedAt = now;
        }
    }

    /// <summary>
    /// The traits a credential method registers with: the submitted ones, whatever the style. The profile step is the
    /// form's way, not a precondition: Kratos's credential strategies register from the submitted traits (the password
    /// strategy's <c>Register</c> checks only that its method is enabled and named), which is how a native app registers
    /// with one <c>updateRegistrationFlow</c> call, and after a profile step the form sends the accepted traits back as
    /// hidden fields; a submit without them is validated as <c>{}</c>. The form answered with is the one the submit came
    /// from: the first step's, or after a profile step the credentials step, whose trait fields keep the accepted values
    /// where the submit has none (Kratos sets only the submitted values on the form's nodes).
    /// </summary>
    private (JsonNode Traits, UiContainer Ui) CredentialTraits(SelfServiceFlow flow, IdentitySchema schema, JsonNode? submittedTraits, JsonNode? storedTraits)
    {
        var traits = submittedTraits ?? new JsonObject();
        if (!ProfileFirst || storedTraits is null) return (traits, FirstStep(flow, schema, traits));
        return (traits, CredentialStep(flow, schema, TraitValues.Shown(storedTraits, traits)));
    }
}
