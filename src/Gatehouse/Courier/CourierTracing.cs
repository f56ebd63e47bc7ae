using System.Diagnostics;

namespace Gatehouse.Courier;

/// <summary>
/// The courier's spans, Kratos's (<c>courier/courier_dispatcher.go</c>): <c>courier.DispatchQueue</c> around a poll that
/// claimed messages, <c>courier.DispatchMessage</c> around each delivery, with Kratos's <c>message.*</c> attributes, and
/// <c>courier.httpChannel.Dispatch</c> around a delivery over an HTTP channel.
/// Exported when <c>tracing</c> is on (by <c>serve --watch-courier</c> and <c>courier watch</c>); with tracing off nothing
/// listens to the source and starting a span costs a check.
/// </summary>
public static class CourierTracing
{
    public const string SourceName = "Gatehouse.Courier";

    public const string DispatchQueue = "courier.DispatchQueue";

    public const string DispatchMessage = "courier.DispatchMessage";

    /// <summary>Kratos's span around a delivery over an HTTP channel (<c>courier/http_channel.go</c>); the HTTP client span is its child.</summary>
    public const string HttpChannelDispatch = "courier.httpChannel.Dispatch";

    internal static readonly ActivitySource Source = new(SourceName);

    /// <summary>A poll that found nothing leaves no span (Kratos sends one every <c>pull_wait</c>, even when idle).</summary>
    internal static void Discard(Activity activity)
    {
        activity.IsAllDataRequested = false;
        activity.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
    }
}
