using Gatehouse.Http.Outbound;

namespace Gatehouse.Http.Tracing;

/// <summary>
/// Sits in an exporter's HTTP client and turns a failed export (an error answer, no connection, no answer in time) into
/// one warning, as Kratos's exporters report theirs to Go OpenTelemetry's global error handler, which logs them. At most
/// one warning per <see cref="Interval"/> per exporter, so a collector that is down does not flood the log; the next one
/// says how many failures it stood for. The line names the endpoint and the cause — never the request's headers (the
/// OTLP <c>authorization_header</c>) — and carries no stack trace.
/// </summary>
public sealed partial class ExportFailureLog(string backend, Uri endpoint, TimeProvider time, ILogger<ExportFailureLog> logger)
{
    /// <summary>The shortest time between two warnings of one exporter.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private readonly Lock _gate = new();
    private DateTimeOffset? _lastWarning;
    private int _unreported;

    /// <summary>A handler for the exporter's HTTP client (in front of <paramref name="inner"/>) that reports to this log.</summary>
    public DelegatingHandler Handler(HttpMessageHandler inner) => new Reporter(this) { InnerHandler = inner };

    // OpenTelemetry's exporters export synchronously (HttpClient.Send), so both paths report.
    private sealed class Reporter(ExportFailureLog log) : DelegatingHandler
    {
        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            try
            {
                return log.Checked(base.Send(request, cancellationToken));
            }
            catch (Exception e) when (log.Reported(e, cancellationToken))
            {
                throw;
            }
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            try
            {
                return log.Checked(await base.SendAsync(request, cancellationToken).ConfigureAwait(false));
            }
            catch (Exception e) when (log.Reported(e, cancellationToken))
            {
                throw;
            }
        }
    }

    private HttpResponseMessage Checked(HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode) Failed($"the collector answered {(int)response.StatusCode} {response.ReasonPhrase}".TrimEnd());
        return response;
    }

    // An exception filter that never catches: it reports a failed send and lets the exception go on.
    private bool Reported(Exception e, CancellationToken ct)
    {
        if (e is OperationCanceledException && ct.IsCancellationRequested)
            Failed($"no answer within {TracingServiceCollectionExtensions.ExportTimeout.TotalSeconds:0} s");
        // .NET's message names the cause and the address ("Connection refused (127.0.0.1:4318)"), not the headers.
        else if (e is HttpRequestException) Failed(e.Message);
        return false;
    }

    private void Failed(string cause)
    {
        int earlier;
        lock (_gate)
        {
            var now = time.GetUtcNow();
            if (_lastWarning is { } last && now - last < Interval)
            {
                _unreported++;
                return;
            }
            _lastWarning = now;
            earlier = _unreported;
            _unreported = 0;
        }
        if (earlier == 0) LogFailed(logger, backend, LoggedUrl.FromUri(endpoint), cause);
        else LogFailedAgain(logger, backend, LoggedUrl.FromUri(endpoint), cause, earlier);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "tracing: could not export spans to {Backend} at {Endpoint}: {Cause}; they were dropped (this warning is repeated at most once a minute)")]
    private static partial void LogFailed(ILogger logger, string backend, LoggedUrl endpoint, string cause);

    [LoggerMessage(Level = LogLevel.Warning, Message = "tracing: could not export spans to {Backend} at {Endpoint}: {Cause}; they were dropped, as were those of {Unreported} more failed exports since the previous warning")]
    private static partial void LogFailedAgain(ILogger logger, string backend, LoggedUrl endpoint, string cause, int unreported);
}
