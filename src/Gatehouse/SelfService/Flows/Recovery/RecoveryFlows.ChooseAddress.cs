using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Identities;
using Gatehouse.SelfService.Ui;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Flows.Recovery;

/// <summary>
/// <c>feature_flags.choose_recovery_address</c>, Kratos's "recovery v2" (<c>selfservice/strategy/code/strategy_recovery.go</c>,
/// the <c>recoveryV2Handle*</c> functions; states in <c>selfservice/flow/state_recovery_v2.mermaid</c>): the user gives any
/// recovery address (<c>recovery_address</c>); when the account has others, they choose one of them, shown masked
/// (<c>recovery_select_address</c>: the address's SHA-256, base64), and — unless it is the one they typed — type it in
/// full (<c>recovery_confirm_address</c>); the code goes to that address, by e-mail or SMS; then the code is entered as
/// without the flag. An address no account has is answered as one with a single address: "a code was sent".
/// </summary>
public sealed partial class RecoveryFlows
{
    /// <summary>Whether new flows are "recovery v2" flows: the flag is on and the configured method offers it (the code method).</summary>
    private bool ChoosesAddress => options.FeatureFlags.ChooseRecoveryAddress && Method.ChoosesAddress;

    /// <summary>The first screen (Kratos's <c>PopulateRecoveryMethod</c> in <c>recovery_awaiting_address</c>): any recovery address.</summary>
    private UiContainer AnyAddressUi(SelfServiceFlow flow) => Form(flow, ui =>
    {
        ui.Nodes.Add(UiNodes.Input("recovery_address", "text", Method.Name, required: true, label: Messages.LabelRecoveryAddress()));
        ui.Nodes.Add(UiNodes.Submit("method", Method.Name, Method.Name, Messages.LabelContinue()));
    });

    /// <summary>
    /// A submit of a flow in one of the v2 states. As in Kratos, a v2 submit names no <c>method</c> (the state says what is
    /// expected), a signed-in client is refused before anything else — a code too — and <c>screen=previous</c> goes back.
    /// </summary>
    private async Task SubmitChooseAddressAsync(HttpContext http, SelfServiceFlow flow, JsonObject body, UiContainer ui, CancellationToken ct)
    {
        if (await RefusedAsSignedInAsync(http, ct)) return;
        var submit = new ChooseAddressSubmit(
            FormBody.String(body, "recovery_address") ?? "",
            FormBody.String(body, "recovery_select_address") ?? "",
            FormBody.String(body, "recovery_confirm_address") ?? "");
        if (FormBody.String(body, "screen") == "previous")
        {
            await GoBackAsync(http, flow, submit, ct);
            return;
        }
        switch (flow.State)
        {
            case FlowStates.RecoveryAwaitingAddress:
                await AwaitingAddressAsync(http, flow, submit, ui, ct);
                break;
            case FlowStates.RecoveryAwaitingAddressChoice:
                await AwaitingChoiceAsync(http, flow, submit, ui, ct);
                break;
            case FlowStates.RecoveryConfirmingAddress:
                await ConfirmingAddressAsync(http, flow, submit, ui, ct);
                break;
            case FlowStates.RecoveryAwaitingCode when string.IsNullOrEmpty(FormBody.String(body, "code")):
                // The resend button: a new code to the confirmed address, as if it had just been confirmed.
                await ConfirmingAddressAsync(http, flow, submit, ui, ct);
                break;
            case FlowStates.RecoveryAwaitingCode:
                await RedeemAsync(http, flow, body, ui, Method, ct);
                break;
            default:
                // Another recovery_ state (none is written): Kratos's retryRecoveryFlow with 4060002 "must be retried".
                await RetryAfterStateFailureAsync(http, flow, ct);
                break;
        }
    }

    private sealed record ChooseAddressSubmit(string Address, string Selected, string Confirmed);

    /// <summary>
    /// <c>recoveryV2HandleStateAwaitingAddress</c>: the account's recovery addresses are looked up by the one given. One
    /// address, given exactly as stored — or none, which is answered the same way so that nothing tells an unknown address
    /// apart — skips the choice and the confirmation: the code is sent. Otherwise the choice, sorted by address.
    /// </summary>
    private async Task AwaitingAddressAsync(HttpContext http, SelfServiceFlow flow, ChooseAddressSubmit submit, UiContainer ui, CancellationToken ct)
    {
        if (submit.Address.Length == 0)
        {
            await RefuseAsync(http, flow, ui, "recovery_address", Messages.Required("recovery_address"), ct);
            return;
        }
        var addresses = (await identityReader.FindSiblingRecoveryAddressesAsync(Normalize(submit.Address), ct)).Select(a => a.Value).ToList();
        if (addresses.Count == 0) addresses.Add(submit.Address);
        if (addresses.Count == 1 && addresses[0] == submit.Address)
        {
            await SendToConfirmedAsync(http, flow, submit with { Confirmed = submit.Address }, ct);
            return;
        }
        addresses.Sort(StringComparer.Ordinal);
        var choice = Form(flow, u =>
        {
            foreach (var address in addresses)
                u.Nodes.Add(UiNodes.Submit("recovery_select_address", AddressHash(address), Method.Name, Messages.Label(MaskAddress(address))));
            u.Nodes.Add(UiNodes.Input("method", "hidden", Method.Name, Method.Name));
            u.Nodes.Add(UiNodes.Input("recovery_address", "hidden", Method.Name, submit.Address));
            u.Messages.Add(Messages.RecoveryAskToChooseAddress());
        });
        flow.State = FlowStates.RecoveryAwaitingAddressChoice;
        await responder.RespondWithFlowAsync(http, flow, choice, 200, ct);
    }

    /// <summary>
    /// <c>recoveryV2HandleStateAwaitingAddressChoice</c>: the address typed first was chosen — the code is sent to it — or
    /// another one of the account's, which must now be typed in full (an e-mail or a phone number input, by its kind). A
    /// choice that is none of the account's addresses is 400 "The selected recovery address is not valid." (4000001) and
    /// leaves the flow as it was.
    /// </summary>
    private async Task AwaitingChoiceAsync(HttpContext http, SelfServiceFlow flow, ChooseAddressSubmit submit, UiContainer ui, CancellationToken ct)
    {
        if (submit.Selected.Length == 0)
        {
            await RefuseAsync(http, flow, ui, "recovery_select_address", Messages.Required("recovery_select_address"), ct);
            return;
        }
        if (submit.Address.Length == 0)
        {
            await RefuseAsync(http, flow, ui, "recovery_address", Messages.Required("recovery_address"), ct);
            return;
        }
        if (SameHash(AddressHash(submit.Address), submit.Selected))
        {
            await SendToConfirmedAsync(http, flow, submit with { Confirmed = submit.Address }, ct);
            return;
        }
        var addresses = await identityReader.FindSiblingRecoveryAddressesAsync(Normalize(submit.Address), ct);
        var chosen = addresses.FirstOrDefault(a => SameHash(AddressHash(a.Value), submit.Selected))?.Value;
        if (chosen is null)
        {
            await RefuseAsync(http, flow, ui, null, Messages.Generic("The selected recovery address is not valid."), ct);
            return;
        }
        var isEmail = chosen.Contains('@', StringComparison.Ordinal);
        var confirm = Form(flow, u =>
        {
            u.Nodes.Add(UiNodes.Input("recovery_confirm_address", isEmail ? "email" : "tel", Method.Name, submit.Confirmed, required: true,
                label: isEmail ? Messages.LabelEmail() : Messages.LabelPhoneNumber()));
            u.Nodes.Add(UiNodes.Input("recovery_address", "hidden", Method.Name, submit.Address));
            u.Nodes.Add(UiNodes.Submit("method", Method.Name, Method.Name, Messages.LabelContinue()));
            u.Nodes.Add(UiNodes.Input("method", "hidden", Method.Name, Method.Name));
            u.Nodes.Add(UiNodes.Submit("screen", "previous", Method.Name, Messages.RecoveryBack()));
            u.Messages.Add(Messages.RecoveryAskForFullAddress());
        });
        flow.State = FlowStates.RecoveryConfirmingAddress;
        await responder.RespondWithFlowAsync(http, flow, confirm, 200, ct);
    }

    /// <summary><c>recoveryV2HandleStateConfirmingAddress</c>: the address in full is required, then the code is sent to it.</summary>
    private async Task ConfirmingAddressAsync(HttpContext http, SelfServiceFlow flow, ChooseAddressSubmit submit, UiContainer ui, CancellationToken ct)
    {
        if (submit.Confirmed.Length == 0)
        {
            await RefuseAsync(http, flow, ui, "recovery_confirm_address", Messages.Required("recovery_confirm_address"), ct);
            return;
        }
        await SendToConfirmedAsync(http, flow, submit, ct);
    }

    /// <summary>
    /// Sends the code to the address typed in full — whatever the account looked up before, as Kratos does: the address is
    /// looked up again on its own channel (an <c>@</c> makes it e-mail, anything else SMS: Kratos's <c>hackyInferChannel</c>),
    /// so only an account's own recovery address gets a code — and shows the code form, with the address masked in the
    /// message (1060004), the resend button (<c>recovery_confirm_address</c>) and the back button.
    /// </summary>
    private async Task SendToConfirmedAsync(HttpContext http, SelfServiceFlow flow, ChooseAddressSubmit submit, CancellationToken ct)
    {
        var via = submit.Confirmed.Contains('@', StringComparison.Ordinal) ? "email" : "sms";
        var normalized = Normalize(submit.Confirmed);
        await codes.CountMailAsync(normalized, ct);
        var identity = await identityReader.FindByRecoveryAddressAsync(via, normalized, ct);
        var model = new JsonObject { ["to"] = normalized };
        if (identity is not null) model["identity"] = identityJson.ToNode(identity, IdentityView.Public);
        await Method.SendViaAsync(flow, identity?.Id, via, normalized, model,
            deliver: identity is not null || options.Selfservice.Flows.Recovery.NotifyUnknownRecipients, ct);
        var sent = Form(flow, u =>
        {
            u.Nodes.Add(UiNodes.Input("code", "text", Method.Name, required: true, label: Messages.LabelRecoveryCode(), pattern: "[0-9]+", maxLength: 6));
            u.Nodes.Add(UiNodes.Submit("method", Method.Name, Method.Name, Messages.LabelContinue()));
            u.Nodes.Add(UiNodes.Input("method", "hidden", Method.Name, Method.Name));
            u.Nodes.Add(UiNodes.Submit("recovery_confirm_address", submit.Confirmed, Method.Name, Messages.LabelResendCode()));
            u.Nodes.Add(UiNodes.Input("recovery_address", "hidden", Method.Name, submit.Address));
            u.Nodes.Add(UiNodes.Submit("screen", "previous", Method.Name, Messages.RecoveryBack()));
            u.Messages.Add(Messages.RecoveryCodeSentToMasked(MaskAddress(submit.Confirmed)));
        });
        flow.State = FlowStates.RecoveryAwaitingCode;
        await responder.RespondWithFlowAsync(http, flow, sent, 200, ct);
    }

    /// <summary>
    /// <c>recoveryV2HandleGoBack</c>: with at most one recovery address to choose from, back to the first screen; from the
    /// confirmation or the code, back to the choice (the first address submitted again). Kratos answers a back from the
    /// choice itself (which has no back button) with a 500 ("unreachable state"); Gatehouse shows the first screen.
    /// </summary>
    private async Task GoBackAsync(HttpContext http, SelfServiceFlow flow, ChooseAddressSubmit submit, CancellationToken ct)
    {
        var addresses = await identityReader.FindSiblingRecoveryAddressesAsync(Normalize(submit.Address), ct);
        if (addresses.Count > 1 && flow.State is FlowStates.RecoveryAwaitingCode or FlowStates.RecoveryConfirmingAddress)
        {
            flow.State = FlowStates.RecoveryAwaitingAddress;
            await AwaitingAddressAsync(http, flow, new ChooseAddressSubmit(submit.Address, "", ""), AnyAddressUi(flow), ct);
            return;
        }
        flow.State = FlowStates.RecoveryAwaitingAddress;
        await responder.RespondWithFlowAsync(http, flow, AnyAddressUi(flow), 200, ct);
    }

    /// <summary>A refused v2 submit: the flow as it was with the message, 400 (HTML browsers: 303 to the UI), as Kratos's <c>WriteFlowError</c>.</summary>
    private Task RefuseAsync(HttpContext http, SelfServiceFlow flow, UiContainer ui, string? node, JsonObject message, CancellationToken ct)
    {
        ui.AddMessage(node, message);
        return responder.RespondWithFlowAsync(http, flow, ui, 400, ct);
    }

    /// <summary>Kratos's <c>retryRecoveryFlow</c> with 4060002 for a flow in a state it has no handler for.</summary>
    private async Task RetryAfterStateFailureAsync(HttpContext http, SelfServiceFlow flow, CancellationToken ct)
    {
        if (flow.Type == FlowTypes.Browser) csrf.Regenerate(http);
        var replacement = WithMessage(NewFlow(http, flow.Type, returnTo: null), Messages.RecoveryStateFailure());
        await flows.InsertAsync(replacement, ct);
        FlowService.Redirect(http, FlowService.WantsJson(http.Request) ? FetchUrl(replacement) : flows.UiUrlFor(replacement));
    }

    /// <summary>As Kratos's persister looks addresses up (<c>stringToLowerTrim</c>).</summary>
    private static string Normalize(string address) => address.Trim().ToLowerInvariant();

    /// <summary>Kratos's <c>AddressToHashBase64</c>: the value that stands for an address in the choice (never the address itself).</summary>
    internal static string AddressHash(string address) => Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(address)));

    private static bool SameHash(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    /// <summary>
    /// Kratos's <c>MaskAddress</c>: an e-mail keeps the first two characters of its local part (<c>fo****@bar</c>; a local part
    /// shorter than two is shown whole), anything else its first three and last two (<c>+12****10</c>; shorter than six: whole).
    /// </summary>
    internal static string MaskAddress(string address)
    {
        var at = address.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0) return at < 2 ? address : address[..2] + "****" + address[at..];
        return address.Length < 6 ? address : address[..3] + "****" + address[^2..];
    }
}
