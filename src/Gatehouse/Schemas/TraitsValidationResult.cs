namespace Gatehouse.Schemas;

/// <summary>
/// The outcome of validating traits against an identity schema, and — when valid — what the
/// <c>ory.sh/kratos</c> extension derives from them.
/// </summary>
public sealed class TraitsValidationResult
{
    private static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> NoIdentifiers =
        new Dictionary<string, IReadOnlyList<string>>();

    internal TraitsValidationResult(IReadOnlyList<TraitsError> errors)
    {
        Errors = errors;
        CredentialIdentifiers = NoIdentifiers;
        CodeAddresses = [];
        VerifiableAddresses = [];
        RecoveryAddresses = [];
    }

    internal TraitsValidationResult(
        IReadOnlyDictionary<string, IReadOnlyList<string>> credentialIdentifiers,
        IReadOnlyList<AddressSpec> codeAddresses,
        IReadOnlyList<AddressSpec> verifiableAddresses,
        IReadOnlyList<AddressSpec> recoveryAddresses,
        string? totpAccountName,
        string? passkeyDisplayName)
    {
        Errors = [];
        CredentialIdentifiers = credentialIdentifiers;
        CodeAddresses = codeAddresses;
        VerifiableAddresses = verifiableAddresses;
        RecoveryAddresses = recoveryAddresses;
        TotpAccountName = totpAccountName;
        PasskeyDisplayName = passkeyDisplayName;
    }

    public bool IsValid => Errors.Count == 0;

    public IReadOnlyList<TraitsError> Errors { get; }

    /// <summary>
    /// Normalised identifiers keyed by credential type (<c>password</c>, <c>webauthn</c>, <c>code</c>),
    /// deduplicated, in the order the traits are visited. Only types with at least one identifier appear.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> CredentialIdentifiers { get; }

    /// <summary>
    /// The <c>code</c> credential's addresses (<c>config.addresses</c> in Kratos): channel and normalised
    /// address, deduplicated and sorted by address as Kratos stores them.
    /// </summary>
    public IReadOnlyList<AddressSpec> CodeAddresses { get; }

    /// <summary>Addresses from <c>verification.via</c>, deduplicated by channel and value.</summary>
    public IReadOnlyList<AddressSpec> VerifiableAddresses { get; }

    /// <summary>Addresses from <c>recovery.via</c>, deduplicated by channel and value.</summary>
    public IReadOnlyList<AddressSpec> RecoveryAddresses { get; }

    /// <summary>The trait marked <c>credentials.totp.account_name</c>: the label in the otpauth URL.</summary>
    public string? TotpAccountName { get; }

    /// <summary>The trait marked <c>credentials.passkey.display_name</c>: the passkey user's display name.</summary>
    public string? PasskeyDisplayName { get; }
}
