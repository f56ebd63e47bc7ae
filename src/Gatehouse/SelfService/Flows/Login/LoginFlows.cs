using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Hashing;
using Gatehouse.Http;
using Gatehouse.Http.Errors;
using Gatehouse.Identities;
using Gatehouse.Persistence;
using Gatehouse.Schemas;
using Gatehouse.SelfService.Csrf;
using Gatehouse.SelfService.Hooks;
using Gatehouse.SelfService.Ui;
using Gatehouse.Sessions;
using Gatehouse.Text;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.SelfService.Flows.Login;

/// <summary>The login flow with the password method: browser and API variants, refresh (re-authentication) and return_to.</summary>
public sealed class LoginFlows(
    FlowService flows,
    FlowResponder responder,
    CsrfTokens csrf,
    SessionManager sessions,
    GatehouseDbContext db,
    PasswordHasher hasher,
    HashingQueue hashing,
    RateLimiting.LoginAttempts attempts,
    LoginTiming timing,
    ReturnUrlPolicy returnUrls,
    IdentityJson identityJson,
    SessionJson sessionJson,
    HookRunner hooks,
    Verification.VerificationFlows verification,
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
        var session = await sessions.FromRequestAsync(http, ct);
        if (aal == "aal2")
        {
            if (session is null) throw new GatehouseError(401, "You can not requested a higher AAL (AAL2/AAL3) without an active session.", "session_aal1_required");
            throw GatehouseError.BadRequest("No second authentication factor is enabled, so AAL2 cannot be reached.");
        }
        if (session is not null && !refresh)
        {
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
        flow.RequestedAal = "aal1";
        var ui = new UiContainer { Action = flows.ActionUrl(flow) };
        if (flow.Refresh)
        {
            if (type == FlowTypes.Browser) ui.Nodes.Add(UiNodes.Csrf(token));
            var identifier = session!.Identity!.Credentials.FirstOrDefault(c => c.Type == CredentialTypes.Password)?.Identifiers.FirstOrDefault()?.Identifier
                ?? await PasswordIdentifierAsync(session.IdentityId, ct) ?? "";
            ui.Nodes.Add(UiNodes.Input("identifier", "hidden", UiNodes.DefaultGroup, identifier, required: true));
            ui.Nodes.Add(UiNodes.Input("password", "password", UiNodes.PasswordGroup, required: true, autocomplete: "current-password", label: Messages.LabelPassword()));
            ui.Nodes.Add(UiNodes.Submit("method", "password", UiNodes.PasswordGroup, Messages.SignIn()));
            ui.Messages.Add(Messages.LoginReAuth());
            flow.IdentityId = session.IdentityId;
        }
        else
        {
            ui.Nodes.Add(UiNodes.Input("identifier", "text", UiNodes.DefaultGroup, "", required: true, autocomplete: "username", label: Messages.LabelId()));
            if (type == FlowTypes.Browser) ui.Nodes.Add(UiNodes.Csrf(token));
            ui.Nodes.Add(UiNodes.Input("password", "password", UiNodes.PasswordGroup, required: true, autocomplete: "current-password", label: Messages.LabelPassword()));
            ui.Nodes.Add(UiNodes.Submit("method", "password", UiNodes.PasswordGroup, Messages.SignInWithPassword()));
        }
        flow.Ui = ui.ToJson().ToJsonString();
        await hooks.RunBeforeAsync(http, flow, ct);
        await flows.InsertAsync(flow, ct);
        await responder.RespondNewFlowAsync(http, flow);
    }

    public async Task GetAsync(HttpContext http) =>
        await FlowService.WriteFlowAsync(http, 200, await FetchAsync(http, FlowService.FlowId(http.Request, "id")));

    /// <summary>
    /// The flow as the public fetch endpoint answers it, by the same rules (a browser flow only for the browser holding its
    /// CSRF cookie; expired → 410); used by that endpoint and, in-process, by the built-in pages.
    /// </summary>
    public Task<JsonObject> FetchAsync(HttpContext http, Guid id) => flows.FetchAsync(http, id, FlowKinds.Login);

    public async Task SubmitAsync(HttpContext http)
    {
        var ct = http.RequestAborted;
        var flow = await flows.LoadForSubmitAsync(http, FlowKinds.Login);
        var body = await FormBody.ReadAsync(http.Request, ct);
        csrf.VerifySubmit(http, flow, FormBody.String(body, "csrf_token"));
        if (flows.IsExpired(flow))
        {
            var replacement = flows.Create(FlowKinds.Login, flow.Type, http, options.Selfservice.Flows.Login.Lifespan, flow.ReturnTo, flow.CsrfToken);
            replacement.RequestedAal = "aal1";
            var rui = UiContainer.FromJson(flow.Ui);
            rui.Action = flows.ActionUrl(replacement);
            rui.ClearMessages();
            rui.Messages.Add(Messages.LoginFlowExpired((flows.Now() - flow.ExpiresAt).TotalMinutes));
            replacement.Ui = rui.ToJson().ToJsonString();
            await responder.RespondExpiredAsync(http, flow, replacement, ct);
            return;
        }
        if (flow.State == FlowStates.PassedChallenge)
            throw GatehouseError.BadRequest("The request was already completed successfully and can not be retried.");

        var ui = UiContainer.FromJson(flow.Ui);
        ui.ClearMessages();
        FlowService.TakeTransientPayload(flow, body);
        var method = FormBody.String(body, "method");
        if (method != "password")
        {
            ui.Messages.Add(Messages.LoginNoStrategy());
            await responder.RespondWithFlowAsync(http, flow, ui, 400, ct);
            return;
        }
        flow.Active = "password";
        var identifier = (FormBody.String(body, "identifier") ?? FormBody.String(body, "password_identifier") ?? "").Trim();
        var password = FormBody.String(body, "password") ?? "";
        if (!flow.Refresh) ui.SetValue("identifier", identifier);
        if (identifier.Length == 0 || password.Length == 0)
        {
            if (identifier.Length == 0) ui.AddMessage("identifier", Messages.Required("identifier"));
            if (password.Length == 0) ui.AddMessage("password", Messages.Required("password"));
            await responder.RespondWithFlowAsync(http, flow, ui, 400, ct);
            return;
        }

        // Counted before the comparison (brute-force protection); a 429 here changes nothing else.
        var attempt = await attempts.BeginAsync(http, identifier, ct);
        var identity = await FindByIdentifierAsync(identifier, ct);
        var credential = identity?.Credentials.FirstOrDefault(c => c.Type == CredentialTypes.Password);
        var hash = credential is null ? null : JsonNode.Parse(credential.Config)?["hashed_password"]?.GetValue<string>();
        // An unknown identifier costs one hash comparison too, so the answer's timing does not reveal whether the account exists.
        bool ok;
        if (hash is not null) ok = await hashing.RunAsync(() => hasher.Verify(password, hash), ct);
        else
        {
            _ = await hashing.RunAsync(() => hasher.Verify(password, timing.DummyHash), ct);
            ok = false;
        }
        if (ok) await attempt.SucceededAsync(ct);
        if (!ok || identity is null || (flow.Refresh && flow.IdentityId != identity.Id))
        {
            ui.Messages.Add(Messages.InvalidCredentials());
            await responder.RespondWithFlowAsync(http, flow, ui, 400, ct);
            return;
        }
        if (identity.State != IdentityStates.Active)
        {
            ui.Messages.Add(Messages.IdentityDisabled());
            await responder.RespondWithFlowAsync(http, flow, ui, 400, ct);
            return;
        }
        if (hasher.NeedsRehash(hash!)) await UpgradeHashAsync(credential!, password, ct);

        // Hooks that may stop the login (require_verified_address, web hooks that read their answer) run before any session exists.
        var hookContext = new HookContext { Http = http, Flow = flow, FlowKind = FlowKinds.Login, Method = "password", Identity = identity, IdentityPersisted = true };
        try
        {
            await hooks.RunAfterAsync(HookPhase.PrePersist, hookContext, ct);
        }
        catch (FlowHookInterrupt e)
        {
            e.ApplyTo(ui);
            if (!flow.Refresh) ui.SetValue("identifier", identifier);
            await responder.RespondWithFlowAsync(http, flow, ui, 400, ct);
            return;
        }
        catch (VerifiedAddressRequired)
        {
            await RespondVerificationRequiredAsync(http, flow, identity, ct);
            return;
        }
        identity = hookContext.Identity;

        var method1 = new AuthenticationMethod("password", "aal1", flows.Now());
        IssuedSession? issued = null;
        var current = flow.Refresh ? await sessions.FromRequestAsync(http, ct) : null;
        if (current is not null && current.IdentityId == identity.Id)
        {
            var refreshed = await sessions.RefreshAsync(current, method1, ct);
            issued = new IssuedSession(refreshed, "", "");
        }
        else
        {
            issued = await sessions.IssueAsync(identity, method1, http, ct);
            if (flow.Type == FlowTypes.Browser) sessions.WriteCookie(http, issued);
        }
        hookContext.Session = issued.Session;
        await hooks.RunAfterAsync(HookPhase.PostPersist, hookContext, ct);
        flow.State = FlowStates.PassedChallenge;
        flow.Ui = ui.ToJson().ToJsonString();
        await flows.UpdateAsync(flow, ct);

        var returnTo = returnUrls.Resolve(flow.ReturnTo, options.Selfservice.Flows.Login.After.DefaultBrowserReturnUrlFor("password"));
        if (flow.Type == FlowTypes.Api && issued.Token.Length == 0)
        {
            // A refreshed API session keeps its token; answer with the session only.
            var body2 = new JsonObject { ["session"] = sessionJson.ToNode(issued.Session, includeIdentity: true, IdentityView.Public) };
            await Http.Json.HttpJson.WriteAsync(http, 200, body2);
            return;
        }
        await responder.RespondSuccessAsync(http, flow, issued, null, identityJson, returnTo);
    }

    /// <summary>
    /// <c>require_verified_address</c> stopped the login (Kratos's <c>AddressVerifier</c>): a verification flow for the
    /// identity's first address is started and its code or link mailed; JSON clients get 403
    /// <c>session_verified_address_required</c> with <c>continue_with: [show_verification_ui]</c> in its details,
    /// HTML browsers a 303 to the verification page. No session is issued.
    /// </summary>
    private async Task RespondVerificationRequiredAsync(HttpContext http, SelfServiceFlow flow, Identity identity, CancellationToken ct)
    {
        if (await verification.StartForAsync(http, flow.Type, identity, ct, firstOnly: true) is not { } started)
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

    private async Task<Identity?> FindByIdentifierAsync(string identifier, CancellationToken ct)
    {
        var normalized = IdentifierNormalizer.Graceful(identifier);
        var identityId = await db.CredentialIdentifiers.AsNoTracking()
            .Where(i => i.Type == CredentialTypes.Password && i.Identifier == normalized)
            .Select(i => (Guid?)i.IdentityId).FirstOrDefaultAsync(ct);
        if (identityId is null) return null;
        return await db.Identities.AsNoTracking().Include(i => i.Credentials).ThenInclude(c => c.Identifiers)
            .Include(i => i.VerifiableAddresses).Include(i => i.RecoveryAddresses).AsSplitQuery()
            .FirstOrDefaultAsync(i => i.Id == identityId, ct);
    }

    private async Task<string?> PasswordIdentifierAsync(Guid identityId, CancellationToken ct) =>
        await db.CredentialIdentifiers.AsNoTracking().Where(i => i.IdentityId == identityId && i.Type == CredentialTypes.Password)
            .OrderBy(i => i.Identifier).Select(i => i.Identifier).FirstOrDefaultAsync(ct);

    /// <summary>An imported or weaker hash is replaced by one from the configured hasher once the password is known to be right.</summary>
    private async Task UpgradeHashAsync(IdentityCredential credential, string password, CancellationToken ct)
    {
        var config = JsonNode.Parse(credential.Config) as JsonObject ?? [];
        config["hashed_password"] = await hashing.RunAsync(() => hasher.Hash(password), ct);
        var text = config.ToJsonString(new JsonSerializerOptions());
        var now = flows.Now();
        await db.Credentials.Where(c => c.Id == credential.Id).ExecuteUpdateAsync(s => s.SetProperty(c => c.Config, text).SetProperty(c => c.UpdatedAt, now), ct);
    }
}

/// <summary>Holds a hash of a random password made with the configured hasher, compared against for unknown identifiers.</summary>
public sealed class LoginTiming(PasswordHasher hasher)
{
    private readonly Lazy<string> _dummy = new(() => hasher.Hash(Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(18))));

    public string DummyHash => _dummy.Value;
}
