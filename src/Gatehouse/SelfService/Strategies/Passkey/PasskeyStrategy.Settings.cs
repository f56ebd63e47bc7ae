using System.Text.Json.Nodes;
using Gatehouse.Identities;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Strategies.WebAuthn;
using Gatehouse.SelfService.Ui;
using Gatehouse.Sessions;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies.Passkey;

public sealed partial class PasskeyStrategy
{
    /// <summary>
    /// Kratos's passkey settings nodes: one <c>passkey_remove</c> per passkey (disabled while it would remove the last first
    /// factor), the script, the "Add passkey" button, the hidden answer field and the creation options (excluding the keys
    /// the account has; the same options while their challenge is unspent).
    /// </summary>
    public void Populate(SettingsForm form)
    {
        var (ui, flow, identity) = (form.Ui, form.Flow, form.Identity);
        var (credential, keys) = PasskeysOf(identity.Credentials);
        var firstFactors = kinds.CountFirstFactor(identity);
        AddScript(ui, flow);
        foreach (var key in keys)
        {
            var remove = UiNodes.Submit("passkey_remove", key.HexId, Group, Messages.RemovePasskey(key.DisplayName is { Length: > 0 } n ? n : "unnamed", key.AddedAt));
            remove["attributes"]!["disabled"] = firstFactors < 2;
            ui.Nodes.Add(remove);
        }
        var displayName = DisplayNameOf(form.Schema, identity);
        if (displayName.Length == 0)
        {
            ui.Messages.Add(Messages.IdentifierMissing());
            return;
        }
        var createData = Pending(flow)?.Shown ?? NewSettingsOptions(flow, keys, displayName);
        var trigger = UiNodes.Input("passkey_register_trigger", "button", Group, "", label: Messages.AddPasskey());
        if (IsBrowser(flow)) trigger["attributes"]!["onclick"] = "window.oryPasskeySettingsRegistration()";
        trigger["attributes"]!["onclickTrigger"] = "oryPasskeySettingsRegistration";
        ui.Nodes.Add(trigger);
        ui.Nodes.Add(UiNodes.Input("passkey_settings_register", "hidden", Group));
        ui.Nodes.Add(UiNodes.Input("passkey_create_data", "hidden", Group, createData));
    }

    /// <summary>
    /// New creation options for the account, its keys excluded. As Kratos, each passkey added in settings gets a new user
    /// handle, which becomes the credential's <c>user_handle</c> and one more of its identifiers (the earlier ones stay,
    /// so every passkey still names the account).
    /// </summary>
    private string NewSettingsOptions(SelfServiceFlow flow, List<WebAuthnKey> keys, string displayName)
    {
        var (clientOptions, state) = RelyingParty.BeginRegistration(NewUserHandle(), displayName, displayName, keys.Select(k => k.Id), Selection);
        var shown = clientOptions.ToJsonString();
        KeepPending(flow, state, shown);
        return shown;
    }

    /// <summary>Settings submits carrying a passkey to add or one to remove are this method's, whatever <c>method</c> says.</summary>
    bool ISettingsStrategy.Handles(string? method, JsonObject body) =>
        method == Name || Field(body, "passkey_settings_register") is not null || Field(body, "passkey_remove") is not null;

    /// <summary>
    /// Kratos's passkey <c>Settings</c>: a privileged session; <c>passkey_remove</c> (hex id) removes one passkey unless it
    /// is the last first factor; <c>passkey_settings_register</c> adds the key answering this flow's options (spent here,
    /// once) and completes <c>{passkey, aal1}</c> on the session.
    /// </summary>
    public async Task UpdateAsync(SettingsSubmission submission, CancellationToken ct)
    {
        var (ui, body) = (submission.Ui, submission.Body);
        var register = Field(body, "passkey_settings_register");
        var remove = Field(body, "passkey_remove");
        if (register is null && remove is null)
        {
            ui.Messages.Add(Messages.SettingsNoStrategy());
            await submission.RespondAsync(400, ct);
            return;
        }
        if (!await submission.EnsurePrivilegedAsync(ct)) return;
        var identity = await store.FindConfidentialAsync(submission.Identity.Id, ct) ?? submission.Identity;
        var (credential, keys) = PasskeysOf(identity.Credentials);
        if (remove is not null)
        {
            await RemoveAsync(submission, identity, credential, keys, remove, ct);
            return;
        }
        await AddAsync(submission, credential, keys, register!, ct);
    }

    private async Task RemoveAsync(SettingsSubmission submission, Identity identity, IdentityCredential? credential, List<WebAuthnKey> keys, string hexId, CancellationToken ct)
    {
        var remaining = keys.Where(k => !string.Equals(k.HexId, hexId, StringComparison.OrdinalIgnoreCase)).ToList();
        // As Kratos: bad requests shown on the form as 4000001 (400 with the flow; HTML browsers 303 to it), nothing changed.
        if (credential is null || remaining.Count == keys.Count)
        {
            submission.Ui.Messages.Add(Messages.Generic(credential is null
                ? "You tried to remove a WebAuthn but you have no WebAuthn set up."
                : "You tried to remove a passkey which does not exist."));
            await submission.RespondAsync(400, ct);
            return;
        }
        if (kinds.CountFirstFactor(identity) < 2)
        {
            WebAuthnStrategy.AddNotEnoughCredentials(submission.Ui);
            await submission.RespondAsync(400, ct);
            return;
        }
        await SaveSettingsAsync(submission, () =>
        {
            if (remaining.Count == 0) return identities.RemoveCredentialAsync(identity.Id, CredentialTypes.Passkey, ct);
            var config = JsonNode.Parse(credential.Config) as JsonObject ?? [];
            var entries = (config["credentials"] as JsonArray ?? []).OfType<JsonObject>()
                .Where(e => WebAuthnKey.FromJson(e) is not { } k || !string.Equals(k.HexId, hexId, StringComparison.OrdinalIgnoreCase))
                .Select(e => (JsonNode)e.DeepClone());
            config["credentials"] = new JsonArray([.. entries]);
            return identities.SetCredentialAsync(identity.Id, CredentialTypes.Passkey, config, [.. credential.Identifiers.Select(i => i.Identifier)], ct);
        }, ct);
    }

    private async Task AddAsync(SettingsSubmission submission, IdentityCredential? credential, List<WebAuthnKey> keys, string response, CancellationToken ct)
    {
        var (ui, flow) = (submission.Ui, submission.Flow);
        if (WebAuthnResponseShape.AttestationProblem(response) is { } problem)
        {
            // As Kratos: refused before the challenge is touched; the form keeps its options.
            ui.Messages.Add(Messages.WebAuthnResponseUnparsable(problem));
            await submission.RespondAsync(400, ct);
            return;
        }
        var state = await SpendAsync(flow, ct);
        if (state is null)
        {
            await RespondWithFreshOptionsAsync(submission, Messages.WebAuthnRegistrationFailed("the challenge of this flow was already used; please try again"), ct);
            return;
        }
        var result = await RelyingParty.FinishRegistrationAsync(state, response, passwordless: true, flows.Now(), ct);
        if (result.Value is not { } key)
        {
            logger.LogInformation("Adding a passkey refused for identity {IdentityId}: {Reason}", submission.Identity.Id, result.Reason);
            await RespondWithFreshOptionsAsync(submission, result.RegistrationRefusal(), ct);
            return;
        }
        if (keys.Exists(k => k.Id.AsSpan().SequenceEqual(key.Id)))
        {
            await RespondWithFreshOptionsAsync(submission, Messages.KeyAlreadyRegistered(), ct);
            return;
        }
        var handle = UserHandleOf(state);
        var config = credential is not null && JsonNode.Parse(credential.Config) is JsonObject existing ? existing : WebAuthnKey.Config([], handle);
        if (config["credentials"] is not JsonArray list) config["credentials"] = list = [];
        list.Add(key.ToJson());
        config["user_handle"] = Convert.ToBase64String(handle);
        var identifiers = (credential?.Identifiers.Select(i => i.Identifier) ?? []).Append(Identities.CredentialImport.PasskeyIdentifier(handle)).Distinct().ToList();
        await SaveSettingsAsync(submission, async () =>
        {
            var updated = await identities.SetCredentialAsync(submission.Identity.Id, CredentialTypes.Passkey, config, identifiers, ct);
            await sessions.AddMethodAsync(submission.Session, new AuthenticationMethod(Name, AssuranceLevels.Aal1, flows.Now()), ct);
            return updated;
        }, ct);
    }

    /// <summary>A refused addition: the message on the form, whose creation options are replaced by new ones (the old challenge is spent).</summary>
    private async Task RespondWithFreshOptionsAsync(SettingsSubmission submission, JsonObject message, CancellationToken ct)
    {
        var (ui, flow) = (submission.Ui, submission.Flow);
        var identity = await store.FindConfidentialAsync(submission.Identity.Id, ct) ?? submission.Identity;
        var (credential, keys) = PasskeysOf(identity.Credentials);
        var shown = NewSettingsOptions(flow, keys, DisplayNameOf(submission.Schema, identity));
        var index = ui.Nodes.FindIndex(n => n["attributes"]?["name"]?.GetValue<string>() == "passkey_create_data");
        if (index >= 0) ui.Nodes[index] = UiNodes.Input("passkey_create_data", "hidden", Group, shown);
        ui.Messages.Add(message);
        await submission.RespondAsync(400, ct);
    }
}
