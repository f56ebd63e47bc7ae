namespace Gatehouse.SelfService.Strategies.Oidc;

/// <summary>
/// The upstream provider could not complete the sign-in (unreachable, refused the code, returned an invalid ID token);
/// nothing is written. As in Kratos (<c>ui.ParseError</c>), a 400 shows the reason on the flow (message 4000001) and
/// any other status goes to the error UI (an API flow answers the error).
/// </summary>
public sealed class OidcUpstreamError(string reason, Exception? inner = null) : Exception(reason, inner)
{
    public string Reason => Message;

    /// <summary>
    /// The callback step that failed (<see cref="OidcTestSteps"/>), when the thrower knows better than the step it was
    /// called from (an ID token that does not verify, during the claims step); a test flow reports it.
    /// </summary>
    public string? Step { get; init; }

    /// <summary>
    /// The status Kratos answers this failure with, when the thrower knows it; unset, the step decides (see
    /// <see cref="OidcCallback"/>): a failing discovery or token exchange is a 500, reading the account the preset's
    /// <see cref="Presets.OidcPreset.ClaimsErrorStatus"/>.
    /// </summary>
    public int? Status { get; init; }
}
