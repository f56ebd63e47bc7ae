using Gatehouse.Http.Outbound;
using Gatehouse.Config;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gatehouse.SelfService.Strategies.Oidc;

/// <summary>The client side of social sign-in: provider metadata and keys (cached), ID token validation, code exchange, mapper, callback.</summary>
public static class OidcServiceCollectionExtensions
{
    public static IServiceCollection AddOidcClient(this IServiceCollection services)
    {
        services.TryAddSingleton<OidcMetadataCache>();
        services.TryAddSingleton<IdTokenValidator>();
        services.TryAddSingleton<OidcUpstream>();
        services.TryAddSingleton<OidcMapper>();
        services.TryAddScoped<OidcCallback>();
        services.TryAddScoped<Fedcm.FedcmFlows>();
        // The strategy finishes a native sign-in (an ID token in the submit) as the callback does; the callback depends on
        // the flows, which depend on the strategies, so the strategy reaches it only when it needs it.
        services.TryAddScoped(sp => new Lazy<OidcCallback>(sp.GetRequiredService<OidcCallback>));
        // Calls go only to the configured provider: no redirects followed, no cookies kept, bounded in time.
        services.AddHttpClient(OidcMetadataCache.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(10))
            .ConfigurePrimaryHttpMessageHandler(sp => PrivateNetworkGuard.Handler(sp.GetRequiredService<GatehouseOptions>(), () => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) }))
            // The token request carries the client secret (Basic) and the code.
            .RedactLoggedHeaders(_ => true);
        return services;
    }
}
