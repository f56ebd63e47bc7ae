using Gatehouse.Config;
using Gatehouse.Jsonnet;
using Gatehouse.SelfService.Hooks.WebHooks;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gatehouse.SelfService.Hooks;

public static class HooksServiceCollectionExtensions
{
    /// <summary>The hook runner, the built-in hooks and <c>web_hook</c>; checks the configured hooks first.</summary>
    public static IServiceCollection AddFlowHooks(this IServiceCollection services, GatehouseOptions options)
    {
        HookConfigValidator.Validate(options);
        services.TryAddScoped<HookRunner>();
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IFlowHook, SessionHook>());
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IFlowHook, RevokeActiveSessionsHook>());
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IFlowHook, RequireVerifiedAddressHook>());
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IFlowHook, ShowVerificationUiHook>());
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IFlowHook, WebHook>());

        services.TryAddSingleton<JsonnetEngine>();
        services.TryAddSingleton<WebHookTemplates>();
        services.TryAddSingleton<WebHookSender>();
        services.TryAddSingleton<WebHookQueue>();
        services.AddHostedService<WebHookDispatcher>();
        // Calls go only to the configured URL: redirects are not followed. Time-outs are per hook (WebHookConfig.Timeout).
        services.AddHttpClient(WebHookSender.ClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
            // Header values (API keys, basic auth) never reach the HTTP client's trace logs.
            .RedactLoggedHeaders(_ => true);
        services.AddHttpClient(WebHookSender.TemplateClientName, c => c.Timeout = TimeSpan.FromSeconds(10))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });
        return services;
    }
}
