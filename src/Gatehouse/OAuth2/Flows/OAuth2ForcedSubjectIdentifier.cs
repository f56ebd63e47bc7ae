namespace Gatehouse.OAuth2.Flows;

/// <summary>
/// A login accept's <c>force_subject_identifier</c> for a pairwise client, kept per client and subject (Hydra's
/// <c>hydra_oauth2_obfuscated_authentication_session</c>, written by <c>verifyAuthentication</c>, the newest one replacing
/// the last). Hydra reads it in one place: an <c>id_token_hint</c> naming it is taken as naming the remembered login's
/// subject (<c>matchesValueFromSession</c>). Later ID tokens do not use it: without a forced identifier they carry the
/// computed pairwise one.
/// </summary>
public sealed class OAuth2ForcedSubjectIdentifier
{
    public Guid Nid { get; set; }
    public string ClientId { get; set; } = "";
    public string Subject { get; set; } = "";
    public string SubjectObfuscated { get; set; } = "";
}
