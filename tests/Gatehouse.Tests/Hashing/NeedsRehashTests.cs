using Gatehouse.Hashing;
using static Gatehouse.Tests.Hashing.HasherFixtures;

namespace Gatehouse.Tests.Hashing;

public sealed class NeedsRehashTests
{
    private const string Bcrypt05 = "$2b$05$NL/zeDXSnSyA2HzeqHXPLeh4GSSd2rk5LkrX8f3IMnM9GxlGgPu6K";

    // m=1024 KiB, t=2, p=2, 32-byte key.
    private const string Argon2id = "$argon2id$v=19$m=1024,t=2,p=2$c29tZXNhbHRzb21lc2FsdA$dyH1D8A96Ow2828D1sDA+YL86LtyFdjEwiMJVWGS5Pg";

    [Fact]
    public void NeedsRehash_is_false_for_a_hash_the_configured_hasher_just_made()
    {
        var bcrypt = Bcrypt(cost: 5);
        Assert.False(bcrypt.NeedsRehash(bcrypt.Hash(Right)));
        var argon2 = Argon2(memoryKiB: 32, iterations: 2, parallelism: 2, keyLength: 16);
        Assert.False(argon2.NeedsRehash(argon2.Hash(Right)));
    }

    [Theory]
    [InlineData("$md5$nMKuihunqT2jm0b8EBnEgQ==")]
    [InlineData("$pbkdf2-sha256$i=1000,l=32$MDEyMzQ1Njc4OWFiY2RlZg$yqSq2SygY1sB4EcH9f2FG0JTMES+wqLsOT5YmiRBplI")]
    [InlineData("$sha512-crypt$saltstringsaltst$3h7STkr0i0iXKtx9L6TPkhN5v1rUiPkJUiG7sipbycYgc02MpmEFKyRup0K0pREhLJoUsSkK7VK674mqHcID//")]
    [InlineData(Argon2id)]
    [InlineData("not a hash")]
    public void NeedsRehash_is_true_for_hashes_bcrypt_does_not_produce(string hash) =>
        Assert.True(Bcrypt(cost: 5).NeedsRehash(hash));

    [Fact]
    public void NeedsRehash_is_true_for_bcrypt_with_a_lower_cost_than_configured()
    {
        Assert.True(Bcrypt(cost: 6).NeedsRehash(Bcrypt05));
        Assert.False(Bcrypt(cost: 5).NeedsRehash(Bcrypt05));
        Assert.False(Bcrypt(cost: 4).NeedsRehash(Bcrypt05));
    }

    [Theory]
    [InlineData("$2y$05$7dQd2N38WEz2xck3tQDtdOrPxTHV.DqDoB5AOnpZT5eXeCoQYggOe")]
    [InlineData("$2a$05$NL/zeDXSnSyA2HzeqHXPLeh4GSSd2rk5LkrX8f3IMnM9GxlGgPu6K")]
    public void NeedsRehash_is_false_for_other_bcrypt_variants_of_sufficient_cost(string hash) =>
        Assert.False(Bcrypt(cost: 5).NeedsRehash(hash));

    [Theory]
    [InlineData(Bcrypt05)]
    [InlineData("$argon2i$v=19$m=1024,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$lb88+/fGadH75Lx8QJx2u8GQdiz4CH8SQPprk3jhsEk")]
    [InlineData("{SSHA}+0tGNsuDePFzHCTXkDSAYANRXfpsZGFwc2FsdA==")]
    public void NeedsRehash_is_true_for_hashes_argon2id_does_not_produce(string hash) =>
        Assert.True(Argon2(memoryKiB: 64).NeedsRehash(hash));

    [Fact]
    public void NeedsRehash_is_false_for_argon2id_at_or_above_the_configured_parameters() =>
        Assert.False(Argon2(memoryKiB: 1024, iterations: 2, parallelism: 2, keyLength: 32).NeedsRehash(Argon2id));

    [Theory]
    [InlineData(2048, 2, 2, 32)]
    [InlineData(1024, 3, 2, 32)]
    [InlineData(1024, 2, 4, 32)]
    [InlineData(1024, 2, 2, 64)]
    public void NeedsRehash_is_true_for_argon2id_with_weaker_parameters_than_configured(
        long memoryKiB, int iterations, int parallelism, int keyLength) =>
        Assert.True(Argon2(memoryKiB, iterations, parallelism, keyLength).NeedsRehash(Argon2id));
}
