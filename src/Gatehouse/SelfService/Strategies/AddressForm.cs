using Gatehouse.SelfService.Ui;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies;

/// <summary>The form recovery and verification methods share for asking where to send their secret.</summary>
public static class AddressForm
{
    /// <summary>
    /// An email field (no <c>autocomplete</c>) and a "Continue" submit, both in the method's group, as Kratos's code and link
    /// methods populate recovery and verification.
    /// </summary>
    public static void Populate(UiContainer ui, string method, string? email)
    {
        ui.Nodes.Add(UiNodes.Input("email", "email", method, email, required: true, label: Messages.LabelEmail()));
        ui.Nodes.Add(UiNodes.Submit("method", method, method, Messages.LabelContinue()));
    }
}
