using Gatehouse.Identities;
using Gatehouse.RateLimiting;
using Gatehouse.SelfService.Ui;
using Gatehouse.Sessions;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies.Totp;

public sealed partial class TotpStrategy
{
    public string Aal => AssuranceLevels.Aal2;

    /// <summary>The <c>minLength</c> of <c>totp_code</c> in Kratos's totp login schema (its settings schema has none).</summary>
    private const int LoginCodeMinLength = 6;

    /// <summary>An aal2 login of a session whose identity has an authenticator app: the code field and its submit button.</summary>
    public async Task PopulateAsync(LoginForm form, CancellationToken ct)
    {
        if (form.Current is not { } session || Enrolled(await store.CredentialsOfAsync(session.IdentityId, ct)) is null) return;
        form.Ui.Nodes.Add(UiNodes.Input("totp_code", "text", Group, "", required: true, label: Messages.LabelAuthenticationCode()));
        form.Ui.Nodes.Add(UiNodes.Submit("method", Name, Group, Messages.UseAuthenticator()));
    }

    /// <summary>
    /// The second factor of the session's identity (Kratos's totp <c>Login</c>): 4000011 without an app, 4000008 for a wrong,
    /// replayed or concurrently spent code. The attempt is counted before the comparison and forgotten when it succeeds.
    /// </summary>
    public Task<Identity?> AuthenticateAsync(LoginSubmission submission, CancellationToken ct) =>
        SecondFactorLogin.AuthenticateAsync(submission, store, limiter, "totp_code", LoginCodeMinLength, Messages.NoTotpDevice(),
            identity => Enrolled(identity.Credentials) is { } enrolled
                ? async code => await SpendAsync(enrolled.Credential, enrolled.Key, code, ct) ? null : Messages.TotpCodeInvalid()
                : null,
            ct);
}
