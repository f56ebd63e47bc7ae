using Gatehouse.Config;
using Gatehouse.Http;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gatehouse.Sessions;

public static class SessionsServiceCollectionExtensions
{
    public static IServiceCollection AddSessions(this IServiceCollection services, GatehouseOptions options)
    {
        services.TryAddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SessionCookie>();
        services.TryAddSingleton<SessionJson>();
        services.TryAddSingleton<ReturnUrlPolicy>();
        services.TryAddScoped<SessionManager>();
        services.TryAddScoped<SessionList>();
        services.TryAddSingleton<WhoamiCache>();
        services.TryAddSingleton<WhoamiCacheInvalidation>();
        services.AddHostedService<WhoamiCacheListener>();
        return services;
    }
}
