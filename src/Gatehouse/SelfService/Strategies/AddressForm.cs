using Gatehouse.SelfService.Ui;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies;

/// <summary>The form recovery and verification methods share for asking where to send their secret.</summary>
public static class AddressForm
{
    /// <summary>An email field and a submit, both in the method's group.</summary>
    public static void Populate(UiContainer ui, string method, string? email)
    {
        ui.Nodes.Add(UiNodes.Input("email", "email", method, email, required: true, autocomplete: "email", label: Messages.LabelEmail()));
        ui.Nodes.Add(UiNodes.Submit("method", method, method, Messages.LabelSubmit()));
    }
}
