using System.Globalization;
using System.Text;
using Gatehouse.Http.Metrics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Gatehouse.Bench;

/// <summary>
/// In process, no server: the CPU the HTTP metrics add to one request. A whoami-shaped request (its headers, a 1 KB JSON
/// answer written through the pipe) is handled by a handler alone and by <see cref="HttpMetricsMiddleware"/> around the
/// same handler, alternately in blocks on one thread, timed by that thread's CPU clock; the difference per request is the
/// metrics' cost (the timing, the byte count, the request-size sum and the six metric updates).
/// </summary>
internal static class HttpMetricsBenchmark
{
    public static string Run(int requests)
    {
        var metrics = new HttpMetrics(MetricsEndpoints.CreateRegistry());
        var endpoint = new RouteEndpoint(_ => Task.CompletedTask, RoutePatternFactory.Parse("/sessions/whoami"), 0, EndpointMetadataCollection.Empty, "whoami");
        var answer = Encoding.UTF8.GetBytes("{\"id\":\"" + new string('x', 1000) + "\"}");
        RequestDelegate handler = async context =>
        {
            context.SetEndpoint(endpoint);
            context.Response.StatusCode = 200;
            answer.CopyTo(context.Response.BodyWriter.GetSpan(answer.Length));
            context.Response.BodyWriter.Advance(answer.Length);
            // To Stream.Null: the buffer is handed on and reused, as Kestrel's is after each answer.
            await context.Response.BodyWriter.FlushAsync();
        };
        var middleware = new HttpMetricsMiddleware(handler, metrics);
        var context = NewContext();

        // Warm up both paths past the JIT's tiering, then alternate blocks so that machine noise hits both alike.
        for (var i = 0; i < 200_000; i++)
        {
            Reset(context);
            handler(context).GetAwaiter().GetResult();
            Reset(context);
            middleware.InvokeAsync(context).GetAwaiter().GetResult();
        }
        Thread.Sleep(1000);
        TimeSpan bare = TimeSpan.Zero, measured = TimeSpan.Zero;
        const int Blocks = 10;
        var perBlock = requests / Blocks;
        for (var block = 0; block < Blocks; block++)
        {
            var start = WebAuthnBenchmark.ThreadCpu();
            for (var i = 0; i < perBlock; i++)
            {
                Reset(context);
                handler(context).GetAwaiter().GetResult();
            }
            var middle = WebAuthnBenchmark.ThreadCpu();
            for (var i = 0; i < perBlock; i++)
            {
                Reset(context);
                middleware.InvokeAsync(context).GetAwaiter().GetResult();
            }
            var end = WebAuthnBenchmark.ThreadCpu();
            bare += middle - start;
            measured += end - middle;
        }
        var count = perBlock * Blocks;
        double Ns(TimeSpan t) => t.TotalMilliseconds * 1e6 / count;
        var md = new StringBuilder();
        md.AppendLine("| measure | value |").AppendLine("|---|---|");
        md.AppendLine(CultureInfo.InvariantCulture, $"| requests per path | {count:N0} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| handler alone, CPU per request | {Ns(bare):0} ns |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| metrics middleware + handler, CPU per request | {Ns(measured):0} ns |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| **the metrics' cost per request** | **{Ns(measured) - Ns(bare):0} ns** |");
        return md.ToString();
    }

    private static DefaultHttpContext NewContext()
    {
        var context = new DefaultHttpContext();
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(Stream.Null));
        var request = context.Request;
        request.Method = "GET";
        request.Protocol = "HTTP/1.1";
        request.Path = "/sessions/whoami";
        request.Headers.Host = "127.0.0.1:4433";
        request.Headers.Accept = "application/json";
        request.Headers.UserAgent = "ory-client-fetch/1.0";
        request.Headers["X-Session-Token"] = "ory_st_" + new string('a', 32);
        return context;
    }

    private static void Reset(DefaultHttpContext context)
    {
        context.SetEndpoint(null);
        context.Response.StatusCode = 200;
    }
}
