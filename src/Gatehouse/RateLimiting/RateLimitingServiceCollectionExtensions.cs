using Gatehouse.Config;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gatehouse.RateLimiting;

public static class RateLimitingServiceCollectionExtensions
{
    /// <summary>Registers <c>gatehouse.rate_limits</c>: the client-address rule and the limiter (the
    /// counters' store, <see cref="IRateLimitCounters"/>, is registered by Persistence).</summary>
    public static IServiceCollection AddRateLimiting(this IServiceCollection services)
    {
        services.TryAddSingleton(sp => new ClientAddresses(sp.GetRequiredService<GatehouseOptions>()));
        services.TryAddSingleton<RefusalCache>();
        services.TryAddScoped<RateLimiter>();
        services.TryAddScoped<LoginAttempts>();
        return services;
    }

    /// <summary>
    /// Counts every request to the group's endpoints with these route patterns against the client address's
    /// <c>flows_per_address</c> limit (the self-service flow creation routes); over it, 429 before the flow is made.
    /// </summary>
    public static RouteGroupBuilder LimitFlowCreationOn(this RouteGroupBuilder group, params string[] routePatterns)
    {
        ArgumentNullException.ThrowIfNull(group);
        var routes = routePatterns.Select(r => r.TrimStart('/')).ToHashSet(StringComparer.Ordinal);
        ((IEndpointConventionBuilder)group).Add(b =>
        {
            if (b is RouteEndpointBuilder route && routes.Contains(route.RoutePattern.RawText?.TrimStart('/') ?? "")) b.FilterFactories.Add((_, next) => async context =>
            {
                var http = context.HttpContext;
                var limiter = http.RequestServices.GetRequiredService<RateLimiter>();
                if (limiter.ClientBucket(http) is { } bucket) await limiter.EnforceAsync(RateLimitKind.FlowsPerAddress, bucket, http.RequestAborted);
                return await next(context);
            });
        });
        return group;
    }
}
