using Gatehouse.Http;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Outbound;
using Gatehouse.SelfService.Csrf;
using Gatehouse.SelfService.Errors;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Flows.Login;
using Gatehouse.SelfService.Flows.Registration;
using Gatehouse.SelfService.Flows.Recovery;
using Gatehouse.SelfService.Flows.Settings;
using Gatehouse.SelfService.Flows.Verification;
using Gatehouse.SelfService.Strategies;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gatehouse.SelfService;

public static class SelfServiceServiceCollectionExtensions
{
    public static IServiceCollection AddSelfService(this IServiceCollection services)
    {
        // Its own warning line replaces the client's failure log, which carries a stack trace per registration. Kratos
        // builds this client without ResilientClientDisallowInternalIPs (password/validator.go), so ory/x's default rule.
        services.AddHttpClient("hibp", c => c.Timeout = TimeSpan.FromSeconds(5))
            .ConfigurePrimaryHttpMessageHandler(() => PrivateNetworkGuard.Default(new SocketsHttpHandler { UseCookies = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) }))
            .RemoveAllLoggers();
        services.TryAddSingleton<ReturnUrlPolicy>();
        services.TryAddSingleton<CsrfCookie>();
        services.TryAddSingleton<CsrfTokens>();
        services.TryAddScoped<FlowService>();
        services.TryAddScoped<FlowResponder>();
        services.TryAddScoped<SessionTokenExchange>();
        services.TryAddScoped<LoginFlows>();
        services.TryAddScoped<OAuth2LoginChallenges>();
        // oauth2_provider.url: an external Hydra over HTTP (Kratos's DefaultHydra); unset, Gatehouse's own provider in-process.
        // Go's client follows redirects (.NET's drops Authorization on the way); the guard checks every connection.
        services.AddHttpClient(HydraAdminLoginProvider.ClientName, c => c.Timeout = System.Threading.Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp => PrivateNetworkGuard.Handler(sp.GetRequiredService<Config.GatehouseOptions>(), () => new SocketsHttpHandler { AllowAutoRedirect = true, UseCookies = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) }))
            .RemoveAllLoggers();
        services.TryAddScoped<IOAuth2LoginProvider>(sp => sp.GetRequiredService<Config.GatehouseOptions>().Oauth2Provider.Url is { Length: > 0 }
            ? ActivatorUtilities.CreateInstance<HydraAdminLoginProvider>(sp)
            : ActivatorUtilities.CreateInstance<BuiltInOAuth2LoginProvider>(sp));
        services.TryAddScoped<TestLoginFlows>();
        services.TryAddSingleton<TestLoginCookie>();
        services.TryAddScoped<RegistrationFlows>();
        services.TryAddScoped<SettingsFlows>();
        services.TryAddScoped<SettingsContinuity>();
        services.TryAddScoped<OneTimeCodes>();
        services.TryAddScoped<VerificationFlows>();
        services.TryAddScoped<PendingTraitsChanges>();
        services.TryAddScoped<RecoveryFlows>();
        services.TryAddScoped<SelfServiceErrors>();
        services.TryAddSingleton<IErrorForwarder, SelfServiceErrorForwarder>();
        services.AddScoped<ISettingsHook, VerifyChangedAddresses>();
        services.AddStrategies();
        return services;
    }
}
