using Gatehouse.Config;

namespace Gatehouse.SelfService.Strategies;

/// <summary>
/// The registered methods, keyed by config name, in registration order (<see cref="StrategiesServiceCollectionExtensions"/>:
/// the order their nodes appear in a form, as Kratos's registry has it); <see cref="Enabled{T}"/> yields only those whose
/// <c>selfservice.methods.&lt;name&gt;.enabled</c> is true.
/// </summary>
public sealed class StrategyRegistry(IEnumerable<IStrategy> strategies, GatehouseOptions options)
{
    private readonly IStrategy[] _all = [.. strategies.DistinctBy(s => s.Name)];

    /// <summary>Whether <c>selfservice.methods.&lt;name&gt;.enabled</c> is set for a registered method (an unknown one is off).</summary>
    public bool IsEnabled(string name) => _all.FirstOrDefault(s => s.Name == name) is { } s && s.IsEnabled(options.Selfservice.Methods);

    /// <summary>The enabled methods taking part in a flow kind, in form order.</summary>
    public IEnumerable<T> Enabled<T>() where T : class, IStrategy => _all.OfType<T>().Where(s => IsEnabled(s.Name));

    /// <summary>The enabled method of a flow kind with this config name, or null.</summary>
    public T? Find<T>(string? name) where T : class, IStrategy =>
        name is null ? null : Enabled<T>().FirstOrDefault(s => s.Name == name);

    /// <summary>
    /// The method with this name whatever its switch says — only for secrets it issued before (an admin-made recovery link
    /// is redeemed even with the <c>link</c> method off, as in Kratos, where the admin endpoint checks only the flow).
    /// </summary>
    public T? Registered<T>(string? name) where T : class, IStrategy =>
        name is null ? null : _all.OfType<T>().FirstOrDefault(s => s.Name == name);

    /// <summary>Every registered method of a flow kind, enabled or not (see <see cref="Registered{T}"/> for what for).</summary>
    public IEnumerable<T> All<T>() where T : class, IStrategy => _all.OfType<T>();
}
