using Gatehouse.SelfService.Strategies.Code;
using Gatehouse.SelfService.Strategies.IdentifierFirst;
using Gatehouse.SelfService.Strategies.Link;
using Gatehouse.SelfService.Strategies.Password;
using Gatehouse.SelfService.Strategies.Passkey;
using Gatehouse.SelfService.Strategies.Profile;
using Gatehouse.Identities;
using Gatehouse.SelfService.Strategies.LookupSecret;
using Gatehouse.SelfService.Strategies.Oidc;
using Gatehouse.SelfService.Strategies.Saml;
using Gatehouse.SelfService.Strategies.Totp;
using Gatehouse.SelfService.Strategies.WebAuthn;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gatehouse.SelfService.Strategies;

/// <summary>
/// Registers the authentication methods. Adding one is a folder under <c>Strategies/</c> and one line here; the order
/// of the lines is the order of the methods' nodes in a form (Kratos's registry order).
/// </summary>
public static class StrategiesServiceCollectionExtensions
{
    public static IServiceCollection AddStrategies(this IServiceCollection services)
    {
        services.TryAddSingleton<PasswordPolicy>();
        services.TryAddSingleton<LoginTiming>();
        services.TryAddScoped<PasswordMigrationHook>();
        services.TryAddScoped<StrategyRegistry>();
        services.TryAddSingleton<RecoveryCodeHasher>();
        services.TryAddSingleton<RevealCookie>();

        // Kratos's order (driver/registry_default.go selfServiceStrategies): it is the order in which the methods fill a
        // form, which shows on the screens that are not sorted (a method's next step) and in ties of the sort.
        services.AddStrategy<ProfileStrategy>();
        services.AddStrategy<PasswordStrategy>();
        services.AddStrategy<OidcStrategy>().AddOidcClient();
        services.AddStrategy<CodeStrategy>();
        services.AddStrategy<LinkStrategy>();
        services.AddStrategy<TotpStrategy>();
        services.AddStrategy<PasskeyStrategy>();
        services.AddStrategy<WebAuthnStrategy>();
        services.AddStrategy<LookupSecretStrategy>();
        // Last: its first screen puts the one identifier field after what the other methods added.
        services.AddStrategy<IdentifierFirstStrategy>();

        // Credential types whose methods do not sign in yet still own their credentials' rules (counting, admin removal).
        services.AddCredentialKind<PasswordCredentials>();
        services.AddCredentialKind<CodeCredentials>();
        services.AddCredentialKind<TotpCredentials>();
        services.AddCredentialKind<LookupSecretCredentials>();
        services.AddCredentialKind<PasskeyCredentials>();
        services.AddCredentialKind<WebAuthnCredentials>();
        services.TryAddSingleton<OidcCipher>();
        services.AddCredentialKind<OidcCredentials>();
        services.AddCredentialKind<SamlCredentials>();
        return services;
    }

    /// <summary>Registers the rules of a credential type (<see cref="ICredentialKind"/>) for the identity code.</summary>
    public static IServiceCollection AddCredentialKind<T>(this IServiceCollection services) where T : class, ICredentialKind
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ICredentialKind, T>());
        return services;
    }

    /// <summary>
    /// Registers a method once, as itself (scoped) and as a <see cref="StrategyRegistration"/> the registry picks up and
    /// makes the method from only when a request asks for it while it is enabled.
    /// </summary>
    public static IServiceCollection AddStrategy<T>(this IServiceCollection services) where T : class, IStrategy, IStrategyDescriptor
    {
        if (services.Any(d => d.ServiceType == typeof(T))) return services;
        services.AddScoped<T>();
        services.AddSingleton(new StrategyRegistration(T.ConfigName, typeof(T), T.IsEnabled, sp => sp.GetRequiredService<T>()));
        return services;
    }
}
