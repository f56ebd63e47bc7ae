using Gatehouse.Config;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gatehouse.Hashing;

public static class HashingServiceCollectionExtensions
{
    /// <summary>Registers <see cref="PasswordHasher"/> as a singleton configured from <c>hashers</c>.</summary>
    public static IServiceCollection AddHashing(this IServiceCollection services)
    {
        services.TryAddSingleton(sp => new PasswordHasher(sp.GetRequiredService<GatehouseOptions>().Hashers));
        return services;
    }
}
