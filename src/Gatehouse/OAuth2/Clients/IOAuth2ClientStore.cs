namespace Gatehouse.OAuth2.Clients;

/// <summary>Where OAuth2 clients are kept (implemented in Persistence; DESIGN rule 1).</summary>
public interface IOAuth2ClientStore
{
    /// <summary>Inserts a client; false when its client id is taken.</summary>
    Task<bool> InsertAsync(OAuth2Client client, CancellationToken ct);

    Task<OAuth2Client?> FindAsync(string clientId, CancellationToken ct);

    /// <summary>Up to <paramref name="take"/> clients after <paramref name="after"/> in creation order, filtered by exact name / owner.</summary>
    Task<List<OAuth2Client>> ListAsync(Guid after, string? name, string? owner, int take, CancellationToken ct);

    /// <summary>Writes a loaded client back; false when that would give it a taken client id.</summary>
    Task<bool> UpdateAsync(OAuth2Client client, CancellationToken ct);

    /// <summary>
    /// Writes a loaded client back only while its registration access token hash is still
    /// <paramref name="expectedRegistrationTokenHash"/> (one conditional update, so two updates with one token cannot both
    /// succeed); false otherwise.
    /// </summary>
    Task<bool> UpdateIfRegistrationTokenAsync(OAuth2Client client, string expectedRegistrationTokenHash, CancellationToken ct);

    /// <summary>Deletes a client and its tokens in one transaction; false when there is no such client.</summary>
    Task<bool> DeleteWithTokensAsync(string clientId, CancellationToken ct);

    /// <summary>As <see cref="DeleteWithTokensAsync(string, CancellationToken)"/>, only while the client's registration access token hash is <paramref name="registrationTokenHash"/>.</summary>
    Task<bool> DeleteWithTokensIfRegistrationTokenAsync(string clientId, string registrationTokenHash, CancellationToken ct);
}
