using Gatehouse.Config;

namespace Gatehouse.SelfService.Strategies;

/// <summary>
/// The registered methods, keyed by config name, in registration order (<see cref="StrategiesServiceCollectionExtensions"/>:
/// the order their nodes appear in a form, as Kratos's registry has it); <see cref="Enabled{T}"/> yields only those whose
/// <c>selfservice.methods.&lt;name&gt;.enabled</c> is true. A method is made (with what it depends on) only when a request
/// asks for it: building all ten for every flow request was ~2% of a code login's CPU, for methods that were off.
/// </summary>
public sealed class StrategyRegistry(IEnumerable<StrategyRegistration> registrations, IServiceProvider services, GatehouseOptions options)
{
    private readonly StrategyRegistration[] _all = [.. registrations.DistinctBy(r => r.Name)];
    private IStrategy?[]? _made;

    /// <summary>Whether <c>selfservice.methods.&lt;name&gt;.enabled</c> is set for a registered method (an unknown one is off).</summary>
    public bool IsEnabled(string name) => Array.Find(_all, r => r.Name == name) is { } r && r.IsEnabled(options);

    /// <summary>The enabled methods taking part in a flow kind, in form order.</summary>
    public IEnumerable<T> Enabled<T>() where T : class, IStrategy
    {
        for (var i = 0; i < _all.Length; i++)
            if (typeof(T).IsAssignableFrom(_all[i].Type) && _all[i].IsEnabled(options)) yield return (T)Made(i);
    }

    /// <summary>The enabled method of a flow kind with this config name, or null.</summary>
    public T? Find<T>(string? name) where T : class, IStrategy => ByName<T>(name, enabledOnly: true);

    /// <summary>
    /// The method with this name whatever its switch says — only for secrets it issued before (an admin-made recovery link
    /// is redeemed even with the <c>link</c> method off, as in Kratos, where the admin endpoint checks only the flow).
    /// </summary>
    public T? Registered<T>(string? name) where T : class, IStrategy => ByName<T>(name, enabledOnly: false);

    /// <summary>Every registered method of a flow kind, enabled or not (see <see cref="Registered{T}"/> for what for).</summary>
    public IEnumerable<T> All<T>() where T : class, IStrategy
    {
        for (var i = 0; i < _all.Length; i++)
            if (typeof(T).IsAssignableFrom(_all[i].Type)) yield return (T)Made(i);
    }

    // The method registered under this name for a flow kind, matched on its registration, so that only it is made.
    private T? ByName<T>(string? name, bool enabledOnly) where T : class, IStrategy
    {
        if (name is null) return null;
        for (var i = 0; i < _all.Length; i++)
        {
            if (_all[i].Name == name && typeof(T).IsAssignableFrom(_all[i].Type))
                return !enabledOnly || _all[i].IsEnabled(options) ? (T)Made(i) : null;
        }
        return null;
    }

    // The request's instance (strategies are scoped: the same one for every ask within a request).
    private IStrategy Made(int index)
    {
        _made ??= new IStrategy?[_all.Length];
        return _made[index] ??= _all[index].Create(services);
    }
}

/// <summary>A registered method: its config name, its type, its switch, and how a request gets its instance.</summary>
public sealed record StrategyRegistration(string Name, Type Type, Func<GatehouseOptions, bool> IsEnabled, Func<IServiceProvider, IStrategy> Create);
