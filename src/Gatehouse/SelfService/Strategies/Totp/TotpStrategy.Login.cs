using Gatehouse.Identities;
using Gatehouse.RateLimiting;
using Gatehouse.SelfService.Ui;
using Gatehouse.Sessions;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies.Totp;

public sealed partial class TotpStrategy
{
    public string Aal => AssuranceLevels.Aal2;

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
    public async Task<Identity?> AuthenticateAsync(LoginSubmission submission, CancellationToken ct)
    {
        var (ui, body) = (submission.Ui, submission.Body);
        var code = (FormBody.String(body, "totp_code") ?? "").Trim();
        if (submission.Current is not { } session) return null;
        var identity = await store.FindConfidentialAsync(session.IdentityId, ct);
        if (identity is null || Enrolled(identity.Credentials) is not { } enrolled)
        {
            ui.Messages.Add(Messages.NoTotpDevice());
            return null;
        }
        if (code.Length == 0)
        {
            ui.AddMessage("totp_code", Messages.Required("totp_code"));
            return null;
        }
        var subject = identity.Id.ToString();
        var attempt = await limiter.CountAsync(RateLimitKind.SecondFactorPerIdentity, subject, ct);
        if (!attempt.Allowed) throw RateLimiter.TooManyRequests(RateLimitKind.SecondFactorPerIdentity, attempt.RetryAfter);
        if (!await SpendAsync(enrolled.Credential, enrolled.Key, code, ct))
        {
            ui.Messages.Add(Messages.TotpCodeInvalid());
            return null;
        }
        await limiter.ResetAsync(RateLimitKind.SecondFactorPerIdentity, subject, ct);
        if (submission.Refusal(identity) is { } refused)
        {
            ui.Messages.Add(refused);
            return null;
        }
        return identity;
    }
}
