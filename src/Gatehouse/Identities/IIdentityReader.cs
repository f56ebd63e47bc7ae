namespace Gatehouse.Identities;

/// <summary>
/// Reads identities without their credentials' secrets (Kratos's <c>Pool</c>): traits, state, metadata and addresses; the
/// <see cref="Identity.Credentials"/> list stays empty. Code that must see a hash or key takes <see cref="IPrivilegedIdentityStore"/>.
/// </summary>
public interface IIdentityReader
{
    /// <summary>The identity with its addresses, or null.</summary>
    Task<Identity?> FindAsync(Guid id, CancellationToken ct);

    /// <summary>The identity owning a verifiable address (<paramref name="value"/> already lower-cased), or null; one statement either way.</summary>
    Task<Identity?> FindByVerifiableAddressAsync(string via, string value, CancellationToken ct);

    /// <summary>The identity owning a recovery address (<paramref name="value"/> already lower-cased), or null; one statement either way.</summary>
    Task<Identity?> FindByRecoveryAddressAsync(string via, string value, CancellationToken ct);

    /// <summary>
    /// Every recovery address (any channel; at most 10) of the identity that has the recovery address
    /// <paramref name="value"/> (already lower-cased and trimmed); empty when no identity has it. One statement either way
    /// (Kratos's <c>FindAllRecoveryAddressesForIdentityByRecoveryAddressValue</c>).
    /// </summary>
    Task<List<RecoveryAddress>> FindSiblingRecoveryAddressesAsync(string value, CancellationToken ct);
}
