using System.Text.RegularExpressions;
using Gatehouse.Config;
using Gatehouse.Hashing;
using static Gatehouse.Tests.Hashing.HasherFixtures;

namespace Gatehouse.Tests.Hashing;

public sealed partial class PasswordHasherHashTests
{
    [Fact]
    public void Hash_with_bcrypt_produces_2a_with_the_configured_cost()
    {
        var hasher = Bcrypt(cost: 5);
        var hash = hasher.Hash(Right);
        Assert.Matches(BcryptShape(), hash);
        Assert.StartsWith("$2a$05$", hash, StringComparison.Ordinal);
        Assert.True(hasher.Verify(Right, hash));
        Assert.False(hasher.Verify(Wrong, hash));
    }

    [Fact]
    public void Hash_salts_every_hash_differently()
    {
        var hasher = Bcrypt();
        Assert.NotEqual(hasher.Hash(Right), hasher.Hash(Right));
    }

    [Fact]
    public void Hash_with_argon2_produces_argon2id_with_the_configured_parameters()
    {
        var hasher = Argon2(memoryKiB: 64, iterations: 2, parallelism: 2, keyLength: 24);
        var hash = hasher.Hash(Right);
        var match = Argon2Shape().Match(hash);
        Assert.True(match.Success, hash);
        Assert.Equal("64", match.Groups["m"].Value);
        Assert.Equal("2", match.Groups["t"].Value);
        Assert.Equal("2", match.Groups["p"].Value);
        Assert.Equal(16, Convert.FromBase64String(match.Groups["salt"].Value + "==").Length);
        Assert.Equal(24, Convert.FromBase64String(match.Groups["hash"].Value).Length);
        Assert.True(hasher.Verify(Right, hash));
        Assert.False(hasher.Verify(Wrong, hash));
    }

    [Fact]
    public void Hash_with_default_options_is_bcrypt_cost_12()
    {
        var hasher = new PasswordHasher(new HashersOptions());
        var hash = hasher.Hash(Right);
        Assert.StartsWith("$2a$12$", hash, StringComparison.Ordinal);
        Assert.True(hasher.Verify(Right, hash));
        Assert.False(hasher.NeedsRehash(hash));
    }

    [Fact]
    public void Hash_with_default_argon2_options_uses_kratos_defaults()
    {
        var hasher = new PasswordHasher(new HashersOptions { Algorithm = "argon2" });
        var hash = hasher.Hash(Right);
        var parallelism = Math.Max(1, Environment.ProcessorCount * 2);
        Assert.StartsWith($"$argon2id$v=19$m=131072,t=1,p={parallelism}$", hash, StringComparison.Ordinal);
        Assert.True(hasher.Verify(Right, hash));
        Assert.False(hasher.NeedsRehash(hash));
    }

    [Fact]
    public void Hash_round_trips_non_ascii_passwords()
    {
        var hasher = Argon2();
        var hash = hasher.Hash("pässwörd ✓");
        Assert.True(hasher.Verify("pässwörd ✓", hash));
        Assert.False(hasher.Verify("passwörd ✓", hash));
    }

    [Fact]
    public void MaxPasswordBytes_is_72_for_bcrypt_and_unlimited_for_argon2()
    {
        Assert.Equal(72, Bcrypt().MaxPasswordBytes);
        Assert.Null(Argon2().MaxPasswordBytes);
    }

    [Fact]
    public void Hash_with_bcrypt_refuses_passwords_over_72_utf8_bytes()
    {
        var hasher = Bcrypt();
        // 36 two-byte characters are 72 bytes; one more is too many.
        Assert.True(hasher.Verify(new string('é', 36), hasher.Hash(new string('é', 36))));
        Assert.Throws<ArgumentException>(() => hasher.Hash(new string('é', 37)));
    }

    [Fact]
    public void Hash_with_argon2_accepts_long_passwords()
    {
        var hasher = Argon2();
        var password = new string('a', 200);
        Assert.True(hasher.Verify(password, hasher.Hash(password)));
        Assert.False(hasher.Verify(password[..199], hasher.Hash(password)));
    }

    [Theory]
    [InlineData("scrypt")]
    [InlineData("")]
    [InlineData("Bcrypt")]
    public void Constructor_rejects_unknown_algorithms_naming_the_key(string algorithm)
    {
        var error = Assert.Throws<ArgumentException>(() => new PasswordHasher(new HashersOptions { Algorithm = algorithm }));
        Assert.Contains("hashers.algorithm", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_rejects_impossible_argon2_parameters_naming_the_key()
    {
        // Under 1 KiB: m=0 in the hash, which Go rounds up and BouncyCastle cannot compute.
        var error = Assert.Throws<ArgumentException>(() => new PasswordHasher(Argon2Options(memoryKiB: 0, parallelism: 4)));
        Assert.Equal("hashers.argon2.memory is 0 bytes; argon2 needs at least 1 KiB and at most 2 TiB. (Parameter 'argon2')", error.Message);
    }

    [Fact]
    public void Constructor_rejects_bcrypt_cost_outside_4_to_31()
    {
        var error = Assert.Throws<ArgumentException>(() => new PasswordHasher(BcryptOptions(cost: 3)));
        Assert.Contains("hashers.bcrypt.cost", error.Message, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^\$2a\$[0-9]{2}\$[./A-Za-z0-9]{53}$")]
    private static partial Regex BcryptShape();

    [GeneratedRegex(@"^\$argon2id\$v=19\$m=(?<m>[0-9]+),t=(?<t>[0-9]+),p=(?<p>[0-9]+)\$(?<salt>[A-Za-z0-9+/]+)\$(?<hash>[A-Za-z0-9+/]+)$")]
    private static partial Regex Argon2Shape();
}
