using Gatehouse.Config;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gatehouse.Hashing;

public static class HashingServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="PasswordHasher"/> as a singleton configured from <c>hashers</c>, and the
    /// <see cref="HashingQueue"/> request-path hashes run through (<c>gatehouse.hashing.queue</c>).
    /// </summary>
    public static IServiceCollection AddHashing(this IServiceCollection services)
    {
        services.TryAddSingleton(sp => new PasswordHasher(sp.GetRequiredService<GatehouseOptions>().Hashers));
        services.TryAddSingleton(sp => new HashingQueue(sp.GetRequiredService<GatehouseOptions>().Gatehouse.Hashing.Queue));
        return services;
    }
}
