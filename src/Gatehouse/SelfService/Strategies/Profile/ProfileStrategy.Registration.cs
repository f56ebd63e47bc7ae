using System.Text.Json.Nodes;
using Gatehouse.SelfService.Ui;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies.Profile;

public sealed partial class ProfileStrategy
{
    public void Populate(RegistrationForm form)
    {
        if (!form.ProfileFirst) return; // unified: the traits go with the credentials' submit
        if (form.Step == RegistrationStep.First) form.Ui.Nodes.Add(UiNodes.Submit("method", Name, UiNodes.ProfileGroup, Messages.SignUp()));
        else form.Ui.Nodes.Add(UiNodes.Submit("screen", "previous", UiNodes.ProfileGroup, Messages.RegistrationBack()));
    }

    /// <summary>
    /// profile_first only: the traits step, <c>screen=previous</c> (back to it from the credentials step) and
    /// <c>screen=credential-selection</c> (back to the credentials step from a method's next step, the code form's back
    /// button). As Kratos's profile strategy, which comes first, a <c>screen</c> wins over the submit's <c>method</c>: the
    /// code form posts its hidden <c>method=code</c> with the button.
    /// </summary>
    public bool Handles(string? method, JsonObject body) =>
        options.Selfservice.Flows.Registration.ProfileFirst && (method == Name || FormBody.String(body, "screen") is "previous" or "credential-selection");

    /// <summary>
    /// Kratos's profile strategy (profile/registration.go) answers every step as a form: JSON clients get 400 with the flow
    /// (<c>returnToProfileForm</c> and <c>showCredentialsSelection</c> write <c>http.StatusBadRequest</c>), browsers a
    /// redirect; the flow names no active method (the credential selection sets it to "").
    /// </summary>
    public Task<RegistrationOutcome> RegisterAsync(RegistrationSubmission submission, CancellationToken ct)
    {
        // Back to the traits step: it shows the traits the form sent (the credentials step's hidden fields) over the ones
        // the profile step accepted, as Kratos's returnToProfileForm fills the form from the submitted traits.
        if (FormBody.String(submission.Body, "screen") == "previous")
        {
            var shown = TraitValues.Shown(submission.Context["traits"], submission.SubmittedTraits);
            return Task.FromResult<RegistrationOutcome>(new RegistrationOutcome.ShowForm(submission.FirstStep(shown), 400) { NoActiveMethod = true });
        }
        var traits = submission.SubmittedTraits ?? new JsonObject();
        var validation = submission.Schema.Validate(traits);
        if (!validation.IsValid)
        {
            var ui = submission.FirstStep(traits);
            Flows.FlowService.AddTraitErrors(ui, validation.Errors);
            return Task.FromResult<RegistrationOutcome>(new RegistrationOutcome.ShowForm(ui, 400) { NoActiveMethod = true });
        }
        // Kratos's showCredentialsSelection starts the methods anew: a code already sent waits no longer.
        submission.Flow.State = Flows.FlowStates.ChooseMethod;
        submission.Context["traits"] = traits.DeepClone();
        submission.Flow.InternalContext = submission.Context.ToJsonString();
        return Task.FromResult<RegistrationOutcome>(new RegistrationOutcome.ShowForm(submission.CredentialStep(traits), 400) { NoActiveMethod = true });
    }
}
