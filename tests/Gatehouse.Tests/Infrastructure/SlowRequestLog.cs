using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>
/// Test servers report a request that took <see cref="Threshold"/> or longer (on standard error: the request, how long,
/// its status and the thread pool's state), so that a browser test's 30-second timeout can be told apart from a server
/// that stalled: a stalled request is reported when it ends, at the latest when its server stops.
/// </summary>
internal sealed class SlowRequestLog : IStartupFilter
{
    public static readonly TimeSpan Threshold = TimeSpan.FromSeconds(8);

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, following) =>
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await following(context);
            }
            finally
            {
                var elapsed = Stopwatch.GetElapsedTime(started);
                if (elapsed >= Threshold)
                {
                    Console.Error.WriteLine(
                        $"{DateTime.UtcNow:HH:mm:ss.fff} slow request: {context.Request.Method} {context.Request.Host}{context.Request.Path}{context.Request.QueryString} " +
                        $"took {elapsed.TotalMilliseconds:F0} ms ({context.Response.StatusCode}); thread pool: {ThreadPool.ThreadCount} threads, {ThreadPool.PendingWorkItemCount} queued");
                }
            }
        });
        next(app);
    };
}
