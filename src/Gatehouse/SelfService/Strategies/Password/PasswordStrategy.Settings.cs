using System.Text.Json.Nodes;
using Gatehouse.Identities;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Hooks;
using Gatehouse.SelfService.Ui;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies.Password;

public sealed partial class PasswordStrategy
{
    public void Populate(SettingsForm form)
    {
        form.Ui.Nodes.Add(UiNodes.Input("password", "password", UiNodes.PasswordGroup, required: true, autocomplete: "new-password", label: Messages.LabelPassword()));
        form.Ui.Nodes.Add(UiNodes.Submit("method", Name, UiNodes.PasswordGroup, Messages.Save()));
    }

    /// <summary>A new password (privileged session needed; not the old one; the password policy); the hash replaces the old.</summary>
    public async Task UpdateAsync(SettingsSubmission submission, CancellationToken ct)
    {
        var (identity, ui) = (submission.Identity, submission.Ui);
        var password = FormBody.String(submission.Body, "password") ?? "";
        if (password.Length == 0)
        {
            ui.AddMessage("password", Messages.Required("password"));
            await submission.RespondAsync(400, ct);
            return;
        }
        if (!await submission.EnsurePrivilegedAsync(ct)) return;
        var ids = submission.Schema.Validate(JsonNode.Parse(identity.Traits)).CredentialIdentifiers;
        var identifier = ids.TryGetValue(CredentialTypes.Password, out var list) && list.Count > 0 ? list[0] : "";
        var confidential = await store.FindConfidentialAsync(identity.Id, ct);
        var current = confidential?.Credentials.FirstOrDefault(c => c.Type == CredentialTypes.Password);
        var hash = current is null ? null : JsonNode.Parse(current.Config)?["hashed_password"]?.GetValue<string>();
        JsonObject? violation = hash is not null && await hashing.RunAsync(() => hasher.Verify(password, hash), ct)
            ? Messages.Error(4000039, "The new password must be different from the old password.")
            : await policy.CheckAsync(identifier, password, ct);
        if (violation is not null)
        {
            ui.AddMessage("password", violation);
            await submission.RespondAsync(400, ct);
            return;
        }
        var hookContext = new HookContext
        {
            Http = submission.Http, Flow = submission.Flow, FlowKind = FlowKinds.Settings, Method = Name, Identity = identity, IdentityPersisted = true,
            Session = submission.Session,
        };
        if (!await submission.RunPrePersistHooksAsync(hookContext, ct)) return;
        hookContext.Identity = await identities.SetPasswordAsync(identity.Id, password, ct);
        await hooks.RunAfterAsync(HookPhase.PostPersist, hookContext, ct);
        await submission.SucceedAsync(hookContext.Identity, null, ct);
    }
}
