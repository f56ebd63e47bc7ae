using System.Text.Json.Nodes;
using Gatehouse.Identities;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Ui;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies.Code;

/// <summary>
/// A one-time code as the second factor (<c>selfservice.methods.code.mfa_enabled</c>; Kratos's <c>code/strategy_login.go</c>
/// with <c>requested_aal: aal2</c>): the aal2 login of a session offers one <c>address</c> button per e-mail address of
/// its identity's <c>code</c> credential (1010023 "Send code to …"); choosing one mails a code there (the flow moves to
/// <c>sent_email</c>; JSON clients get 400 with the flow, as for passwordless codes) and <c>{method: code, code}</c>
/// completes <c>{code, aal2}</c> on the same session. Only the session identity's own addresses are accepted (4010010
/// otherwise), so a code is never mailed to somebody else. Guesses are bounded per code (<c>max_submissions</c>) and per
/// address (<c>code_attempts_per_recipient</c>) by the same atomic counters as every one-time code.
/// </summary>
public sealed partial class CodeStrategy
{
    /// <summary>The e-mail addresses of a code credential (SMS addresses are skipped: Gatehouse has no SMS courier).</summary>
    public static List<string> EmailAddresses(IdentityCredential credential)
    {
        var config = JsonNode.Parse(credential.Config) as JsonObject;
        var result = new List<string>();
        foreach (var entry in (config?["addresses"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (entry["channel"]?.GetValue<string>() == "email" && entry["address"]?.GetValue<string>() is { Length: > 0 } address) result.Add(address);
        }
        return result;
    }

    private async Task<List<string>> SecondFactorAddressesAsync(Guid identityId, CancellationToken ct) =>
        (await identities.CredentialsOfAsync(identityId, ct)).Where(c => c.Type == CredentialTypes.Code).SelectMany(EmailAddresses)
            .Distinct(StringComparer.OrdinalIgnoreCase).ToList();

    private async Task PopulateSecondFactorAsync(LoginForm form, CancellationToken ct)
    {
        if (form.Current is not { } session) return;
        foreach (var address in await SecondFactorAddressesAsync(session.IdentityId, ct))
            form.Ui.Nodes.Add(UiNodes.Submit("address", address, Name, Messages.SendCodeTo(address, "email")));
    }

    private async Task<Identity?> AuthenticateSecondFactorAsync(LoginSubmission submission, CancellationToken ct)
    {
        var (flow, ui, body) = (submission.Flow, submission.Ui, submission.Body);
        if (submission.Current is not { } session) return null;
        var resend = FormBody.String(body, "resend") == Name;
        if (flow.State == FlowStates.SentEmail && !resend) return await VerifySecondFactorAsync(submission, session.IdentityId, ct);

        var requested = (FormBody.String(body, "address") ?? FormBody.String(body, "identifier") ?? "").Trim();
        if (requested.Length == 0 && resend) requested = (Context(flow)[LoginContextKey] as JsonObject)?["address"]?.GetValue<string>() ?? "";
        if (requested.Length == 0)
        {
            ui.Messages.Add(Messages.Required("address"));
            return null;
        }
        var address = (await SecondFactorAddressesAsync(session.IdentityId, ct))
            .FirstOrDefault(a => string.Equals(a, Schemas.IdentifierNormalizer.Graceful(requested), StringComparison.OrdinalIgnoreCase));
        var identity = address is null ? null : await identities.FindConfidentialAsync(session.IdentityId, ct);
        if (address is null || identity is null)
        {
            ui.Messages.Add(Messages.AddressUnknown());
            return null;
        }
        await SendLoginCodeAsync(flow, identity, address, ct);

        // Kratos's code-entry form for a second factor: the chosen address as a hidden identifier (with its label), then
        // the code field, Continue and Resend.
        ui.Nodes.RemoveAll(n => n["group"]?.GetValue<string>() == Name);
        var chosen = UiNodes.Input("identifier", "hidden", Name, address);
        chosen["meta"]!["label"] = Messages.SendCodeTo(address, "email");
        ui.Nodes.Add(chosen);
        ShowSent(ui, Messages.LabelLoginCode(), Messages.LoginCodeSent(), keepGroup: Name);
        return null;
    }

    private async Task<Identity?> VerifySecondFactorAsync(LoginSubmission submission, Guid identityId, CancellationToken ct)
    {
        var (flow, ui, body) = (submission.Flow, submission.Ui, submission.Body);
        var code = (FormBody.String(body, "code") ?? "").Trim();
        if (code.Length == 0)
        {
            ui.AddMessage("code", Messages.Required("code"));
            return null;
        }
        // A code mailed for this flow's session identity, nobody else's.
        return await RedeemLoginCodeAsync(submission, code, identityId, ct);
    }
}
