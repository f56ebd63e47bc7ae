using Gatehouse.Config;
using Gatehouse.Identities;

namespace Gatehouse.SelfService.Hooks;

/// <summary>
/// A flow hook, a plug-in keyed by its config name (<c>hook: session</c>, <c>hook: web_hook</c>, ...). The
/// <see cref="HookRunner"/> runs the configured entries in their configured order.
/// </summary>
public interface IFlowHook
{
    /// <summary>The name used in configuration.</summary>
    string Name { get; }

    /// <summary>Whether this entry runs in <paramref name="phase"/> (e.g. a parsing web hook runs before persisting).</summary>
    bool RunsIn(HookPhase phase, HookConfig config);

    /// <summary>
    /// Runs the hook. It may stop the flow by throwing <see cref="FlowHookInterrupt"/> (messages for the flow's form)
    /// or a <see cref="Http.Errors.GatehouseError"/>; it may return identity changes, which the runner validates and applies.
    /// </summary>
    Task<IdentityChanges?> ExecuteAsync(HookConfig config, HookContext context, CancellationToken ct);
}
