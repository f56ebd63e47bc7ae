namespace Gatehouse.SelfService.Strategies.Oidc;

/// <summary>
/// The upstream provider could not complete the sign-in (unreachable, refused the code, returned an invalid ID token):
/// the reason is shown on the flow as Kratos does (message 4000001 carrying the reason), nothing is written.
/// </summary>
public sealed class OidcUpstreamError(string reason, Exception? inner = null) : Exception(reason, inner)
{
    public string Reason => Message;
}
