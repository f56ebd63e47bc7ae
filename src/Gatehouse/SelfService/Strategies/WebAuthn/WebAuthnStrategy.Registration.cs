using System.Buffers.Text;
using System.Text.Json.Nodes;
using Gatehouse.Identities;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Ui;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies.WebAuthn;

public sealed partial class WebAuthnStrategy
{
    /// <summary>
    /// Registration with a security key, only with <c>config.passwordless</c> and in browser flows (Kratos): the key's name,
    /// the hidden answer field, the trigger (1040004) with the creation options inline, and the script.
    /// </summary>
    public void Populate(RegistrationForm form)
    {
        var (ui, flow) = (form.Ui, form.Flow);
        if (!Passwordless || !IsBrowser(flow) || (form.Step == RegistrationStep.First && form.ProfileFirst)) return;
        var shown = PendingCeremony.Find(flow, Name)?.Shown ?? NewRegistrationOptions(flow, RandomHandle(), [], "");
        ui.Nodes.Add(UiNodes.Input("webauthn_register_displayname", "text", Group, "", label: Messages.LabelSecurityKeyName()));
        ui.Nodes.Add(UiNodes.Input("webauthn_register", "hidden", Group, ""));
        ui.Nodes.Add(Trigger("webauthn_register_trigger", "oryWebAuthnRegistration", shown, Messages.SignUpWithSecurityKey()));
        AddScript(ui);
    }

    private string NewRegistrationOptions(SelfServiceFlow flow, byte[] handle, IEnumerable<byte[]> exclude, string name)
    {
        var userName = name.Length > 0 ? name : RelyingParty.DisplayName;
        var (clientOptions, state) = RelyingParty.BeginRegistration(handle, userName, userName, exclude, Selection);
        var shown = clientOptions.ToJsonString();
        PendingCeremony.Keep(flow, Name, state, shown);
        return shown;
    }

    bool IRegistrationStrategy.Handles(string? method, JsonObject body) => Field(body, "webauthn_register") is not null;

    /// <summary>The traits and the key (passwordless); the identity's webauthn identifiers come from its traits (4000009 without one).</summary>
    public async Task<RegistrationOutcome> RegisterAsync(RegistrationSubmission submission, CancellationToken ct)
    {
        var (traits, ui, validation) = submission.ValidatedTraits();
        if (!Passwordless || !IsBrowser(submission.Flow))
        {
            ui.Messages.Add(Messages.RegistrationNoStrategy());
            return new RegistrationOutcome.ShowForm(ui, 400);
        }
        if (traits is null) return new RegistrationOutcome.ShowForm(ui, 400);
        if (!validation.CredentialIdentifiers.TryGetValue(CredentialTypes.WebAuthn, out var ids) || ids.Count == 0)
        {
            ui.Messages.Add(Messages.IdentifierMissing());
            return new RegistrationOutcome.ShowForm(ui, 400);
        }
        var response = Field(submission.Body, "webauthn_register")!;
        if (WebAuthnResponseShape.AttestationProblem(response) is { } problem)
        {
            // As Kratos: refused before the challenge is touched; the form keeps its options.
            var (_, same) = submission.CredentialTraits();
            same.Messages.Add(Messages.WebAuthnResponseUnparsable(problem));
            return new RegistrationOutcome.ShowForm(same, 400);
        }
        var state = await SpendAsync(submission.Flow, ct);
        var result = state is null ? null : await RelyingParty.FinishRegistrationAsync(state, response, passwordless: true, flows.Now(), ct);
        if (result?.Value is not { } key)
        {
            logger.LogInformation("Security key registration refused: {Reason}", result?.Reason ?? "the challenge was spent");
            var (_, fresh) = submission.CredentialTraits();
            fresh.Messages.Add(result?.RegistrationRefusal() ?? Messages.WebAuthnRegistrationFailed("the challenge of this flow was already used; please try again"));
            return new RegistrationOutcome.ShowForm(fresh, 400);
        }
        key.DisplayName = (FormBody.String(submission.Body, "webauthn_register_displayname") ?? "").Trim();
        var handle = JsonNode.Parse(state!)?["user"]?["id"]?.GetValue<string>() is { } id ? Base64Url.DecodeFromChars(id) : RandomHandle();
        return new RegistrationOutcome.CreateIdentity(ui, traits,
            new JsonObject { [CredentialTypes.WebAuthn] = new JsonObject { ["config"] = WebAuthnKey.Config([key], handle) } });
    }
}
