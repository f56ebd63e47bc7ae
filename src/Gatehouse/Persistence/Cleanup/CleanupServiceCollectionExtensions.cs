using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gatehouse.Persistence.Cleanup;

public static class CleanupServiceCollectionExtensions
{
    /// <summary>The cleaners of the core tables and the runner; every host that opens the database gets them.</summary>
    public static IServiceCollection AddDatabaseCleanup(this IServiceCollection services)
    {
        services.TryAddSingleton<DatabaseCleanup>();
        services.AddExpiredDataCleaner<ExpiredSessionsCleaner>();
        services.AddExpiredDataCleaner<ExpiredFlowsCleaner>();
        services.AddExpiredDataCleaner<ExpiredCodesCleaner>();
        services.AddExpiredDataCleaner<StoredErrorsCleaner>();
        services.AddExpiredDataCleaner<ExpiredFedcmNoncesCleaner>();
        services.AddExpiredDataCleaner<FinishedCourierMessagesCleaner>();
        services.AddExpiredDataCleaner<ExpiredRateLimitCountersCleaner>();
        services.AddExpiredDataCleaner<ExpiredOAuth2TokensCleaner>();
        services.AddExpiredDataCleaner<ExpiredOAuth2RequestsCleaner>();
        services.AddExpiredDataCleaner<ExpiredOAuth2LoginSessionsCleaner>();
        services.AddExpiredDataCleaner<ExpiredOAuth2LogoutRequestsCleaner>();
        services.AddExpiredDataCleaner<ExpiredOAuth2JwtAssertionsCleaner>();
        services.AddExpiredDataCleaner<ExpiredOAuth2VerifiableCredentialNoncesCleaner>();
        services.AddExpiredDataCleaner<ExpiredOAuth2TrustedJwtIssuersCleaner>();
        services.AddExpiredDataCleaner<ExpiredOAuth2DeviceRequestsCleaner>();
        services.AddExpiredDataCleaner<ExpiredOAuth2DeviceChallengesCleaner>();
        return services;
    }

    /// <summary>Adds one table's cleaner; the runner visits cleaners in registration order.</summary>
    public static IServiceCollection AddExpiredDataCleaner<T>(this IServiceCollection services) where T : class, IExpiredDataCleaner
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IExpiredDataCleaner, T>());
        return services;
    }
}
