using Gatehouse.Http.Outbound;
using Gatehouse.Config;
using Gatehouse.Http;
using Gatehouse.Jsonnet;
using Gatehouse.Sessions.Tokenizer;
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
        services.TryAddSingleton<CsrfCookie>();
        services.TryAddScoped<SessionManager>();
        services.TryAddScoped<SessionList>();
        services.TryAddScoped<SessionAssurance>();
        services.TryAddSingleton<WhoamiCache>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Identities.IIdentityDeletedListener, WhoamiCache>(sp => sp.GetRequiredService<WhoamiCache>()));
        services.TryAddSingleton<WhoamiCacheInvalidation>();
        services.AddHostedService<WhoamiCacheListener>();
        services.TryAddSingleton<JsonnetEngine>();
        services.TryAddSingleton<SessionTokenizer>();
        // Claims mappers come only from the configured URL: redirects are not followed.
        services.AddHttpClient(SessionTokenizer.MapperClientName, c => c.Timeout = TimeSpan.FromSeconds(10))
            .ConfigurePrimaryHttpMessageHandler(sp => PrivateNetworkGuard.Handler(sp.GetRequiredService<GatehouseOptions>(), () => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }));
        return services;
    }
}
