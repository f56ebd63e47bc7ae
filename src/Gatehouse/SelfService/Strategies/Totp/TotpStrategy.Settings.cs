using System.Text.Json.Nodes;
using Gatehouse.Identities;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Hooks;
using Gatehouse.SelfService.Ui;
using Gatehouse.Sessions;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies.Totp;

public sealed partial class TotpStrategy
{
    /// <summary>Where a settings flow keeps the key being enrolled until a code confirms it (Kratos: internal context <c>totp_url</c>).</summary>
    public const string PendingKeyContext = "totp_url";

    /// <summary>
    /// With an app enrolled: the unlink button. Without: a new key (kept in the flow's internal context, never in the
    /// identity until confirmed; the same key while the flow lives) shown as QR code and secret, the code field, Save.
    /// </summary>
    public void Populate(SettingsForm form)
    {
        var ui = form.Ui;
        if (Enrolled(form.Identity.Credentials) is not null)
        {
            var unlink = UiNodes.Submit("totp_unlink", "true", Group, Messages.UnlinkTotp());
            unlink["attributes"]!["required"] = true;
            ui.Nodes.Add(unlink);
            return;
        }
        var key = PendingKey(form.Flow) ?? NewPendingKey(form);
        ui.Nodes.Add(new JsonObject
        {
            ["type"] = "img",
            ["group"] = Group,
            ["attributes"] = new JsonObject { ["src"] = TotpQrCode.DataUri(key.Url), ["id"] = "totp_qr", ["width"] = 256, ["height"] = 256, ["node_type"] = "img" },
            ["messages"] = new JsonArray(),
            ["meta"] = new JsonObject { ["label"] = Messages.TotpQrCode() },
        });
        ui.Nodes.Add(new JsonObject
        {
            ["type"] = "text",
            ["group"] = Group,
            ["attributes"] = new JsonObject { ["text"] = Messages.TotpSecret(key.Base32Secret), ["id"] = "totp_secret_key", ["node_type"] = "text" },
            ["messages"] = new JsonArray(),
            ["meta"] = new JsonObject { ["label"] = Messages.TotpSecretLabel() },
        });
        ui.Nodes.Add(UiNodes.Input("totp_code", "text", Group, required: true, label: Messages.LabelVerifyCode()));
        ui.Nodes.Add(UiNodes.Submit("method", Name, Group, Messages.Save()));
    }

    /// <summary>
    /// Kratos's totp <c>Settings</c>: a privileged session; with an app enrolled, <c>totp_unlink</c> removes it; without,
    /// <c>totp_code</c> must match the pending key (required: 4000002; wrong: 4000008), which then becomes the credential
    /// and completes <c>{totp, aal2}</c> on the session.
    /// </summary>
    public async Task UpdateAsync(SettingsSubmission submission, CancellationToken ct)
    {
        var (identity, ui, flow) = (submission.Identity, submission.Ui, submission.Flow);
        // Kratos decodes the body into its struct before anything else: an unreadable totp_unlink is 4000001 (a form) or a 400.
        if (FormBody.BooleanDecodeFailure(submission.Body, SettingsStruct, UnlinkField) is { } undecodable)
        {
            ui.Messages.Add(Messages.Generic(undecodable));
            await submission.RespondAsync(400, ct);
            return;
        }
        if (!await submission.EnsurePrivilegedAsync(ct)) return;
        var unlink = FormBody.Bool(submission.Body, "totp_unlink");
        if (Enrolled(identity.Credentials) is not null)
        {
            if (!unlink)
            {
                await submission.SucceedAsync(identity, null, ct);
                return;
            }
            await SaveAsync(submission, () => identities.RemoveCredentialAsync(identity.Id, CredentialTypes.Totp, ct), ct);
            return;
        }

        var key = PendingKey(flow);
        var code = (FormBody.String(submission.Body, "totp_code") ?? "").Trim();
        if (key is null)
        {
            // A flow made while an app was enrolled (then unlinked elsewhere) has no pending key; the form now shows one.
            ui.AddMessage("totp_code", Messages.Required("totp_code"));
            await submission.RespondAsync(400, ct);
            return;
        }
        if (code.Length == 0)
        {
            ui.AddMessage("totp_code", Messages.Required("totp_code"));
            await submission.RespondAsync(400, ct);
            return;
        }
        var step = key.Match(code, flows.Now());
        if (step is null)
        {
            ui.AddMessage("totp_code", Messages.TotpCodeInvalid());
            await submission.RespondAsync(400, ct);
            return;
        }
        // The confirming code is spent too: it cannot sign in a moment later.
        var config = new JsonObject { ["totp_url"] = key.Url, [LastUsedStepKey] = step.Value };
        await SaveAsync(submission, async () =>
        {
            var updated = await identities.SetCredentialAsync(identity.Id, CredentialTypes.Totp, config, [identity.Id.ToString()], ct);
            flow.InternalContext = WithoutPendingKey(flow.InternalContext);
            await sessions.AddMethodAsync(submission.Session, new AuthenticationMethod(Name, AssuranceLevels.Aal2, flows.Now()), ct);
            return updated;
        }, ct);
    }

    /// <summary>Kratos's Go struct for the totp settings body and its boolean field, for its decode errors.</summary>
    private const string SettingsStruct = "updateSettingsFlowWithTotpMethod";

    private static readonly string[] UnlinkField = ["totp_unlink"];

    /// <summary>
    /// <c>totp_unlink</c> is this method's whatever <c>method</c> says (Kratos's totp <c>Settings</c> sets the method itself
    /// for it): the built-in page's unlink button posts only its own name. An unlink value Kratos cannot decode is this
    /// method's too, so that its decode error answers.
    /// </summary>
    bool ISettingsStrategy.Handles(string? method, JsonObject body) =>
        method == Name || FormBody.Bool(body, "totp_unlink") || FormBody.UndecodableBoolean(body, SettingsStruct, UnlinkField) is not null;

    private Task SaveAsync(SettingsSubmission submission, Func<Task<Identity>> change, CancellationToken ct) =>
        SettingsChange.SaveAsync(submission, Name, hooks, change, ct);

    private static TotpKey? PendingKey(SelfServiceFlow flow) =>
        flow.InternalContext is { Length: > 0 } context && JsonNode.Parse(context) is JsonObject o && o[PendingKeyContext] is JsonValue v
            && v.TryGetValue<string>(out var url) ? TotpKey.Parse(url) : null;

    private TotpKey NewPendingKey(SettingsForm form)
    {
        var account = form.Schema.Validate(JsonNode.Parse(form.Identity.Traits)).TotpAccountName is { Length: > 0 } name ? name : form.Identity.Id.ToString();
        var key = TotpKey.Generate(Issuer, account);
        var context = form.Flow.InternalContext is { Length: > 0 } raw && JsonNode.Parse(raw) is JsonObject o ? o : [];
        context[PendingKeyContext] = key.Url;
        form.Flow.InternalContext = context.ToJsonString();
        return key;
    }

    private static string? WithoutPendingKey(string? context)
    {
        if (context is not { Length: > 0 } || JsonNode.Parse(context) is not JsonObject o) return context;
        o.Remove(PendingKeyContext);
        return o.Count == 0 ? null : o.ToJsonString();
    }
}
