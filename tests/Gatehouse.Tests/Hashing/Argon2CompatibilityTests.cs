using Gatehouse.Hashing;
using static Gatehouse.Tests.Hashing.HasherFixtures;

namespace Gatehouse.Tests.Hashing;

/// <summary>
/// Argon2 parameters RFC 9106 calls too small (memory under 8 KiB per lane) that Kratos takes: Go's
/// <c>golang.org/x/crypto/argon2</c> hashes the memory value as given into its first block and fills 8 KiB per lane.
/// The expected hashes were computed with Go 1.19 and x/crypto 0.4.0 (Debian's <c>golang-go</c> and
/// <c>golang-golang-x-crypto-dev</c>): <c>argon2.IDKey</c> / <c>argon2.Key</c> of the passphrase below, salt
/// <c>0123456789abcdef</c>, 16-byte key, encoded as Kratos encodes them.
/// </summary>
public sealed class Argon2CompatibilityTests
{
    private const string Passphrase = "a long and unusual passphrase";

    public static TheoryData<string> HashedByGo => new()
    {
        "$argon2id$v=19$m=8,t=1,p=2$MDEyMzQ1Njc4OWFiY2RlZg$cF1Tf0+dNVaF4XR0U3/TPQ",
        "$argon2i$v=19$m=8,t=1,p=2$MDEyMzQ1Njc4OWFiY2RlZg$IVZOxzikBIAGFDI7OIT88A",
        "$argon2id$v=19$m=16,t=2,p=4$MDEyMzQ1Njc4OWFiY2RlZg$d7hmuJS3nSjebqnLeQF40A",
        "$argon2i$v=19$m=16,t=2,p=4$MDEyMzQ1Njc4OWFiY2RlZg$+AkEjYkgfBmFX4Zi8cztvg",
        "$argon2id$v=19$m=4,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$Q2o+7GQ6sjyouoyYIyGdww",
        "$argon2i$v=19$m=4,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$ahjjDJIfP2bQhovva4Zzpg",
        "$argon2id$v=19$m=1,t=1,p=4$MDEyMzQ1Njc4OWFiY2RlZg$WccrvAdb2MTgOHZi/qOpbg",
        "$argon2i$v=19$m=1,t=1,p=4$MDEyMzQ1Njc4OWFiY2RlZg$SUVVyuyGH8P5CRB1uQP1Rw",
        "$argon2id$v=19$m=31,t=1,p=4$MDEyMzQ1Njc4OWFiY2RlZg$dWfXGD+hgRegwJyd+/wagg",
        "$argon2i$v=19$m=31,t=1,p=4$MDEyMzQ1Njc4OWFiY2RlZg$jaQIF/k4yJxkSBMju609IQ",
        "$argon2id$v=19$m=64,t=1,p=16$MDEyMzQ1Njc4OWFiY2RlZg$P3qr4ph/5vFgDLATRZ7F4g",
        "$argon2i$v=19$m=64,t=1,p=16$MDEyMzQ1Njc4OWFiY2RlZg$fGGqNLRss+jqoRKzW/pcxQ",
    };

    [Theory]
    [MemberData(nameof(HashedByGo))]
    public void Hashes_Go_made_with_under_8_KiB_per_lane_verify(string hash)
    {
        Assert.True(PasswordHasher.IsKnownFormat(hash));
        Assert.True(Bcrypt().Verify(Passphrase, hash));
        Assert.False(Bcrypt().Verify(Passphrase + "!", hash));
    }

    [Fact]
    public void A_configured_memory_under_8_KiB_per_lane_hashes_as_Kratos_does()
    {
        // Kratos's own end-to-end profile asks for 1KB; with p=4 that is a quarter of the RFC's minimum.
        var hasher = Argon2(memoryKiB: 1, iterations: 1, parallelism: 4);
        var hash = hasher.Hash(Passphrase);
        Assert.StartsWith("$argon2id$v=19$m=1,t=1,p=4$", hash, StringComparison.Ordinal);
        Assert.True(hasher.Verify(Passphrase, hash));
        Assert.False(hasher.NeedsRehash(hash));

        // The same derivation as Go's for the same salt.
        var salt = "0123456789abcdef"u8.ToArray();
        var derived = Argon2Hash.Derive(true, System.Text.Encoding.UTF8.GetBytes(Passphrase), salt, 1, 1, 4, 16);
        Assert.Equal("WccrvAdb2MTgOHZi/qOpbg==", Convert.ToBase64String(derived));
    }
}
