using System.Text.Json.Nodes;
using Gatehouse.Identities;
using Gatehouse.RateLimiting;
using Gatehouse.SelfService.Ui;

namespace Gatehouse.SelfService.Strategies;

/// <summary>
/// The steps every code-based second factor (TOTP, recovery codes) takes in an aal2 login, in Kratos's order: the body
/// checked against the method's JSON schema (the code field required, an empty value counting as missing: 4000002;
/// shorter than the schema's <c>minLength</c>: 4000003), the session's identity with its secrets, the method's credential (else the method's "none set up"
/// message), the per-identity attempt counted <em>before</em> the comparison and forgotten after a right code, and the
/// flow's own refusal of the identity. The method supplies only how a code is checked and spent.
/// </summary>
internal static class SecondFactorLogin
{
    /// <param name="spenderFor">
    /// For an identity: null when it has none of the method's credentials; else a function that checks a code and spends
    /// it (so it cannot be used again), answering the refusal message or null when the code was right.
    /// </param>
    /// <param name="minLength">The code field's <c>minLength</c> in the method's login schema (0: none).</param>
    public static async Task<Identity?> AuthenticateAsync(LoginSubmission submission, IPrivilegedIdentityStore store, RateLimiter limiter,
        string field, int minLength, JsonObject notEnrolled, Func<Identity, Func<string, Task<JsonObject?>>?> spenderFor, CancellationToken ct)
    {
        var (ui, body) = (submission.Ui, submission.Body);
        // Kratos's decoder leaves an empty value out (JSON is read as a form, null and "" alike), so it is missing.
        var raw = FormBody.String(body, field);
        if (string.IsNullOrEmpty(raw))
        {
            ui.AddMessage(field, Text.Messages.Required(field));
            return null;
        }
        // JSON Schema counts code points.
        var length = raw.EnumerateRunes().Count();
        if (length < minLength)
        {
            ui.AddMessage(field, Text.Messages.MinLength(minLength, length));
            return null;
        }
        var code = raw.Trim();
        if (submission.Current is not { } session) return null;
        var identity = await store.FindConfidentialAsync(session.IdentityId, ct);
        if (identity is null || spenderFor(identity) is not { } spend)
        {
            ui.Messages.Add(notEnrolled);
            return null;
        }
        var subject = identity.Id.ToString();
        var attempt = await limiter.CountAsync(RateLimitKind.SecondFactorPerIdentity, subject, ct);
        if (!attempt.Allowed) throw RateLimiter.TooManyRequests(RateLimitKind.SecondFactorPerIdentity, attempt.RetryAfter);
        if (await spend(code) is { } refusal)
        {
            ui.Messages.Add(refusal);
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
