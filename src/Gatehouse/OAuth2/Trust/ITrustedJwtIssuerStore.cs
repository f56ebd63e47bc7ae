namespace Gatehouse.OAuth2.Trust;

/// <summary>Storage of trusted JWT-bearer issuers, implemented in Persistence.</summary>
public interface ITrustedJwtIssuerStore
{
    /// <summary>Adds the trust; false when one with the same issuer, subject and key id exists.</summary>
    Task<bool> AddAsync(TrustedJwtIssuer trust, CancellationToken ct);

    Task<TrustedJwtIssuer?> FindAsync(Guid id, CancellationToken ct);

    /// <summary>A page in id order after <paramref name="after"/>, optionally of one issuer; one more row than asked tells whether there is a next page.</summary>
    Task<List<TrustedJwtIssuer>> ListAsync(int take, Guid after, string? issuer, CancellationToken ct);

    Task<bool> DeleteAsync(Guid id, CancellationToken ct);

    /// <summary>The unexpired trusts of an issuer that cover the subject (its own or any-subject ones), newest first, at most 100.</summary>
    Task<List<TrustedJwtIssuer>> FindForAsync(string issuer, string subject, DateTime now, CancellationToken ct);
}
