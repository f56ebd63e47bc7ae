using Gatehouse.Config;
using Gatehouse.Hashing;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.Hashing;

public sealed class HashingServiceCollectionExtensionsTests
{
    [Fact]
    public void AddHashing_registers_one_password_hasher_built_from_the_hashers_options()
    {
        var options = new GatehouseOptions { Hashers = HasherFixtures.Argon2Options() };
        using var provider = new ServiceCollection().AddSingleton(options).AddHashing().BuildServiceProvider();

        var hasher = provider.GetRequiredService<PasswordHasher>();

        Assert.Same(hasher, provider.GetRequiredService<PasswordHasher>());
        Assert.StartsWith("$argon2id$v=19$m=64,t=1,p=1$", hasher.Hash(HasherFixtures.Right), StringComparison.Ordinal);
    }

    [Fact]
    public void AddHashing_keeps_an_existing_registration()
    {
        var mine = HasherFixtures.Bcrypt(cost: 5);
        var services = new ServiceCollection().AddSingleton(new GatehouseOptions()).AddSingleton(mine).AddHashing();
        using var provider = services.BuildServiceProvider();

        Assert.Same(mine, provider.GetRequiredService<PasswordHasher>());
    }
}
