using Gatehouse.Config;
using Gatehouse.Identities;
using Gatehouse.SelfService.Hooks;

namespace Gatehouse.SelfService.Strategies.Profile;

/// <summary>
/// The <c>profile</c> method: the identity's traits. In registration it is the first step of the <c>profile_first</c>
/// style (and the way back to it); in settings it changes the traits.
/// </summary>
public sealed partial class ProfileStrategy(
    IdentityManager identities,
    HookRunner hooks,
    GatehouseOptions options) : IRegistrationStrategy, ISettingsStrategy, IStrategyDescriptor
{
    public const string MethodName = "profile";

    public string Name => MethodName;

    public static string ConfigName => MethodName;

    public static bool IsEnabled(GatehouseOptions options) => options.Selfservice.Methods.Profile.Enabled;
}
