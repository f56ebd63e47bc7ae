using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Hashing;
using Gatehouse.Http;
using Gatehouse.Http.Errors;
using Gatehouse.Identities;
using Gatehouse.Schemas;
using Gatehouse.SelfService.Csrf;
using Gatehouse.SelfService.Hooks;
using Gatehouse.SelfService.Strategies.Password;
using Gatehouse.SelfService.Ui;
using Gatehouse.Sessions;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Flows.Settings;

/// <summary>
/// The settings flow: <c>profile</c> (new traits, validated by the identity schema as the admin API does) and
/// <c>password</c>. Changing a credential identifier, a verification or recovery address, or the password needs a
/// privileged (recent) session, otherwise
/// 403 <c>session_refresh_required</c> pointing to a refresh login, as Kratos does.
/// </summary>
public sealed class SettingsFlows(
    FlowService flows,
    FlowResponder responder,
    CsrfTokens csrf,
    SessionManager sessions,
    IdentitySchemaRegistry schemas,
    IdentityManager identities,
    IdentityJson identityJson,
    PasswordPolicy policy,
    PasswordHasher hasher,
    HashingQueue hashing,
    ReturnUrlPolicy returnUrls,
    GatehouseOptions options,
    IEnumerable<ISettingsHook> settingsHooks,
    HookRunner hooks)
{
    public async Task InitAsync(HttpContext http, string type)
    {
        var ct = http.RequestAborted;
        var returnTo = returnUrls.Validate(http.Request.Query["return_to"].ToString());
        var session = await sessions.FromRequestAsync(http, ct);
        if (session is null)
        {
            if (type == FlowTypes.Browser && !FlowService.WantsJson(http.Request))
            {
                var back = $"{flows.PublicBase}/self-service/settings/browser" + (returnTo is null ? "" : "?return_to=" + Uri.EscapeDataString(returnTo));
                FlowService.Redirect(http, $"{flows.PublicBase}/self-service/login/browser?return_to={Uri.EscapeDataString(back)}");
                return;
            }
            throw NoSession();
        }
        var identity = await identities.GetAsync(session.IdentityId, ct);
        var token = type == FlowTypes.Browser ? csrf.Ensure(http) : "";
        var flow = flows.Create(FlowKinds.Settings, type, http, options.Selfservice.Flows.Settings.Lifespan, returnTo, token);
        flow.State = "show_form";
        flow.IdentityId = identity.Id;
        flow.Ui = Form(flow, identity).ToJson().ToJsonString();
        await hooks.RunBeforeAsync(http, flow, ct);
        await flows.InsertAsync(flow, ct);
        if (type == FlowTypes.Api || FlowService.WantsJson(http.Request)) await FlowService.WriteFlowAsync(http, 200, ToJson(flow, identity));
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

    public async Task GetAsync(HttpContext http) =>
        await FlowService.WriteFlowAsync(http, 200, await FetchAsync(http, FlowService.FlowId(http.Request, "id")));

    /// <summary>
    /// The flow as the public fetch endpoint answers it, by the same rules (the session's own flow; a browser flow only for
    /// the browser holding its CSRF cookie; expired → 410); used by that endpoint and, in-process, by the built-in pages.
    /// </summary>
    public async Task<JsonObject> FetchAsync(HttpContext http, Guid id)
    {
        var ct = http.RequestAborted;
        var flow = await flows.LoadAsync(id, FlowKinds.Settings, ct);
        var session = await sessions.FromRequestAsync(http, ct) ?? throw NoSession();
        if (flow.IdentityId != session.IdentityId) throw Mismatch();
        csrf.VerifyCookie(http, flow);
        if (flows.IsExpired(flow)) throw flows.ExpiredOnFetch(flow);
        var identity = await identities.GetAsync(session.IdentityId, ct);
        return ToJson(flow, identity);
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
        var schema = schemas.Find(identity.SchemaId) ?? schemas.Default;
        foreach (var node in UiNodes.Traits(schema, JsonNode.Parse(identity.Traits)))
        {
            node["group"] = UiNodes.ProfileGroup;
            ui.Nodes.Add(node);
        }
        ui.Nodes.Add(UiNodes.Submit("method", "profile", UiNodes.ProfileGroup, Messages.Save()));
        ui.Nodes.Add(UiNodes.Input("password", "password", UiNodes.PasswordGroup, required: true, autocomplete: "new-password", label: Messages.LabelPassword()));
        ui.Nodes.Add(UiNodes.Submit("method", "password", UiNodes.PasswordGroup, Messages.Save()));
        return ui;
    }

    public async Task SubmitAsync(HttpContext http)
    {
        var ct = http.RequestAborted;
        var flow = await flows.LoadForSubmitAsync(http, FlowKinds.Settings);
        var session = await sessions.FromRequestAsync(http, ct);
        if (session is null)
        {
            // Kratos's settings error handler: a browser without a session signs in first; JSON and API clients get 401.
            if (flow.Type == FlowTypes.Browser && !FlowService.WantsJson(http.Request))
            {
                FlowService.Redirect(http, flows.PublicBase + SelfServiceEndpoints.LoginBrowser);
                return;
            }
            throw NoSession();
        }
        if (flow.IdentityId != session.IdentityId) throw Mismatch();
        var body = await FormBody.ReadAsync(http.Request, ct);
        csrf.VerifySubmit(http, flow, FormBody.String(body, "csrf_token"));
        var identity = await identities.GetAsync(session.IdentityId, ct);
        if (flows.IsExpired(flow))
        {
            var replacement = flows.Create(FlowKinds.Settings, flow.Type, http, options.Selfservice.Flows.Settings.Lifespan, flow.ReturnTo, flow.CsrfToken);
            replacement.State = "show_form";
            replacement.IdentityId = identity.Id;
            replacement.Ui = Form(replacement, identity).ToJson().ToJsonString();
            await responder.RespondExpiredAsync(http, flow, replacement, ct);
            return;
        }
        FlowService.TakeTransientPayload(flow, body);
        var method = FormBody.String(body, "method");
        var ui = Form(flow, identity);
        switch (method)
        {
            case "profile":
                await ProfileAsync(http, flow, session, identity, ui, body, ct);
                return;
            case "password":
                await PasswordAsync(http, flow, session, identity, ui, body, ct);
                return;
            default:
                ui.Messages.Add(Messages.Error(4010004, "Could not find a strategy to update your settings. Did you fill out the form correctly?"));
                await RespondAsync(http, flow, identity, ui, 400, ct);
                return;
        }
    }

    private async Task ProfileAsync(HttpContext http, SelfServiceFlow flow, Session session, Identity identity, UiContainer ui, JsonObject body, CancellationToken ct)
    {
        flow.Active = "profile";
        var schema = schemas.Find(identity.SchemaId) ?? schemas.Default;
        var traits = TraitValues.Coerce(schema, body["traits"]) ?? new JsonObject();
        foreach (var field in schema.TraitFields) ui.SetValue(field.Name, UiNodes.Lookup(traits, field.Name));
        var validation = schema.Validate(traits);
        if (!validation.IsValid)
        {
            FlowService.AddTraitErrors(ui, validation.Errors);
            await RespondAsync(http, flow, identity, ui, 400, ct);
            return;
        }
        // Credential identifiers, verification and recovery addresses are write-protected: changing them needs a recent
        // sign-in (Kratos's identity.Manager requiresPrivilegedAccess), or an old session could redirect recovery mail.
        var before = schema.Validate(JsonNode.Parse(identity.Traits));
        var changed = !SameIdentifiers(before.CredentialIdentifiers, validation.CredentialIdentifiers)
            || !SameAddresses(before.VerifiableAddresses, validation.VerifiableAddresses)
            || !SameAddresses(before.RecoveryAddresses, validation.RecoveryAddresses);
        if (changed && !Privileged(http, flow, session)) return;
        // Pre-persist hooks see the identity with the new traits before it is saved; a web hook with response.parse may
        // replace traits and metadata (whole) or stop the change.
        var hookContext = new HookContext { Http = http, Flow = flow, FlowKind = FlowKinds.Settings, Method = "profile", Session = session };
        if (hooks.AfterHooks(FlowKinds.Settings, "profile").Count > 0)
        {
            var pending = await identities.GetAsync(identity.Id, ct);
            pending.Traits = traits.ToJsonString();
            hookContext.Identity = pending;
            try
            {
                await hooks.RunAfterAsync(HookPhase.PrePersist, hookContext, ct);
            }
            catch (FlowHookInterrupt e)
            {
                e.ApplyTo(ui);
                await RespondAsync(http, flow, identity, ui, 400, ct);
                return;
            }
        }
        Identity updated;
        try
        {
            var changes = hookContext.Changes;
            updated = await identities.UpdateTraitsAsync(identity.Id, changes?.Traits ?? traits, ct, changes?.MetadataPublic, changes?.MetadataAdmin);
        }
        catch (GatehouseError e) when (e.Code == 409)
        {
            ui.Messages.Add(Messages.DuplicateCredentials());
            await RespondAsync(http, flow, identity, ui, 400, ct);
            return;
        }
        foreach (var hook in settingsHooks)
        {
            if (await hook.AfterProfileUpdateAsync(http, flow, identity, updated, ct) is { } started) hookContext.VerificationUiUrl = flows.UiUrlFor(started);
        }
        hookContext.Identity = updated;
        hookContext.IdentityPersisted = true;
        await hooks.RunAfterAsync(HookPhase.PostPersist, hookContext, ct);
        await SucceedAsync(http, flow, hookContext.Identity, "profile", ct, hookContext.RedirectBrowserTo);
    }

    private async Task PasswordAsync(HttpContext http, SelfServiceFlow flow, Session session, Identity identity, UiContainer ui, JsonObject body, CancellationToken ct)
    {
        flow.Active = "password";
        var password = FormBody.String(body, "password") ?? "";
        if (password.Length == 0)
        {
            ui.AddMessage("password", Messages.Required("password"));
            await RespondAsync(http, flow, identity, ui, 400, ct);
            return;
        }
        if (!Privileged(http, flow, session)) return;
        var schema = schemas.Find(identity.SchemaId) ?? schemas.Default;
        var ids = schema.Validate(JsonNode.Parse(identity.Traits)).CredentialIdentifiers;
        var identifier = ids.TryGetValue(CredentialTypes.Password, out var list) && list.Count > 0 ? list[0] : "";
        var current = identity.Credentials.FirstOrDefault(c => c.Type == CredentialTypes.Password);
        var hash = current is null ? null : JsonNode.Parse(current.Config)?["hashed_password"]?.GetValue<string>();
        JsonObject? violation = hash is not null && await hashing.RunAsync(() => hasher.Verify(password, hash), ct)
            ? Messages.Error(4000039, "The new password must be different from the old password.")
            : await policy.CheckAsync(identifier, password, ct);
        if (violation is not null)
        {
            ui.AddMessage("password", violation);
            await RespondAsync(http, flow, identity, ui, 400, ct);
            return;
        }
        var hookContext = new HookContext { Http = http, Flow = flow, FlowKind = FlowKinds.Settings, Method = "password", Identity = identity, IdentityPersisted = true, Session = session };
        try
        {
            await hooks.RunAfterAsync(HookPhase.PrePersist, hookContext, ct);
        }
        catch (FlowHookInterrupt e)
        {
            e.ApplyTo(ui);
            await RespondAsync(http, flow, identity, ui, 400, ct);
            return;
        }
        hookContext.Identity = await identities.SetPasswordAsync(identity.Id, password, ct);
        await hooks.RunAfterAsync(HookPhase.PostPersist, hookContext, ct);
        await SucceedAsync(http, flow, hookContext.Identity, "password", ct);
    }

    private async Task SucceedAsync(HttpContext http, SelfServiceFlow flow, Identity identity, string method, CancellationToken ct, string? redirectBrowserTo = null)
    {
        flow.State = "success";
        var ui = Form(flow, identity);
        ui.Messages.Add(Messages.Success(1050001, "Your changes have been saved!"));
        flow.Ui = ui.ToJson().ToJsonString();
        await flows.UpdateAsync(flow, ct);
        if (flow.Type == FlowTypes.Api || FlowService.WantsJson(http.Request))
        {
            var json = ToJson(flow, identity);
            if (flow.Type == FlowTypes.Browser && (flow.ReturnTo ?? options.Selfservice.Flows.Settings.After.DefaultBrowserReturnUrlFor(method)) is { } target)
                json["continue_with"] = new JsonArray(new JsonObject { ["action"] = "redirect_browser_to", ["redirect_browser_to"] = target });
            await FlowService.WriteFlowAsync(http, 200, json);
            return;
        }
        FlowService.Redirect(http, redirectBrowserTo ?? flow.ReturnTo ?? options.Selfservice.Flows.Settings.After.DefaultBrowserReturnUrlFor(method) ?? flows.UiUrlFor(flow));
    }

    private async Task RespondAsync(HttpContext http, SelfServiceFlow flow, Identity identity, UiContainer ui, int status, CancellationToken ct)
    {
        flow.Ui = ui.ToJson().ToJsonString();
        await flows.UpdateAsync(flow, ct);
        if (flow.Type == FlowTypes.Api || FlowService.WantsJson(http.Request)) await FlowService.WriteFlowAsync(http, status, ToJson(flow, identity));
        else FlowService.Redirect(http, flows.UiUrlFor(flow));
    }

    /// <summary>
    /// Whether the session signed in recently enough to change credentials. If not, as Kratos's <c>reauthenticate</c>:
    /// an HTML browser is sent to sign in again (303; false), JSON and API clients get 403 <c>session_refresh_required</c>.
    /// </summary>
    private bool Privileged(HttpContext http, SelfServiceFlow flow, Session session)
    {
        if (session.AuthenticatedAt >= flows.Now() - options.Selfservice.Flows.Settings.PrivilegedSessionMaxAge) return true;
        var target = $"{flows.PublicBase}/self-service/login/browser?refresh=true&return_to={Uri.EscapeDataString(flows.UiUrlFor(flow))}";
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

    private static bool SameIdentifiers(IReadOnlyDictionary<string, IReadOnlyList<string>> a, IReadOnlyDictionary<string, IReadOnlyList<string>> b)
    {
        var keys = a.Keys.Union(b.Keys);
        return keys.All(k => (a.TryGetValue(k, out var x) ? x.Order() : Enumerable.Empty<string>()).SequenceEqual(b.TryGetValue(k, out var y) ? y.Order() : Enumerable.Empty<string>()));
    }

    private static bool SameAddresses(IReadOnlyList<AddressSpec> a, IReadOnlyList<AddressSpec> b) =>
        a.Count == b.Count && a.ToHashSet().SetEquals(b);

    private static GatehouseError NoSession() =>
        new(401, "No valid session credentials found in the request.", "session_inactive", "request does not have a valid authentication session");

    private static GatehouseError Mismatch() =>
        new(403, "The flow belongs to another identity than the session.", "security_identity_mismatch");
}

/// <summary>Runs after a settings profile update (e.g. sending verification mail for a changed address).</summary>
public interface ISettingsHook
{
    /// <summary>Returns the verification flow it started for a new address, if any (for <c>show_verification_ui</c>).</summary>
    Task<SelfServiceFlow?> AfterProfileUpdateAsync(HttpContext http, SelfServiceFlow flow, Identity before, Identity after, CancellationToken ct);
}
