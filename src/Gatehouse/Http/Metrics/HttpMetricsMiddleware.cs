using System.Diagnostics;
using Microsoft.AspNetCore.Http.Features;

namespace Gatehouse.Http.Metrics;

/// <summary>
/// Times every request and counts the bytes of its answer, then records it in <see cref="HttpMetrics"/> under the route
/// it reached. First in the pipeline, so the status is the one the client gets, error envelopes included; a request that
/// reached no route (an unknown path, a method the route does not take, a CORS preflight) is not recorded, as in Kratos,
/// whose router instruments only the routes it registers.
/// </summary>
public sealed class HttpMetricsMiddleware(RequestDelegate next, HttpMetrics metrics)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var original = context.Features.Get<IHttpResponseBodyFeature>()!;
        var counting = new CountingResponseBody(original);
        context.Features.Set<IHttpResponseBodyFeature>(counting);
        var status = 0;
        try
        {
            await next(context);
            status = context.Response.StatusCode;
        }
        catch when (!context.Response.HasStarted)
        {
            // Answered by the server's own handler: a 500 with no body.
            status = StatusCodes.Status500InternalServerError;
            throw;
        }
        finally
        {
            context.Features.Set(original);
            if (context.GetEndpoint() is RouteEndpoint endpoint)
            {
                if (status == 0) status = context.Response.StatusCode;
                metrics.Record(endpoint, context.Request.Method, status, Stopwatch.GetElapsedTime(started).TotalSeconds,
                    ApproximateRequestSize(context.Request), counting.Written);
            }
        }
    }

    /// <summary>
    /// The request's size as the Go client approximates it (promhttp's <c>computeApproximateRequestSize</c>): the
    /// request target, method and protocol, every header's name and values (Host's value only), and the declared body length.
    /// </summary>
    public static long ApproximateRequestSize(HttpRequest request)
    {
        long size = request.Path.Value?.Length ?? 0;
        size += request.PathBase.Value?.Length ?? 0;
        size += request.QueryString.Value?.Length ?? 0;
        size += request.Method.Length + request.Protocol.Length;
        foreach (var header in request.Headers)
        {
            if (!string.Equals(header.Key, "Host", StringComparison.OrdinalIgnoreCase)) size += header.Key.Length;
            foreach (var value in header.Value) size += value?.Length ?? 0;
        }
        return size + (request.ContentLength ?? 0);
    }
}
