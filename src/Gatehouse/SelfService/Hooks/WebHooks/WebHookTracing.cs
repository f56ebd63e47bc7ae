using System.Diagnostics;
using Gatehouse.Http.Outbound;
using Gatehouse.SelfService.Flows;

namespace Gatehouse.SelfService.Hooks.WebHooks;

/// <summary>
/// The web hook's spans, Kratos's (<c>selfservice/hook/web_hook.go</c>): one named after the hook method that ran
/// (<c>selfservice.hook.WebHook.ExecuteLoginPostHook</c>, …, <see cref="ExecuteSpanName"/>) around the whole hook, and
/// inside it <c>selfservice.webhook</c> around the call (or, for <c>response.ignore</c>, the background delivery with its
/// retries), carrying the hook's <c>webhook.*</c> attributes and <c>http.status_code</c>; the HTTP client span is its
/// child. Started only when <c>tracing</c> is on.
/// </summary>
public static class WebHookTracing
{
    public const string SourceName = "Gatehouse.WebHooks";

    /// <summary>Kratos's span around one web hook request.</summary>
    public const string RequestSpanName = "selfservice.webhook";

    internal static readonly ActivitySource Source = new(SourceName);

    /// <summary>The name of Kratos's span for the hook method a flow runs in a phase.</summary>
    public static string ExecuteSpanName(string flowKind, HookPhase phase) => "selfservice.hook.WebHook." + (flowKind, phase) switch
    {
        (FlowKinds.Login, HookPhase.Before) => "ExecuteLoginPreHook",
        (FlowKinds.Login, _) => "ExecuteLoginPostHook",
        (FlowKinds.Registration, HookPhase.Before) => "ExecuteRegistrationPreHook",
        (FlowKinds.Registration, HookPhase.PrePersist) => "ExecutePostRegistrationPrePersistHook",
        (FlowKinds.Registration, _) => "ExecutePostRegistrationPostPersistHook",
        (FlowKinds.Settings, HookPhase.Before) => "ExecuteSettingsPreHook",
        (FlowKinds.Settings, HookPhase.PrePersist) => "ExecuteSettingsPrePersistHook",
        (FlowKinds.Settings, _) => "ExecuteSettingsPostPersistHook",
        (FlowKinds.Recovery, HookPhase.Before) => "ExecuteRecoveryPreHook",
        (FlowKinds.Recovery, _) => "ExecutePostRecoveryHook",
        (FlowKinds.Verification, HookPhase.Before) => "ExecuteVerificationPreHook",
        (FlowKinds.Verification, _) => "ExecutePostVerificationHook",
        _ => "Execute",
    };

    /// <summary>Starts <c>selfservice.webhook</c> under <paramref name="parent"/> (the current span when default).</summary>
    internal static Activity? StartRequest(WebHookConfig config, ActivityContext parent, Guid? identityId, Guid? identityNid)
    {
        var span = Source.StartActivity(RequestSpanName, ActivityKind.Internal, parent);
        if (span is not { IsAllDataRequested: true }) return span;
        // The template's location as a log line would show it: a base64:// template is its source, which may hold a
        // literal credential, so only its scheme is named; an http(s) one loses its query.
        span.SetTag("webhook.jsonnet.template-uri", TemplateUri(config.Body));
        span.SetTag("webhook.can_interrupt", config.CanInterrupt);
        span.SetTag("webhook.response.ignore", config.Ignore);
        span.SetTag("webhook.response.parse", config.Parse);
        if (identityId is { } id)
        {
            span.SetTag("webhook.identity.id", id.ToString());
            span.SetTag("webhook.identity.nid", identityNid?.ToString());
        }
        return span;
    }

    /// <summary>Kratos's <c>semconv.HTTPAttributesFromHTTPStatusCode</c> and error status for an answer of 400 or more.</summary>
    internal static void Answered(Activity? span, int status)
    {
        if (span is not { IsAllDataRequested: true }) return;
        span.SetTag("http.status_code", status);
        if (status >= 400) span.SetStatus(ActivityStatusCode.Error, "HTTP status code >= 400");
    }

    /// <summary>ory/x <c>otelx.End</c>: an error status with the error's message, and its type.</summary>
    internal static void Failed(Activity? span, Exception error)
    {
        if (span is not { IsAllDataRequested: true }) return;
        span.SetStatus(ActivityStatusCode.Error, error.Message);
        span.SetTag("error.message", error.Message);
        span.SetTag("error.type", error.GetType().FullName);
    }

    private static string TemplateUri(string? body) => body switch
    {
        null or "" => "",
        _ when body.StartsWith("base64://", StringComparison.OrdinalIgnoreCase) => "base64://",
        _ when body.StartsWith("http", StringComparison.OrdinalIgnoreCase) => LoggedUrl.FromString(body).ToString(),
        _ => body,
    };
}
