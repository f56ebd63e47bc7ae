using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Json;
using Gatehouse.SelfService.Ui;
using Microsoft.Net.Http.Headers;

namespace Gatehouse.SelfService.Flows;

/// <summary>What every self-service flow shares: creating, loading and storing flows, their JSON, and how answers are sent.</summary>
public sealed class FlowService(IFlowStore store, GatehouseOptions options, TimeProvider time, Csrf.CsrfTokens csrf, IUnitOfWork work)
{
    public string PublicBase { get; } = ReturnUrlPolicy.PublicBaseUrl(options).TrimEnd('/');

    public DateTime Now()
    {
        var t = time.GetUtcNow().UtcDateTime;
        return new DateTime(t.Ticks - (t.Ticks % 10), DateTimeKind.Utc);
    }

    public SelfServiceFlow Create(string kind, string type, HttpContext http, TimeSpan lifespan, string? returnTo, string csrfToken)
    {
        var now = Now();
        var flow = new SelfServiceFlow
        {
            Id = Guid.CreateVersion7(),
            Kind = kind,
            Type = type,
            State = FlowStates.ChooseMethod,
            RequestUrl = PublicBase + http.Request.Path + WithoutSecrets(http.Request),
            ReturnTo = returnTo,
            CsrfToken = csrfToken,
            IssuedAt = now,
            ExpiresAt = now + lifespan,
            CreatedAt = now,
            UpdatedAt = now,
        };
        return flow;
    }

    /// <summary>Query parameters that carry a mailed secret (a link's <c>token</c>, a verification link's <c>code</c>).</summary>
    private static readonly string[] SecretParameters = ["token", "code"];

    /// <summary>
    /// The query for a new flow's <c>request_url</c>, without secrets: a flow made in place of an expired one when a mailed
    /// link is opened would otherwise keep the link's token in a field every fetch of the flow answers.
    /// </summary>
    private static QueryString WithoutSecrets(HttpRequest request)
    {
        var query = request.Query;
        if (!SecretParameters.Any(query.ContainsKey)) return request.QueryString;
        return QueryString.Create(query.Where(p => !SecretParameters.Contains(p.Key, StringComparer.Ordinal)));
    }

    /// <summary>Takes the submit's <c>transient_payload</c> onto the flow for this request's hooks and answer (it is never stored).</summary>
    public static void TakeTransientPayload(SelfServiceFlow flow, System.Text.Json.Nodes.JsonObject body)
    {
        if (body["transient_payload"] is JsonObject transient) flow.TransientPayload = transient.ToJsonString();
    }

    public string ActionUrl(SelfServiceFlow flow) => $"{PublicBase}/self-service/{flow.Kind}?flow={flow.Id}";

    public Task InsertAsync(SelfServiceFlow flow, CancellationToken ct) => store.InsertAsync(flow, ct);

    /// <summary>
    /// Sets the flow's internal context to <paramref name="replacement"/> if the stored one is still what this request read
    /// (<see cref="IFlowStore.SwapInternalContextAsync"/>); false when another request changed it first.
    /// </summary>
    public async Task<bool> SwapInternalContextAsync(SelfServiceFlow flow, string? replacement, CancellationToken ct)
    {
        var now = Now();
        if (!await store.SwapInternalContextAsync(flow.Id, flow.InternalContext, replacement, now, ct)) return false;
        (flow.InternalContext, flow.UpdatedAt) = (replacement, now);
        return true;
    }

    /// <summary>
    /// Saves the changed flow. A submit's flow update is its last write before it answers, so it also commits the writes the
    /// request's unit of work held (<see cref="IUnitOfWork"/>), with the update, in one transaction.
    /// </summary>
    public async Task UpdateAsync(SelfServiceFlow flow, CancellationToken ct)
    {
        flow.UpdatedAt = Now();
        await store.UpdateAsync(flow, ct);
        await work.CommitAsync(ct);
    }

    /// <summary>The flow id from <c>?flow=</c> (submit) or <c>?id=</c> (fetch); a missing or malformed id is a 400.</summary>
    public static Guid FlowId(HttpRequest request, string parameter)
    {
        var raw = request.Query[parameter].ToString();
        return Guid.TryParse(raw, out var id) ? id : throw GatehouseError.BadRequest($"The {parameter} query parameter is missing or malformed.");
    }

    /// <summary>
    /// The flow a submit names in <c>?flow=</c>. Errors before it is known (a missing, malformed or unknown id) are
    /// forwarded to the error UI for browsers (the route's metadata); from then on, as Kratos's flow error handlers do, a
    /// browser flow forwards its errors but 400s, and an API flow none.
    /// </summary>
    public async Task<SelfServiceFlow> LoadForSubmitAsync(HttpContext http, string kind)
    {
        var flow = await LoadAsync(FlowId(http.Request, "flow"), kind, http.RequestAborted);
        http.ForwardErrors(flow.Type == FlowTypes.Browser ? ForwardedErrors.AllButBadRequest : ForwardedErrors.None);
        return flow;
    }

    /// <summary>Loads a flow of the given kind; 404 when there is none (or it is another kind of flow).</summary>
    public async Task<SelfServiceFlow> LoadAsync(Guid id, string kind, CancellationToken ct) =>
        await store.FindAsync(id, kind, ct)
        ?? throw GatehouseError.NotFound($"The {kind} flow {id} does not exist.");

    /// <summary>
    /// A flow as the public fetch endpoint answers it: a browser flow only for the browser holding its CSRF cookie (or
    /// whom <paramref name="verifyReader"/> admits, when given), an expired one as 410. Flows with further rules (settings:
    /// the session's own flow) check those first.
    /// </summary>
    public async Task<JsonObject> FetchAsync(HttpContext http, Guid id, string kind, Action<SelfServiceFlow>? verifyReader = null)
    {
        var flow = await LoadAsync(id, kind, http.RequestAborted);
        if (verifyReader is not null) verifyReader(flow);
        else csrf.VerifyCookie(http, flow);
        if (IsExpired(flow)) throw ExpiredOnFetch(flow);
        return ToJson(flow);
    }

    public bool IsExpired(SelfServiceFlow flow) => flow.ExpiresAt < Now();

    /// <param name="flow">The flow.</param>
    /// <param name="ui">Its <see cref="SelfServiceFlow.Ui"/> as a node the answer may own (else its text is parsed).</param>
    public JsonObject ToJson(SelfServiceFlow flow, JsonObject? ui = null)
    {
        var o = new JsonObject
        {
            ["id"] = flow.Id.ToString(),
            ["type"] = flow.Type,
            ["expires_at"] = GoTimeJsonConverter.Format(flow.ExpiresAt),
            ["issued_at"] = GoTimeJsonConverter.Format(flow.IssuedAt),
            ["request_url"] = flow.RequestUrl,
        };
        if (flow.ReturnTo is not null) o["return_to"] = flow.ReturnTo;
        if (flow.Active is not null) o["active"] = flow.Active;
        o["ui"] = ui ?? JsonNode.Parse(flow.Ui);
        o["created_at"] = GoTimeJsonConverter.Format(flow.CreatedAt);
        o["updated_at"] = GoTimeJsonConverter.Format(flow.UpdatedAt);
        if (flow.Kind == FlowKinds.Login)
        {
            o["refresh"] = flow.Refresh;
            o["requested_aal"] = flow.RequestedAal ?? "aal1";
        }
        if (Login.OAuth2LoginChallenges.Of(flow) is { } challenge) o["oauth2_login_challenge"] = challenge;
        if (flow.Kind is FlowKinds.Login or FlowKinds.Registration or FlowKinds.Settings) o["organization_id"] = null;
        o["state"] = flow.State;
        if (flow.Kind == FlowKinds.Login && Login.TestLoginContext.Of(flow) is { } test) o["test_context"] = test;
        if (flow.TransientPayload is not null) o["transient_payload"] = JsonNode.Parse(flow.TransientPayload);
        if (flow.ContinueWith is not null) o["continue_with"] = JsonNode.Parse(flow.ContinueWith);
        return o;
    }

    public static bool WantsJson(HttpRequest request) => ContentNegotiation.WantsJson(request);

    public static Task WriteFlowAsync(HttpContext http, int status, JsonObject flow) => HttpJson.WriteAsync(http, status, flow);

    public static void Redirect(HttpContext http, string location)
    {
        http.Response.StatusCode = StatusCodes.Status303SeeOther;
        http.Response.Headers.Location = location;
    }

    /// <summary>The <see cref="UiUrl"/> key of the error UI (<c>selfservice.flows.error.ui_url</c>).</summary>
    public const string ErrorUi = "error";

    /// <summary>Where the UI of a flow kind (or <see cref="ErrorUi"/>) is: the configured <c>ui_url</c>, else the built-in page.</summary>
    public string UiUrl(string kind)
    {
        var flows = options.Selfservice.Flows;
        var configured = kind switch
        {
            FlowKinds.Login => flows.Login.UiUrl,
            FlowKinds.Registration => flows.Registration.UiUrl,
            FlowKinds.Settings => flows.Settings.UiUrl,
            FlowKinds.Recovery => flows.Recovery.UiUrl,
            FlowKinds.Verification => flows.Verification.UiUrl,
            ErrorUi => flows.Error.UiUrl,
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "no such UI"),
        };
        // Gatehouse's own pages serve as the UI when the configuration names none; with the pages off,
        // Kratos's fallback pages, as Kratos has them.
        return configured ?? (options.Ui.Enabled ? $"{PublicBase}/ui/{kind}" : $"https://www.ory.com/kratos/docs/fallback/{kind}");
    }

    public string UiUrlFor(SelfServiceFlow flow)
    {
        var ui = UiUrl(flow.Kind);
        return ui + (ui.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "flow=" + flow.Id;
    }

    /// <summary>
    /// The 410 Kratos answers when a flow expired: the error plus <c>use_flow_id</c> (a new flow to use),
    /// <c>expired_at</c> and <c>since</c> (nanoseconds, as Go's Duration).
    /// </summary>
    public GatehouseError Expired(SelfServiceFlow expired, SelfServiceFlow replacement) => Expired(expired.ExpiresAt, replacement);

    /// <summary>
    /// <see cref="Expired(SelfServiceFlow, SelfServiceFlow)"/> counted from <paramref name="expiredAt"/>: a flow's own expiry,
    /// or that of a secret it was given (<see cref="FlowExpired"/>).
    /// </summary>
    public GatehouseError Expired(DateTime expiredAt, SelfServiceFlow replacement, JsonObject? details = null)
    {
        var since = Now() - expiredAt;
        // Kratos's flow.NewFlowExpiredError: herodot's ErrGone with its own error text ("self-service flow expired", the
        // envelope's message) and no details (but those WithContinueWith adds); the new flow's id is the sibling use_flow_id.
        return new GatehouseError(410, $"The self-service flow expired {since.TotalMinutes:0.00} minutes ago, initialize a new one.", "self_service_flow_expired",
            message: "self-service flow expired", details: details)
        {
            Siblings = new JsonObject
            {
                ["use_flow_id"] = replacement.Id.ToString(),
                ["expired_at"] = GoTimeJsonConverter.Format(expiredAt),
                ["since"] = since.Ticks * 100,
            },
        };
    }

    /// <summary>
    /// Kratos's <c>flow.NewFlowReplacedError</c>: 410 <c>self_service_flow_replaced</c> whose reason is the text of
    /// <paramref name="reason"/>, with <c>use_flow_id</c> beside the error — the new flow to use, which carries the messages.
    /// </summary>
    public static GatehouseError Replaced(SelfServiceFlow replacement, string reason) =>
        new(410, reason, "self_service_flow_replaced", "self-service flow replaced")
        {
            Siblings = new JsonObject { ["use_flow_id"] = replacement.Id.ToString() },
        };

    /// <summary>
    /// The 410 a fetch of an expired flow gets: <c>details.redirect_to</c> (browser: the init URL, keeping
    /// <c>return_to</c>) or <c>details.api</c> (API flows), as Kratos answers.
    /// </summary>
    public GatehouseError ExpiredOnFetch(SelfServiceFlow flow)
    {
        var since = Now() - flow.ExpiresAt;
        var details = new JsonObject();
        if (flow.Type == FlowTypes.Browser)
        {
            details["redirect_to"] = $"{PublicBase}/self-service/{flow.Kind}/browser" + (flow.ReturnTo is null ? "" : "?return_to=" + Uri.EscapeDataString(flow.ReturnTo));
            if (flow.ReturnTo is not null) details["return_to"] = flow.ReturnTo;
        }
        else
        {
            details["api"] = $"{PublicBase}/self-service/{flow.Kind}/api";
        }
        return new GatehouseError(410, $"The self-service flow expired {since.TotalMinutes:0.00} minutes ago, initialize a new one.", "self_service_flow_expired", details: details);
    }

    /// <summary>Applies a traits validation failure to a flow's UI: each error on its <c>traits.*</c> node.</summary>
    public static void AddTraitErrors(UiContainer ui, IEnumerable<Schemas.TraitsError> errors)
    {
        foreach (var e in errors)
        {
            var name = e.InstancePointer.TrimStart('#').Trim('/').Replace('/', '.');
            ui.AddMessage(name.StartsWith("traits", StringComparison.Ordinal) && name.Length > "traits".Length ? name : null, Text.Messages.FromTraitsError(e));
        }
    }
}
