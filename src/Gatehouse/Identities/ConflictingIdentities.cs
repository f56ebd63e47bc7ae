namespace Gatehouse.Identities;

/// <summary>
/// What a new identity collided with: the existing identity (with its credentials' configs), the colliding value and
/// what kind of value it is — a credential type for an identifier, an address's <c>via</c> (<c>email</c>, <c>sms</c>)
/// for a verifiable or recovery address.
/// </summary>
public sealed record IdentityConflict(Identity Existing, string Value, string Type);

/// <summary>
/// Finds the identity a new one collides with (Kratos's <c>identity.Manager.ConflictingIdentity</c>): a credential
/// identifier first, else a verifiable address, else a recovery address — so a social sign-up whose e-mail another
/// account only verifies or recovers with still finds that account.
/// </summary>
public sealed class ConflictingIdentities(IPrivilegedIdentityStore privileged, IIdentityReader reader)
{
    /// <summary>The conflict of a built, not saved, identity, or null when nothing stored collides with it.</summary>
    public async Task<IdentityConflict?> FindAsync(Identity candidate, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        foreach (var credential in candidate.Credentials)
        {
            foreach (var id in credential.Identifiers)
            {
                if (await privileged.FindByIdentifierAsync(credential.Type, id.Identifier, ct) is { } found)
                    return new IdentityConflict(found, id.Identifier, credential.Type);
            }
        }
        foreach (var address in candidate.VerifiableAddresses)
        {
            if (await reader.FindByVerifiableAddressAsync(address.Via, Normalize(address.Value), ct) is { } owner
                && await privileged.FindConfidentialAsync(owner.Id, ct) is { } found)
                return new IdentityConflict(found, ValueOf(found.VerifiableAddresses.Select(a => (a.Via, a.Value)), address.Via, address.Value), address.Via);
        }
        foreach (var address in candidate.RecoveryAddresses)
        {
            if (await reader.FindByRecoveryAddressAsync(address.Via, Normalize(address.Value), ct) is { } owner
                && await privileged.FindConfidentialAsync(owner.Id, ct) is { } found)
                return new IdentityConflict(found, ValueOf(found.RecoveryAddresses.Select(a => (a.Via, a.Value)), address.Via, address.Value), address.Via);
        }
        return null;
    }

    /// <summary>Kratos answers the stored address's value (its <c>FindVerifiableAddressByValue</c> row).</summary>
    private static string ValueOf(IEnumerable<(string Via, string Value)> stored, string via, string value) =>
        stored.FirstOrDefault(a => a.Via == via && string.Equals(a.Value, Normalize(value), StringComparison.Ordinal)).Value ?? value;

    private static string Normalize(string value) => value.Trim().ToLowerInvariant();
}
