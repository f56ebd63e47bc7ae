using System.Text.Json.Nodes;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Ui;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies.Code;

/// <summary>
/// Passwordless registration (Kratos's <c>code/strategy_registration.go</c>): <c>{method: code, traits}</c> validates the
/// traits and sends a code to the first address the schema marks <c>credentials.code.identifier</c> (by e-mail or, with
/// <c>via: sms</c>, by SMS), the flow moves to
/// <c>sent_email</c> with the traits kept (hidden); <c>{method: code, traits, code}</c> creates the identity with its
/// <c>code</c> credential, the address verified (the code reached it), and the registration hooks run.
/// </summary>
public sealed partial class CodeStrategy
{
    private const string RegistrationKind = "registration_code";

    /// <summary>Where the flow keeps the traits and the address the registration code was sent for.</summary>
    private const string RegistrationContextKey = "code_registration";

    public void Populate(RegistrationForm form)
    {
        if (!Passwordless) return;
        if (form.ProfileFirst && form.Step == RegistrationStep.First) return; // the credentials come in the second step
        form.Ui.Nodes.Add(UiNodes.Submit("method", Name, Name, Messages.SendSignUpCode()));
    }

    bool IRegistrationStrategy.Handles(string? method, JsonObject body) => Passwordless && method == Name;

    public async Task<RegistrationOutcome> RegisterAsync(RegistrationSubmission submission, CancellationToken ct)
    {
        var (flow, body) = (submission.Flow, submission.Body);
        var resend = FormBody.String(body, "resend") == Name;
        if (flow.State == FlowStates.SentEmail)
        {
            var sentUi = UiContainer.FromJson(flow.Ui);
            sentUi.ClearMessages();
            // The traits the code was sent for; a submit carrying other traits is refused (4000036), as in Kratos.
            var sent = submission.Context[RegistrationContextKey] as JsonObject;
            var (sentTraits, sentTo) = (sent?["traits"], sent?["address"]?.GetValue<string>());
            var sentVia = sent?["channel"]?.GetValue<string>() ?? "email";
            if (sentTraits is null || sentTo is null
                || (submission.SubmittedTraits is JsonObject st && st.Count > 0 && !JsonNode.DeepEquals(st, sentTraits)))
            {
                sentUi.Messages.Add(Messages.TraitsMismatch());
                return new RegistrationOutcome.ShowForm(sentUi, 400);
            }
            if (!resend) return await VerifyRegistrationCodeAsync(submission, sentUi, sentTraits, sentTo, ct);
            await SendRegistrationCodeAsync(flow, new CodeAddress(sentTo, sentVia), sentTraits, ct);
            sentUi.Messages.Add(Messages.RegistrationCodeSent());
            return new RegistrationOutcome.ShowForm(sentUi, 400);
        }

        var (traits, ui, validation) = submission.ValidatedTraits();
        if (traits is null) return new RegistrationOutcome.ShowForm(ui, 400);
        // The first address the schema marks as the code identifier, e-mail or SMS (Kratos sends a code to each; see docs).
        var address = validation.CodeAddresses.Where(a => a.Via is "email" or "sms").Select(a => new CodeAddress(a.Value, a.Via)).FirstOrDefault();
        if (address is null)
        {
            ui.Messages.Add(Messages.IdentifierMissing());
            return new RegistrationOutcome.ShowForm(ui, 400);
        }
        var context = submission.Context;
        context[RegistrationContextKey] = new JsonObject { ["traits"] = traits.DeepClone(), ["address"] = address.Address, ["channel"] = address.Channel };
        flow.InternalContext = context.ToJsonString();
        await SendRegistrationCodeAsync(flow, address, traits, ct);
        flow.State = FlowStates.SentEmail;
        // Kratos's populateEmailSentFlow: with the two-step registration, a back button to the credential selection
        // (the profile strategy's screen=credential-selection) ends the form.
        var back = submission.ProfileFirst ? UiNodes.Submit("screen", "credential-selection", UiNodes.ProfileGroup, Messages.RegistrationBack()) : null;
        ShowSent(ui, Messages.LabelRegistrationCode(), Messages.RegistrationCodeSent(), login: false, back);
        return new RegistrationOutcome.ShowForm(ui, 400);
    }

    private async Task SendRegistrationCodeAsync(SelfServiceFlow flow, CodeAddress to, JsonNode traits, CancellationToken ct)
    {
        var address = to.Address;
        await codes.CountMailAsync(address, ct);
        var secret = OneTimeCodes.NewCode();
        await codes.CreateAsync(flow.Id, null, RegistrationKind, address, to.Channel, secret, Lifespan, ct);
        var model = new JsonObject
        {
            ["to"] = address,
            ["registration_code"] = secret,
            ["traits"] = traits.DeepClone(),
            ["request_url"] = flow.RequestUrl,
            ["expires_in_minutes"] = (int)Math.Ceiling(Lifespan.TotalMinutes),
        };
        if (to.Channel == "sms") model["identity"] = traits.DeepClone(); // Kratos's SMS model names the traits "identity"
        if (flow.TransientPayload is { } payload) model["transient_payload"] = JsonNode.Parse(payload);
        await courier.QueueAsync(to.Channel, "registration_code_valid", address, model, ct);
    }

    private async Task<RegistrationOutcome> VerifyRegistrationCodeAsync(RegistrationSubmission submission, UiContainer ui, JsonNode traits, string address, CancellationToken ct)
    {
        var code = (FormBody.String(submission.Body, "code") ?? "").Trim();
        if (code.Length == 0)
        {
            ui.AddMessage("code", Messages.Required("code"));
            return new RegistrationOutcome.ShowForm(ui, 400);
        }
        var (outcome, used) = await codes.UseCodeAsync(submission.Flow.Id, RegistrationKind, code, options.Selfservice.Methods.Code.Config.MaxSubmissions, ct);
        // Kratos's RegistrationCode.Validate: a right code past its lifespan expires the flow (410 and a new flow with 4040001).
        if (outcome == OneTimeCodes.Outcome.Expired) throw new FlowExpired(used!.ExpiresAt);
        if (outcome != OneTimeCodes.Outcome.Valid)
        {
            // Kratos's useOneTimeCode answers spent guesses with ErrCodeSubmittedTooOften, registration and login alike.
            ui.Messages.Add(outcome == OneTimeCodes.Outcome.Exhausted ? Messages.CodeSubmittedTooOften() : Messages.RegistrationCodeInvalid());
            return new RegistrationOutcome.ShowForm(ui, 400);
        }
        // The code credential (identifiers and addresses) follows from the schema's credentials.code extension.
        return new RegistrationOutcome.CreateIdentity(ui, traits.DeepClone(), [], VerifiedAddresses: [address]);
    }
}
