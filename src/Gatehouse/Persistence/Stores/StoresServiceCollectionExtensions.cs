using Gatehouse.Identities;
using Gatehouse.SelfService.Errors;
using Gatehouse.SelfService.Flows;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gatehouse.Persistence.Stores;

/// <summary>The EF implementations of the stores the features own (DESIGN rule 1).</summary>
public static class StoresServiceCollectionExtensions
{
    public static IServiceCollection AddStores(this IServiceCollection services)
    {
        services.TryAddScoped<IIdentityReader, EfIdentityReader>();
        services.TryAddScoped<IPrivilegedIdentityStore, EfPrivilegedIdentityStore>();
        services.TryAddScoped<IVerifiableAddressStore, EfVerifiableAddressStore>();
        services.TryAddScoped<IFlowStore, EfFlowStore>();
        services.TryAddScoped<IUnitOfWork, EfUnitOfWork>();
        services.TryAddScoped<ISelfServiceErrorStore, EfSelfServiceErrorStore>();
        services.TryAddScoped<Gatehouse.SelfService.Flows.Settings.IPendingTraitsChangeStore, EfPendingTraitsChangeStore>();
        services.TryAddScoped<RateLimiting.IRateLimitCounters, EfRateLimitCounters>();
        services.TryAddScoped<OAuth2.Keys.IJsonWebKeyStore, EfJsonWebKeyStore>();
        services.TryAddScoped<OAuth2.Tokens.IOAuth2TokenStore, EfOAuth2TokenStore>();
        services.TryAddSingleton<OAuth2.Tokens.IOAuth2TokenLookup>(sp => new SqlOAuth2TokenLookup(sp.GetRequiredService<Dsn>(), sp.GetService<SqlitePreparedReads>()));
        services.TryAddScoped<OAuth2.Tokens.IJwtAssertionStore, EfJwtAssertionStore>();
        services.TryAddScoped<OAuth2.Credentials.IVerifiableCredentialNonceStore, EfVerifiableCredentialNonceStore>();
        services.TryAddScoped<SelfService.Strategies.Oidc.Fedcm.IFedcmNonceStore, EfFedcmNonceStore>();
        services.TryAddScoped<OAuth2.Trust.ITrustedJwtIssuerStore, EfTrustedJwtIssuerStore>();
        services.TryAddScoped<OAuth2.Clients.IOAuth2ClientStore, EfOAuth2ClientStore>();
        services.TryAddScoped<OAuth2.Flows.IOAuth2FlowStore, EfOAuth2FlowStore>();
        services.TryAddScoped<OAuth2.Device.IOAuth2DeviceStore, EfOAuth2DeviceStore>();
        return services;
    }
}
