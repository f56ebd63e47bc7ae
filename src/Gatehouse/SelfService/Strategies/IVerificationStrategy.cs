using System.Text.Json.Nodes;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Ui;

namespace Gatehouse.SelfService.Strategies;

/// <summary>
/// A method that verifies an address with a secret mailed to it (Kratos's <c>verification.Strategy</c>): <c>code</c> or
/// <c>link</c>. The flow asks for the address, has the method send its secret, and lets the method redeem it.
/// </summary>
public interface IVerificationStrategy : IStrategy
{
    /// <summary>Whether this method handles the submit: its name is the <c>method</c>, or (no method) the body carries its secret.</summary>
    bool Handles(string? method, JsonObject body) => method == Name;

    /// <summary>Whether the submit carries this method's secret for the flow (rather than an address to send one to).</summary>
    bool CarriesSecret(SelfServiceFlow flow, JsonObject body);

    /// <summary>
    /// Whether the method's forms carry the CSRF token node on API flows too (with an empty value): Kratos's link method
    /// sets it whatever the flow's type (<c>PopulateVerificationMethod</c>), its code method only on browser flows
    /// (<c>PopulateMethod</c>).
    /// </summary>
    bool CsrfOnEveryFlowType => false;

    /// <summary>
    /// Whether the mailed link (<c>GET ?flow=&amp;code=</c>) only opens the form with the code filled in, to be submitted
    /// there (Kratos's code method, <c>handleLinkClick</c>), instead of being redeemed when opened (the link method's token).
    /// </summary>
    bool OpensFormFromLink => false;

    /// <summary>The form asking for the address (prefilled with <paramref name="email"/>).</summary>
    void PopulateAddressForm(UiContainer ui, string? email) => AddressForm.Populate(ui, Name, email);

    /// <summary>The form after the secret went out to <paramref name="email"/>, with its message.</summary>
    void PopulateSent(UiContainer ui, string email);

    /// <summary>
    /// Makes a secret for the flow and stores its hash — for an unknown address (<paramref name="identityId"/> null) too,
    /// bound to no identity, so known and unknown addresses cost the same — and queues the mail: the secret for a known
    /// address, the "invalid" template for an unknown one; <paramref name="deliver"/> false writes no mail.
    /// </summary>
    Task SendAsync(SelfServiceFlow flow, Guid? identityId, string address, JsonObject model, bool deliver, CancellationToken ct);

    /// <summary>Whether the method can send its secret over <paramref name="via"/> (<c>email</c>; the code method also <c>sms</c>).</summary>
    bool SendsTo(string via) => via == "email";

    /// <summary>
    /// Sends a secret for the flow, bound to <paramref name="identityId"/>, to an address the identity does not have yet
    /// (the new address of a profile change the <c>verify_new_address</c> hook holds back), over <paramref name="via"/>.
    /// </summary>
    Task SendToAddressAsync(SelfServiceFlow flow, Guid identityId, string via, string address, JsonObject model, CancellationToken ct) =>
        SendAsync(flow, identityId, address, model, deliver: true, ct);

    /// <summary>
    /// The secret's record if the submitted one is right (used up now); else null, with the reason on <paramref name="ui"/>
    /// — or throws with the message a new flow should carry instead (<see cref="FlowReplaced"/>), or that the flow is to be answered as expired (<see cref="FlowExpired"/>).
    /// </summary>
    Task<SelfServiceCode?> RedeemAsync(SelfServiceFlow flow, JsonObject body, UiContainer ui, CancellationToken ct);
}
