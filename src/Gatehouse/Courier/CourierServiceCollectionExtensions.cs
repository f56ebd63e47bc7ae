using Gatehouse.Config;
using Gatehouse.Courier.Templates;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gatehouse.Courier;

public static class CourierServiceCollectionExtensions
{
    /// <summary>The courier's services: <see cref="Courier"/> (queueing) and the templates. The delivery worker is registered separately.</summary>
    public static IServiceCollection AddCourier(this IServiceCollection services, GatehouseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.TryAddSingleton<CourierTemplates>();
        services.TryAddScoped<Courier>();
        return services;
    }
}
