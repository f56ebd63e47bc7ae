namespace Gatehouse.OAuth2.Keys;

/// <summary>Storage of JSON Web Key sets (Hydra's <c>jwk.Manager</c> persistence), implemented in Persistence.</summary>
public interface IJsonWebKeyStore
{
    /// <summary>The keys of a set, newest first; empty when the set does not exist.</summary>
    Task<List<StoredJsonWebKey>> ListAsync(string set, CancellationToken ct);

    /// <summary>The keys of several sets, each set newest first (for the JWKS).</summary>
    Task<List<StoredJsonWebKey>> ListAsync(IReadOnlyCollection<string> sets, CancellationToken ct);

    Task<StoredJsonWebKey?> FindAsync(string set, string kid, CancellationToken ct);

    /// <summary>Adds keys to a set. A key id already in the set is a 409 <see cref="OAuth2Error"/>; then nothing is added.</summary>
    Task AddAsync(IReadOnlyList<StoredJsonWebKey> keys, CancellationToken ct);

    /// <summary>Replaces a whole set with <paramref name="keys"/> (possibly none), in one transaction.</summary>
    Task ReplaceSetAsync(string set, IReadOnlyList<StoredJsonWebKey> keys, CancellationToken ct);

    /// <summary>Replaces (or adds) the key with <paramref name="key"/>'s id in its set, in one transaction.</summary>
    Task ReplaceKeyAsync(StoredJsonWebKey key, CancellationToken ct);

    Task DeleteKeyAsync(string set, string kid, CancellationToken ct);

    Task DeleteSetAsync(string set, CancellationToken ct);
}
