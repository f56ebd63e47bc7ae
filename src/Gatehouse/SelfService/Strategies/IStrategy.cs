namespace Gatehouse.SelfService.Strategies;

/// <summary>
/// An authentication method (Kratos's strategy), known by its config name: <c>selfservice.methods.&lt;name&gt;</c> switches
/// it on or off and the <c>method</c> field of a submitted form names it. A method implements the flow interfaces it
/// takes part in (<see cref="ILoginStrategy"/>, <see cref="IRegistrationStrategy"/>, <see cref="ISettingsStrategy"/>,
/// <see cref="IRecoveryStrategy"/>, <see cref="IVerificationStrategy"/>); the flows know no method by name.
/// </summary>
public interface IStrategy
{
    /// <summary>The config name: <c>password</c>, <c>profile</c>, <c>code</c>, <c>link</c>, <c>totp</c>, …</summary>
    string Name { get; }
}

/// <summary>
/// What the <see cref="StrategyRegistry"/> knows of a method before making it: its config name and whether it is on, so
/// that a request builds only the enabled methods (and what they depend on), not all of them.
/// </summary>
public interface IStrategyDescriptor
{
    /// <summary>The config name (<see cref="IStrategy.Name"/>).</summary>
    static abstract string ConfigName { get; }

    /// <summary>Reads this method's <c>selfservice.methods.&lt;name&gt;.enabled</c> (defaults as Kratos's config schema).</summary>
    static abstract bool IsEnabled(Config.GatehouseOptions options);
}
