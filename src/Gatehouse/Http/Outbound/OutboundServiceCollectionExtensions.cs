using Gatehouse.Config;
using Gatehouse.Jsonnet;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gatehouse.Http.Outbound;

/// <summary>
/// Configured outgoing HTTP requests with a Jsonnet body (Kratos's <c>request_config</c>): the <c>web_hook</c> hook and the
/// courier's HTTP channel share the request config, the body templates and the sender.
/// </summary>
public static class OutboundServiceCollectionExtensions
{
    public static IServiceCollection AddOutboundRequests(this IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(WebHookSender))) return services;
        services.TryAddSingleton<JsonnetEngine>();
        services.TryAddSingleton<WebHookTemplates>();
        services.TryAddSingleton<WebHookSender>();
        // Calls go only to the configured URL: redirects are not followed. Time-outs are per request config (WebHookConfig.Timeout).
        services.AddHttpClient(WebHookSender.ClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp => PrivateNetworkGuard.Handler(sp.GetRequiredService<GatehouseOptions>(), () => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) }))
            // Header values (API keys, basic auth) never reach the HTTP client's trace logs.
            .RedactLoggedHeaders(_ => true);
        services.AddHttpClient(WebHookSender.TemplateClientName, c => c.Timeout = TimeSpan.FromSeconds(10))
            .ConfigurePrimaryHttpMessageHandler(sp => PrivateNetworkGuard.Handler(sp.GetRequiredService<GatehouseOptions>(), () => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }));
        return services;
    }
}
