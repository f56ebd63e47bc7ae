namespace Gatehouse.Identities;

/// <summary>
/// Access to identities <em>with</em> their credentials' secrets (password hashes, keys) — only for the code that verifies or
/// writes them (Kratos's <c>PrivilegedPool</c>). Everything else reads through <see cref="IIdentityReader"/>.
/// </summary>
public interface IPrivilegedIdentityStore
{
    /// <summary>The identity (credentials with their configs, addresses) whose credential of <paramref name="type"/> has this identifier (already normalised), or null.</summary>
    Task<Identity?> FindByIdentifierAsync(string type, string identifier, CancellationToken ct);

    /// <summary>
    /// The identity (as <see cref="FindByIdentifierAsync"/>) any of whose credentials, of any type, has the identifier as
    /// typed or normalised, or null (Kratos's <c>FindIdentityByCredentialIdentifier</c>, for the identifier-first login).
    /// </summary>
    Task<Identity?> FindByAnyIdentifierAsync(string identifier, string normalized, CancellationToken ct);

    /// <summary>
    /// The identity (as <see cref="FindByIdentifierAsync"/>) whose <c>webauthn</c> credential's config has this
    /// <c>user_handle</c> (the bytes an authenticator returns; stored as standard base64), or null — Kratos's
    /// <c>FindIdentityByWebauthnUserHandle</c>, with which a passkey login finds a passwordless security key's account.
    /// </summary>
    Task<Identity?> FindByWebAuthnUserHandleAsync(byte[] userHandle, CancellationToken ct);

    /// <summary>The identity with its credentials' configs and its addresses, or null.</summary>
    Task<Identity?> FindConfidentialAsync(Guid id, CancellationToken ct);

    /// <summary>The identity's first identifier (ordinal order) of a credential type, or null.</summary>
    Task<string?> FirstIdentifierAsync(Guid identityId, string type, CancellationToken ct);

    /// <summary>The identity's credentials with their configs (no identifiers, no addresses): one statement.</summary>
    Task<List<IdentityCredential>> CredentialsOfAsync(Guid identityId, CancellationToken ct);

    /// <summary>
    /// Replaces one credential's config only if it is still <paramref name="expected"/> (compare-and-swap in one statement):
    /// false when another request changed it first — e.g. the same TOTP code submitted twice at once.
    /// </summary>
    Task<bool> SwapCredentialConfigAsync(Guid credentialId, string expected, string config, DateTime now, CancellationToken ct);

    /// <summary>Replaces one credential's config (e.g. a password hash upgraded to the configured hasher).</summary>
    Task UpdateCredentialConfigAsync(Guid credentialId, string config, DateTime now, CancellationToken ct);
}
