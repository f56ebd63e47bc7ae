using System.Text.Json.Nodes;
using Gatehouse.Identities;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Ui;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies.Password;

public sealed partial class PasswordStrategy
{
    public void Populate(RegistrationForm form)
    {
        var ui = form.Ui;
        if (form.Step == RegistrationStep.First)
        {
            if (form.ProfileFirst) return; // the credentials come in the second step
            // Unified: the password sits right after the identifier trait(s), as in Kratos's sorted form.
            var identifiers = form.Schema.TraitFields.Where(f => f.Extension.PasswordIdentifier).Select(f => f.Name).ToHashSet();
            var last = ui.Nodes.FindLastIndex(n => n["attributes"]?["name"]?.GetValue<string>() is { } name && identifiers.Contains(name));
            ui.Nodes.Insert(last >= form.TraitsStart ? last + 1 : form.TraitsStart, NewPasswordNode());
        }
        else
        {
            ui.Nodes.Add(NewPasswordNode());
        }
        ui.Nodes.Add(UiNodes.Submit("method", Name, UiNodes.PasswordGroup, Messages.SignUp()));
    }

    private static JsonObject NewPasswordNode() =>
        UiNodes.Input("password", "password", UiNodes.PasswordGroup, required: true, autocomplete: "new-password", label: Messages.LabelPassword());

    public async Task<RegistrationOutcome> RegisterAsync(RegistrationSubmission submission, CancellationToken ct)
    {
        var (traits, ui) = submission.CredentialTraits();
        var password = FormBody.String(submission.Body, "password") ?? "";
        var validation = submission.Schema.Validate(traits);
        if (!validation.IsValid)
        {
            FlowService.AddTraitErrors(ui, validation.Errors);
            if (password.Length == 0) ui.AddMessage("password", Messages.Required("password"));
            return new RegistrationOutcome.ShowForm(ui, 400);
        }
        if (password.Length == 0)
        {
            ui.AddMessage("password", Messages.Required("password"));
            return new RegistrationOutcome.ShowForm(ui, 400);
        }
        var identifier = validation.CredentialIdentifiers.TryGetValue(CredentialTypes.Password, out var ids) && ids.Count > 0 ? ids[0] : "";
        if (identifier.Length == 0)
        {
            ui.Messages.Add(Messages.IdentifierMissing());
            return new RegistrationOutcome.ShowForm(ui, 400);
        }
        if (await policy.CheckAsync(identifier, password, ct) is { } violation)
        {
            ui.AddMessage("password", violation);
            return new RegistrationOutcome.ShowForm(ui, 400);
        }
        return new RegistrationOutcome.CreateIdentity(ui, traits,
            new JsonObject { [CredentialTypes.Password] = new JsonObject { ["config"] = new JsonObject { ["password"] = password } } });
    }
}
