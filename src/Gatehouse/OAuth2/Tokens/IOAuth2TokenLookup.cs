namespace Gatehouse.OAuth2.Tokens;

/// <summary>
/// Reads a committed token row by the hash of its string, outside any unit of work: for introspection, which only reads
/// and is the hottest admin call (resource servers ask for every request they serve). A singleton, so that a lookup
/// does not lease a database context; code that reads inside a transaction uses <see cref="IOAuth2TokenStore"/>.
/// </summary>
public interface IOAuth2TokenLookup
{
    /// <summary>The row with <paramref name="signature"/> (any state), or null; the caller compares the hash in constant time.</summary>
    Task<OAuth2Token?> FindAsync(byte[] signature, CancellationToken ct);

    /// <summary>
    /// The consent answer (JSON) of the login/consent flow <paramref name="requestId"/> names, or null: for introspection's
    /// <c>obfuscated_subject</c>, read only while pairwise subjects are offered.
    /// </summary>
    Task<string?> FindFlowConsentAsync(Guid requestId, CancellationToken ct);
}
