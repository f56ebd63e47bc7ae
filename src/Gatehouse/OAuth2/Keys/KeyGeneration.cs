namespace Gatehouse.OAuth2.Keys;

/// <summary>
/// Process-wide state of key generation: the RSA key size (Hydra's <c>jwk.GenerateJWK</c> uses 4096 bits) and a lock
/// so that concurrent first uses of a set generate one key, not one each (Hydra's <c>singleflight</c> in
/// <c>jwk/helper.go</c>). Processes sharing a database may still each generate one; the newest then signs and both are
/// published, which is harmless.
/// </summary>
public sealed class KeyGeneration
{
    public int RsaBits { get; init; } = 4096;

    public SemaphoreSlim Lock { get; } = new(1, 1);
}
