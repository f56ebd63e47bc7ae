using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Outbound;
using Gatehouse.Identities;
using Gatehouse.Jsonnet;
using Gatehouse.SelfService.Flows;
using Gatehouse.Sessions;
using Gatehouse.Text;
using Microsoft.AspNetCore.Http.Extensions;

namespace Gatehouse.SelfService.Hooks.WebHooks;

/// <summary>
/// <c>web_hook</c>: calls an external service with a body rendered from a Jsonnet template that receives <c>ctx</c>.
/// With <c>response.parse</c> (or <c>can_interrupt</c>) it runs before the flow's result is written and waits for the
/// answer: a 2xx <c>{"identity":{…}}</c> replaces the fields it names (<see cref="IdentityChanges"/>), an error
/// answer with <c>messages</c> stops the flow. Otherwise it runs after the result is written; with
/// <c>response.ignore</c> it is sent from a background queue. Kratos: <c>selfservice/hook/web_hook.go</c>.
/// </summary>
public sealed partial class WebHook(
    WebHookTemplates templates,
    WebHookSender sender,
    WebHookQueue queue,
    FlowService flows,
    IdentityJson identityJson,
    SessionJson sessionJson,
    GatehouseOptions options,
    ILogger<WebHook> logger) : IFlowHook
{
    // Config entries are parsed (and checked at start-up) once; the options tree lives as long as the process.
    private static readonly ConditionalWeakTable<HookConfig, WebHookConfig> Parsed = [];

    public string Name => "web_hook";

    public static WebHookConfig ConfigOf(HookConfig config) =>
        Parsed.GetValue(config, c => WebHookConfig.Read(c.Config, "web_hook"));

    public bool RunsIn(HookPhase phase, HookConfig config) => phase switch
    {
        HookPhase.Before => true,
        HookPhase.PrePersist => ConfigOf(config).ReadsResponse,
        _ => !ConfigOf(config).ReadsResponse,
    };

    // With tracing off the hook runs as it always did: no span, no extra state machine.
    public Task<IdentityChanges?> ExecuteAsync(HookConfig config, HookContext context, CancellationToken ct) =>
        options.Tracing.Enabled ? TracedAsync(config, context, ct) : RunAsync(ConfigOf(config), context, traced: false, ct);

    /// <summary>Kratos's <c>otelx.WithSpan</c> around the hook method, named after it.</summary>
    private async Task<IdentityChanges?> TracedAsync(HookConfig config, HookContext context, CancellationToken ct)
    {
        using var span = WebHookTracing.Source.StartActivity(WebHookTracing.ExecuteSpanName(context.FlowKind, context.Phase));
        try
        {
            return await RunAsync(ConfigOf(config), context, traced: true, ct);
        }
        catch (Exception e)
        {
            WebHookTracing.Failed(span, e);
            throw;
        }
    }

    private async Task<IdentityChanges?> RunAsync(WebHookConfig cfg, HookContext context, bool traced, CancellationToken ct)
    {
        // Also names the failure in the log and in the error's details, so an operator can match a user's report.
        var requestId = Guid.NewGuid().ToString();
        string? body = null;
        // Kratos (request.Builder.BuildRequest): every method but TRACE carries the rendered template — GET, HEAD and DELETE
        // too — and a hook without a template then fails ("got empty template path for request with body"). Kratos renders
        // an ignored hook's body in its background goroutine, so there a failing template is only logged and the flow goes on.
        if (cfg.SendsBody)
        {
            if (cfg.Body is null)
            {
                LogNoBody(logger, cfg.Method.Method, cfg.Url, requestId);
                if (cfg.Ignore) return null;
                throw Failed(500, NoBodyReason, requestId);
            }
            JsonnetProgram program;
            try
            {
                program = await templates.GetAsync(cfg.Body, ct);
            }
            catch (Exception e) when (e is JsonnetException or IOException or HttpRequestException or InvalidOperationException or FormatException or UnauthorizedAccessException or OperationCanceledException && !ct.IsCancellationRequested)
            {
                LogTemplateFailed(logger, cfg.Url, requestId, e.Message);
                if (cfg.Ignore) return null;
                throw Failed(500, TemplateFailedReason, requestId);
            }
            try
            {
                body = program.EvaluateMinified(WebHookTemplates.Limits(Context(context, cfg).ToJsonString()), ct);
            }
            catch (JsonnetException e) when (e.Message == "cancel")
            {
                // Kratos: a template that raises `error 'cancel'` skips the call.
                LogCancelled(logger, cfg.Url);
                return null;
            }
            catch (JsonnetException e)
            {
                LogTemplateFailed(logger, cfg.Url, requestId, e.Message);
                if (cfg.Ignore) return null;
                throw Failed(500, TemplateFailedReason, requestId);
            }
        }

        var triggerId = context.Http.TraceIdentifier;
        if (cfg.Ignore)
        {
            // Kratos sends an ignored hook from a goroutine whose selfservice.webhook span is still the hook's child.
            var trace = traced ? new WebHookTrace(System.Diagnostics.Activity.Current?.Context ?? default, context.Identity?.Id, context.Identity?.Nid) : null;
            queue.Enqueue(new WebHookDelivery(cfg, body, requestId, triggerId, trace));
            return null;
        }
        using var span = traced ? WebHookTracing.StartRequest(cfg, default, context.Identity?.Id, context.Identity?.Nid) : null;
        try
        {
            WebHookAnswer answer;
            try
            {
                answer = await sender.SendAsync(cfg, body, requestId, triggerId, ct);
            }
            catch (WebHookCallFailed e)
            {
                // The sender logged the cause; the user sees no host name, address or socket error.
                throw e.TimedOut ? Failed(504, e.Message, requestId) : Failed(502, UnreachableReason, requestId);
            }
            WebHookTracing.Answered(span, answer.Status);
            return Interpret(cfg, answer);
        }
        catch (Exception e) when (span is not null)
        {
            WebHookTracing.Failed(span, e);
            throw;
        }
    }

    /// <summary>What an answer means for the flow (Kratos's <c>parseResponse</c>).</summary>
    public static IdentityChanges? Interpret(WebHookConfig cfg, WebHookAnswer answer)
    {
        if (answer.Status >= 400)
        {
            if (cfg.ReadsResponse && InterruptMessages(answer.Body) is { Count: > 0 } messages) throw new FlowHookInterrupt(messages);
            throw new GatehouseError(502, $"webhook failed with status code {answer.Status}");
        }
        if (!cfg.Parse || answer.Status == 204 || answer.Body.Length == 0) return null;
        JsonNode? parsed;
        try
        {
            parsed = JsonNode.Parse(answer.Body);
        }
        catch (JsonException)
        {
            throw new GatehouseError(502, "The web hook answered with a body that is not JSON.");
        }
        if (parsed?["identity"] is not JsonObject identity) return null;
        static JsonNode? Field(JsonObject o, string key) => o[key] is { } v ? v.DeepClone() : null;
        var changes = new IdentityChanges(
            Field(identity, "traits"), Field(identity, "metadata_public"), Field(identity, "metadata_admin"),
            SchemaId: NonEmpty(StringField(identity, "schema_id")),
            State: NonEmpty(StringField(identity, "state")),
            // Kratos: external_id present at all replaces it; "" (and null, which Go reads as "") removes it.
            ExternalId: identity.ContainsKey("external_id") ? StringField(identity, "external_id") ?? "" : null,
            VerifiableAddresses: Addresses(identity, "verifiable_addresses", verifiable: true),
            RecoveryAddresses: Addresses(identity, "recovery_addresses", verifiable: false));
        return changes.IsEmpty ? null : changes;
    }

    private static string? NonEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    /// <summary>A string field of the answer's identity; null when absent or null. Another type fails as Go's decoder does.</summary>
    private static string? StringField(JsonObject identity, string key) => identity[key] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => throw Unreadable($"identity.{key} must be a string"),
    };

    /// <summary>
    /// An address list of the answer's identity (null when absent, null or empty: Kratos takes it only when non-empty):
    /// objects with string <c>value</c> and <c>via</c> (<c>email</c> or <c>sms</c>); verifiable ones may carry a boolean
    /// <c>verified</c>, a <c>status</c> of Kratos's (<c>pending</c>, <c>sent</c>, <c>completed</c>) and a <c>verified_at</c> time.
    /// </summary>
    private static JsonArray? Addresses(JsonObject identity, string key, bool verifiable)
    {
        if (identity[key] is null) return null;
        if (identity[key] is not JsonArray list) throw Unreadable($"identity.{key} must be an array");
        if (list.Count == 0) return null;
        foreach (var (entry, i) in list.Select((e, i) => (e, i)))
        {
            var where = $"identity.{key}[{i}]";
            if (entry is not JsonObject a) throw Unreadable($"{where} must be an object");
            if (StringField(a, "value") is not { Length: > 0 }) throw Unreadable($"{where}.value must be a non-empty string");
            if (StringField(a, "via") is { } via && via is not ("email" or "sms")) throw Unreadable($"{where}.via must be email or sms");
            if (!verifiable) continue;
            if (a["verified"] is { } verified && verified.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False)) throw Unreadable($"{where}.verified must be a boolean");
            if (StringField(a, "status") is { } status && status is not ("pending" or "sent" or "completed")) throw Unreadable($"{where}.status must be pending, sent or completed");
            if (StringField(a, "verified_at") is { } at && !DateTime.TryParse(at, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind, out _))
                throw Unreadable($"{where}.verified_at must be a time (RFC 3339)");
        }
        return (JsonArray)list.DeepClone();
    }

    private static GatehouseError Unreadable(string what) =>
        new(502, $"The web hook's answer could not be read as an identity: {what}.");

    /// <summary>
    /// <c>{"messages":[{"instance_ptr":"#/traits/email","messages":[{id,text,type,context}]}]}</c> as form messages;
    /// a type other than "error" is shown as info, as in Kratos. Null when the body is not of that shape.
    /// </summary>
    public static List<(string? NodeName, JsonObject Message)>? InterruptMessages(byte[] body)
    {
        JsonNode? parsed;
        try
        {
            parsed = body.Length == 0 ? null : JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            return null;
        }
        if (parsed?["messages"] is not JsonArray entries) return null;
        var result = new List<(string?, JsonObject)>();
        foreach (var entry in entries.OfType<JsonObject>())
        {
            var node = FlowHookInterrupt.NodeName(entry["instance_ptr"] is JsonValue p && p.TryGetValue<string>(out var ptr) ? ptr : null);
            foreach (var m in (entry["messages"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var id = m["id"] is JsonValue idv && idv.TryGetValue<long>(out var n) ? n : 0;
                var text = m["text"] is JsonValue tv && tv.TryGetValue<string>(out var t) ? t : "";
                var context = m["context"] as JsonObject;
                var message = m["type"]?.ToString() == "error" ? Messages.Error(id, text, context?.DeepClone().AsObject()) : Messages.Info(id, text, context?.DeepClone().AsObject());
                result.Add((node, message));
            }
        }
        return result;
    }

    /// <summary>The template's <c>ctx</c>: the same fields Kratos gives it.</summary>
    private JsonObject Context(HookContext context, WebHookConfig cfg)
    {
        var ctx = new JsonObject { ["flow"] = flows.ToJson(context.Flow) };
        AddRequest(ctx, context.Http.Request, cfg.HeaderAllowlistWithin(options));
        if (context.Identity is not null) ctx["identity"] = identityJson.ToNode(context.Identity, IdentityView.AdminWrite);
        if (context.Session is not null) ctx["session"] = sessionJson.ToNode(context.Session, includeIdentity: false, IdentityView.Public);
        if (context.Flow.TransientPayload is not null) ctx["transient_payload"] = JsonNode.Parse(context.Flow.TransientPayload);
        return ctx;
    }

    /// <summary>
    /// The request's part of a template's <c>ctx</c>: <c>request_headers</c> (only the allowlisted ones),
    /// <c>request_method</c>, <c>request_url</c>, and <c>request_cookies</c> only when the allowlist names the Cookie header.
    /// </summary>
    public static void AddRequest(JsonObject ctx, HttpRequest request, IReadOnlyList<string> headerAllowlist)
    {
        ctx["request_headers"] = GoHeaderKey.Allowlisted(request, headerAllowlist);
        ctx["request_method"] = request.Method;
        ctx["request_url"] = request.GetDisplayUrl();
        if (headerAllowlist.Any(h => string.Equals(h, "Cookie", StringComparison.OrdinalIgnoreCase)))
        {
            var cookies = new JsonObject();
            foreach (var (name, value) in request.Cookies) cookies[name] = value;
            ctx["request_cookies"] = cookies;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "web_hook {Url} skipped: its body template raised 'cancel'")]
    private static partial void LogCancelled(ILogger logger, LoggedUrl url);

    [LoggerMessage(Level = LogLevel.Error, Message = "web_hook {Method} {Url} (request {RequestId}): config.body is not set; every method but TRACE sends the rendered template, as in Kratos")]
    private static partial void LogNoBody(ILogger logger, string method, LoggedUrl url, string requestId);

    [LoggerMessage(Level = LogLevel.Error, Message = "web_hook {Url} (request {RequestId}): body template failed: {Error}")]
    private static partial void LogTemplateFailed(ILogger logger, LoggedUrl url, string requestId, string error);

    /// <summary>The stable error id of every web hook failure that stops a flow.</summary>
    public const string ErrorId = "web_hook_failed";

    public const string TemplateFailedReason = "The web hook's body template failed; the server log has the details.";
    public const string NoBodyReason = "The web hook has no body template (config.body); every method but TRACE needs one.";
    public const string UnreachableReason = "The web hook could not be reached; the server log has the details.";

    /// <summary>A generic error for the user; the cause is in the log under <paramref name="requestId"/>.</summary>
    private static GatehouseError Failed(int status, string reason, string requestId) =>
        new(status, reason, ErrorId, details: new JsonObject { ["web_hook_request_id"] = requestId });
}
