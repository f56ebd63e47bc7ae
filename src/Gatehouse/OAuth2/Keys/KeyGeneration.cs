namespace Gatehouse.OAuth2.Keys;

/// <summary>
/// Process-wide state of key generation: the RSA key sizes and a lock
/// so that concurrent first uses of a set generate one key, not one each (Hydra's <c>singleflight</c> in
/// <c>jwk/helper.go</c>). Processes sharing a database may still each generate one; the newest then signs and both are
/// published, which is harmless.
/// </summary>
public sealed class KeyGeneration
{
    /// <summary>RSA keys made by <c>createJsonWebKeySet</c>: 4096 bits, as Hydra's <c>jwk.GenerateJWK</c>.</summary>
    public int RsaBits { get; init; } = 4096;

    /// <summary>
    /// The RS256 key generated when a set first needs to sign (the ID-token set on the first JWKS, discovery or ID token):
    /// 2048 bits. Hydra uses 4096 here too, but finding 4096-bit primes takes seconds of CPU — on a busy two-core machine
    /// more than ten — while the request that triggered it (and every one waiting for the key) hangs; 2048-bit RSA is
    /// the NIST-recommended size through 2030. Stronger keys are one <c>createJsonWebKeySet</c> away.
    /// </summary>
    public int FirstUseRsaBits { get; init; } = 2048;

    public SemaphoreSlim Lock { get; } = new(1, 1);
}
