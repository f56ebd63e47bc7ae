using System.Security.Cryptography;
using System.Text;
using Gatehouse.OAuth2.Clients;

namespace Gatehouse.OAuth2.Protocol;

/// <summary>
/// The subject a client sees in ID tokens and at <c>/userinfo</c> (Hydra's <c>ObfuscateSubjectIdentifier</c>,
/// <c>consent/strategy_default.go</c>, and <c>pairwiseObfuscate</c>, <c>consent/subject_identifier_pairwise.go</c>). A
/// <c>public</c> client sees the subject as it is; a <c>pairwise</c> one the login's <c>force_subject_identifier</c> when
/// set, else the lower-case hex SHA-256 of sector identifier, subject and <c>oidc.subject_identifiers.pairwise.salt</c>,
/// concatenated — the sector identifier being the client's whole <c>sector_identifier_uri</c>, else the host (with port,
/// as written) of its only redirect URI. Access tokens, introspection's <c>sub</c>, the login and consent requests and
/// consent sessions keep the subject itself, as in Hydra.
/// </summary>
public static class SubjectIdentifiers
{
    /// <summary>The subject for <paramref name="client"/>; a pairwise client that cannot have one is Hydra's <c>invalid_request</c>.</summary>
    public static string For(OAuth2Settings settings, OAuth2ClientService.Loaded client, string subject, string forcedIdentifier)
    {
        var doc = client.Document;
        if (doc.SubjectType != "pairwise") return subject;
        if (!settings.SubjectTypesSupported().Contains("pairwise"))
            throw OAuth2Error.InvalidRequest($"Subject Identifier Algorithm '{doc.SubjectType}' was requested by OAuth 2.0 Client '{client.ClientId}' but is not configured.");
        if (forcedIdentifier.Length > 0) return forcedIdentifier;

        string sector;
        if (doc.SectorIdentifierUri.Length > 0) sector = doc.SectorIdentifierUri;
        else if (doc.RedirectUris.Count > 1)
            throw OAuth2Error.InvalidRequest($"OAuth 2.0 Client {client.ClientId} has multiple redirect_uris but no sector_identifier_uri was set which is not allowed when performing using subject type pairwise. Please reconfigure the OAuth 2.0 client properly.");
        else if (doc.RedirectUris.Count == 0)
            throw OAuth2Error.InvalidRequest($"OAuth 2.0 Client {client.ClientId} neither specifies a sector_identifier_uri nor a redirect_uri which is not allowed when performing using subject type pairwise. Please reconfigure the OAuth 2.0 client properly.");
        else sector = GoUrl.Host(doc.RedirectUris[0]);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sector + subject + settings.PairwiseSalt)));
    }
}
