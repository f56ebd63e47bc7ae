using System.Buffers.Text;
using System.Text.Json.Nodes;
using Gatehouse.Identities;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Strategies.WebAuthn;
using Gatehouse.SelfService.Ui;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies.Passkey;

public sealed partial class PasskeyStrategy
{
    /// <summary>
    /// Kratos's passkey registration nodes, after the traits (unified) or in profile_first's credentials step: the creation
    /// options with the trait fields the passkey is named after (<c>passkey_create_data</c>), the button, the script and the
    /// hidden answer field. Without a trait to name passkeys by, the method is not offered (Kratos logs and skips it).
    /// The options are made once per flow and shown again while their challenge is unspent.
    /// </summary>
    public void Populate(RegistrationForm form)
    {
        var (ui, flow) = (form.Ui, form.Flow);
        if (form.Step == RegistrationStep.First && form.ProfileFirst) return;
        var fields = DisplayNameFields(form.Schema);
        if (fields.Count == 0)
        {
            logger.LogWarning("The passkey method is enabled, but the identity schema {SchemaId} marks no trait as passkey display_name or webauthn identifier; passkey registration is not offered.", form.Schema.Id);
            return;
        }
        var createData = Pending(flow)?.Shown ?? NewCreateData(flow, fields);
        ui.Nodes.Add(UiNodes.Input("passkey_create_data", "hidden", Group, createData));
        var trigger = UiNodes.Input("passkey_register_trigger", "button", Group, label: Messages.SignUpWithPasskey());
        if (IsBrowser(flow)) trigger["attributes"]!["onclick"] = "window.oryPasskeyRegistration()";
        trigger["attributes"]!["onclickTrigger"] = "oryPasskeyRegistration";
        ui.Nodes.Add(trigger);
        AddScript(ui, flow);
        ui.Nodes.Add(UiNodes.Input("passkey_register", "hidden", Group));
    }

    private string NewCreateData(SelfServiceFlow flow, List<string> fields)
    {
        var (clientOptions, state) = RelyingParty.BeginRegistration(NewUserHandle(), RelyingParty.DisplayName, RelyingParty.DisplayName, [], Selection);
        var createData = new JsonObject
        {
            ["credentialOptions"] = clientOptions,
            ["displayNameFieldName"] = fields[0],
            ["displayNameFieldNames"] = new JsonArray([.. fields.Select(f => (JsonNode)f)]),
        }.ToJsonString();
        KeepPending(flow, state, createData);
        return createData;
    }

    /// <summary>Kratos's passkey strategy takes a registration submit only when it carries a passkey (<c>passkey_register</c>).</summary>
    bool IRegistrationStrategy.Handles(string? method, JsonObject body) => Field(body, "passkey_register") is not null;

    /// <summary>
    /// The traits (validated as every method does) and the authenticator's answer to this flow's creation options (spent
    /// here, once): the new account gets a <c>passkey</c> credential with the key and the user handle as its identifier.
    /// </summary>
    public async Task<RegistrationOutcome> RegisterAsync(RegistrationSubmission submission, CancellationToken ct)
    {
        var (traits, ui, validation) = submission.ValidatedTraits();
        if (traits is null) return new RegistrationOutcome.ShowForm(ui, 400);
        var response = Field(submission.Body, "passkey_register")!;
        if (WebAuthnResponseShape.AttestationProblem(response) is { } problem)
        {
            // As Kratos: refused before the challenge is touched; the form keeps its options.
            var (_, same) = submission.CredentialTraits();
            same.Messages.Add(Messages.WebAuthnResponseUnparsable(problem));
            return new RegistrationOutcome.ShowForm(same, 400);
        }
        var state = await SpendAsync(submission.Flow, ct);
        if (state is null)
        {
            // Replayed, or the flow never offered a passkey: the form (with fresh options) says so.
            var (_, fresh) = submission.CredentialTraits();
            fresh.Messages.Add(Messages.WebAuthnRegistrationFailed("the challenge of this flow was already used; please try again"));
            return new RegistrationOutcome.ShowForm(fresh, 400);
        }
        var result = await RelyingParty.FinishRegistrationAsync(state, response, passwordless: true, flows.Now(), ct);
        if (result.Value is not { } key)
        {
            logger.LogInformation("Passkey registration refused: {Reason}", result.Reason);
            var (_, fresh) = submission.CredentialTraits();
            fresh.Messages.Add(result.RegistrationRefusal());
            return new RegistrationOutcome.ShowForm(fresh, 400);
        }
        var handle = UserHandleOf(state);
        var config = WebAuthnKey.Config([key], handle);
        return new RegistrationOutcome.CreateIdentity(ui, traits, new JsonObject { [CredentialTypes.Passkey] = new JsonObject { ["config"] = config } });
    }

    /// <summary>The user handle the creation options named (<c>user.id</c>, base64url in the kept state).</summary>
    private static byte[] UserHandleOf(string state) =>
        JsonNode.Parse(state)?["user"]?["id"]?.GetValue<string>() is { } id ? Base64Url.DecodeFromChars(id) : [];
}
