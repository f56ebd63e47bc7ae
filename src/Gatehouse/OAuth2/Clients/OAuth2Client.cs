namespace Gatehouse.OAuth2.Clients;

/// <summary>
/// A stored OAuth2 client. The Hydra client document (every field of <c>oAuth2Client</c> but the secret) is kept as JSON
/// in <see cref="Document"/>; the columns beside it are the ones queries filter on. Only hashes of secrets are stored.
/// </summary>
public sealed class OAuth2Client
{
    /// <summary>Row id (UUIDv7): keyset pages follow creation order.</summary>
    public Guid Pk { get; set; }
    public Guid Nid { get; set; }

    /// <summary>Hydra's <c>client_id</c>: chosen by the caller or a random UUID.</summary>
    public string ClientId { get; set; } = "";
    public string ClientName { get; set; } = "";
    public string Owner { get; set; } = "";

    /// <summary>The client secret's hash (the configured password hasher); empty for clients without a secret.</summary>
    public string SecretHash { get; set; } = "";

    /// <summary>Hashes of secrets replaced by <c>rotateOAuth2ClientSecret</c>, still accepted until deleted (JSON array).</summary>
    public string RotatedSecretHashes { get; set; } = "[]";

    /// <summary>
    /// SHA-256 (base64url) of the registration access token of a client created through OpenID Connect Dynamic Client
    /// Registration, which authenticates <c>/oauth2/register/{id}</c>; empty for other clients.
    /// </summary>
    public string RegistrationAccessTokenHash { get; set; } = "";

    public string Document { get; set; } = "{}";
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}
