using Gatehouse.Config;
using Gatehouse.Http.Outbound;
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
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IFlowHook, VerifyNewAddressHook>());
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IFlowHook, WebHook>());
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IFlowHook, NotifyPreviousAddressesHook>());

        services.AddOutboundRequests();
        services.TryAddSingleton<WebHookQueue>();
        services.AddHostedService<WebHookDispatcher>();
        return services;
    }
}
