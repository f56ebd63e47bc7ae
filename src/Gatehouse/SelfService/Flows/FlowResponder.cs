using System.Text.Json.Nodes;
using Gatehouse.Http.Errors;
using Gatehouse.Identities;
using Gatehouse.Schemas;
using Gatehouse.SelfService.Ui;
using Gatehouse.Sessions;

namespace Gatehouse.SelfService.Flows;

/// <summary>How flow endpoints answer: the flow as JSON for API and SPA clients, redirects for HTML browsers.</summary>
public sealed class FlowResponder(FlowService flows, SessionJson sessionJson, IdentitySchemaRegistry schemas)
{
    /// <summary>
    /// A flow that needs the user again (validation errors: 400; a next step: 200) — or, for HTML browsers, a 303 to its UI.
    /// A form that answers a failed submit is put in Kratos's node order first (<see cref="UiNodeOrder"/>); a method's next
    /// step keeps the order the method gave it.
    /// </summary>
    public async Task RespondWithFlowAsync(HttpContext http, SelfServiceFlow flow, UiContainer ui, int status, CancellationToken ct)
    {
        if (UiNodeOrder.Failed(ui)) UiNodeOrder.Arrange(flow.Kind, ui, flow.Kind == FlowKinds.Registration ? RegistrationSchema(flow) : null);
        var uiJson = ui.ToJson();
        flow.Ui = uiJson.ToJsonString();
        await flows.UpdateAsync(flow, ct);
        // The answer takes the container just written, not a parse of its text.
        if (flow.Type == FlowTypes.Api || FlowService.WantsJson(http.Request)) await FlowService.WriteFlowAsync(http, status, flows.ToJson(flow, uiJson));
        else FlowService.Redirect(http, flows.UiUrlFor(flow));
    }

    /// <summary>The identity schema a registration flow registers with (chosen when it was made).</summary>
    private IdentitySchema RegistrationSchema(SelfServiceFlow flow) =>
        schemas.Find(flow.ContextValue("schema_id")?.GetValue<string>() ?? "") ?? schemas.Default;

    /// <summary>
    /// The flow continues elsewhere (an upstream provider): the flow is saved; HTML browsers get a 303 there, SPAs and API
    /// clients 422 <c>browser_location_change_required</c> naming it, as Kratos's oidc method answers.
    /// </summary>
    public async Task RespondRedirectAsync(HttpContext http, SelfServiceFlow flow, UiContainer ui, string url, CancellationToken ct)
    {
        flow.Ui = ui.ToJson().ToJsonString();
        await flows.UpdateAsync(flow, ct);
        if (flow.Type == FlowTypes.Api || FlowService.WantsJson(http.Request)) throw BrowserLocationChangeRequired(url);
        FlowService.Redirect(http, url);
    }

    /// <summary>
    /// A new flow: API clients and SPAs get it as JSON, HTML browsers a 303 to the flow's UI. A browser flow is answered by
    /// <c>Accept</c> alone, as Kratos's browser init routes answer through <c>x.SendFlowCompletedAsRedirectOrJSON</c>
    /// (<c>x.AcceptsJSON</c>): a JSON <c>Content-Type</c> on the GET does not make it JSON.
    /// </summary>
    public async Task RespondNewFlowAsync(HttpContext http, SelfServiceFlow flow, JsonObject? ui = null)
    {
        if (flow.Type == FlowTypes.Api || Http.ContentNegotiation.AcceptsJson(http.Request)) await FlowService.WriteFlowAsync(http, 200, flows.ToJson(flow, ui));
        else FlowService.Redirect(http, flows.UiUrlFor(flow));
    }

    /// <summary>
    /// After a successful login or registration: API clients get the session token and session, SPAs the session and where to go,
    /// HTML browsers a 303 there (the cookie is set by the caller for browser flows). <paramref name="then"/>: the
    /// <c>continue_with</c> items the hooks added, in Kratos's order — after a registration's <c>redirect_browser_to</c>
    /// (added before its hooks run) and before <c>set_ory_session_token</c> (the <c>session</c> hook always runs last).
    /// </summary>
    public async Task RespondSuccessAsync(HttpContext http, SelfServiceFlow flow, IssuedSession? issued, Identity? identity, IdentityJson identityJson, string returnTo,
        IReadOnlyList<JsonObject>? then = null, bool includeSessionIdentity = true)
    {
        var continueWith = new JsonArray();
        if (flow.Type != FlowTypes.Api && FlowService.WantsJson(http.Request))
            continueWith.Add(new JsonObject { ["action"] = "redirect_browser_to", ["redirect_browser_to"] = returnTo });
        foreach (var item in then ?? []) continueWith.Add(item.DeepClone());
        var body = new JsonObject();
        if (identity is not null) body["identity"] = identityJson.ToNode(identity, IdentityView.Public);
        if (issued is not null) body["session"] = sessionJson.ToNode(issued.Session, includeIdentity: includeSessionIdentity, IdentityView.Public);
        if (flow.Type == FlowTypes.Api)
        {
            if (issued is not null)
            {
                body["session_token"] = issued.Token;
                continueWith.Add(new JsonObject { ["action"] = "set_ory_session_token", ["ory_session_token"] = issued.Token });
            }
            body["continue_with"] = continueWith;
            await Http.Json.HttpJson.WriteAsync(http, 200, body);
            return;
        }
        if (FlowService.WantsJson(http.Request))
        {
            body["continue_with"] = continueWith;
            await Http.Json.HttpJson.WriteAsync(http, 200, body);
            return;
        }
        FlowService.Redirect(http, returnTo);
    }

    /// <summary>
    /// An expired flow on submit: a replacement flow is made; API/SPA clients get the 410 naming it, HTML browsers a 303 to it.
    /// </summary>
    public Task RespondExpiredAsync(HttpContext http, SelfServiceFlow expired, SelfServiceFlow replacement, CancellationToken ct) =>
        RespondExpiredAsync(http, expired, expired.ExpiresAt, replacement, ct);

    /// <summary>As <see cref="RespondExpiredAsync(HttpContext, SelfServiceFlow, SelfServiceFlow, CancellationToken)"/>, counted from <paramref name="expiredAt"/>.</summary>
    public async Task RespondExpiredAsync(HttpContext http, SelfServiceFlow expired, DateTime expiredAt, SelfServiceFlow replacement, CancellationToken ct)
    {
        await flows.InsertAsync(replacement, ct);
        if (expired.Type == FlowTypes.Api || FlowService.WantsJson(http.Request)) throw flows.Expired(expiredAt, replacement);
        FlowService.Redirect(http, flows.UiUrlFor(replacement));
    }

    /// <summary>
    /// Kratos's <c>NewBrowserLocationChangeRequiredError</c>: an SPA (a browser flow submitted as JSON) is told where to send
    /// the browser next — 422 <c>browser_location_change_required</c> with <c>redirect_browser_to</c> beside the error.
    /// </summary>
    public static GatehouseError BrowserLocationChangeRequired(string url) =>
        new(422, $"In order to complete this flow please redirect the browser to: {url}", "browser_location_change_required", "browser location change required")
        {
            Siblings = new JsonObject { ["redirect_browser_to"] = url },
        };

    public static GatehouseError SessionAlreadyAvailable() =>
        new(400, "A valid session was detected and thus login is not possible. Did you forget to set `?refresh=true`?", "session_already_available", "you are already logged in");

    /// <summary>Kratos's <c>ErrSessionRequiredForHigherAAL</c>: aal2 was asked for without a session.</summary>
    public static GatehouseError SessionRequiredForHigherAal() =>
        new(401, "You can not requested a higher AAL (AAL2/AAL3) without an active session.", "session_aal1_required", "aal2 and aal3 can only be requested if a session exists already");
}
