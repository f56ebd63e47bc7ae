namespace Gatehouse.SelfService.Strategies.Oidc;

/// <summary>
/// The upstream provider could not complete the sign-in (unreachable, refused the code, returned an invalid ID token):
/// the reason is shown on the flow as Kratos does (message 4000001 carrying the reason), nothing is written.
/// </summary>
public sealed class OidcUpstreamError(string reason, Exception? inner = null) : Exception(reason, inner)
{
    public string Reason => Message;

    /// <summary>
    /// The callback step that failed (<see cref="OidcTestSteps"/>), when the thrower knows better than the step it was
    /// called from (an ID token that does not verify, during the claims step); a test flow reports it.
    /// </summary>
    public string? Step { get; init; }
}
