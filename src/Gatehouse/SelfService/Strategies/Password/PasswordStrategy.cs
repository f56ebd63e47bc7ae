using Gatehouse.Config;
using Gatehouse.Hashing;
using Gatehouse.Identities;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Hooks;

namespace Gatehouse.SelfService.Strategies.Password;

/// <summary>
/// The <c>password</c> method: an identifier (from the identity schema's <c>credentials.password.identifier</c>) and a
/// password, hashed with the configured hasher. Signs in (aal1), registers, and changes the password in settings.
/// </summary>
public sealed partial class PasswordStrategy(
    IPrivilegedIdentityStore store,
    PasswordHasher hasher,
    HashingQueue hashing,
    RateLimiting.LoginAttempts attempts,
    LoginTiming timing,
    PasswordPolicy policy,
    IdentityManager identities,
    HookRunner hooks,
    FlowService flows,
    PasswordMigrationHook migration) : ILoginStrategy, IRegistrationStrategy, ISettingsStrategy, IStrategyDescriptor
{
    public const string MethodName = CredentialTypes.Password;

    public string Name => MethodName;

    public static string ConfigName => MethodName;

    public static bool IsEnabled(GatehouseOptions options) => options.Selfservice.Methods.Password.Enabled;
}
