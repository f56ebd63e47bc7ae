using System.Text.Json.Nodes;
using Gatehouse.SelfService.Ui;

namespace Gatehouse.SelfService.Hooks;

/// <summary>
/// A hook stopped the flow with messages for its form: each message goes to the node its instance pointer names
/// (<c>#/traits/email</c> → <c>traits.email</c>) or to the form itself. The flow answers 400 with the flow, nothing written.
/// </summary>
public sealed class FlowHookInterrupt : Exception
{
    public FlowHookInterrupt(IReadOnlyList<(string? NodeName, JsonObject Message)> messages)
        : base("A hook interrupted the flow: " + string.Join("; ", messages.Select(m => m.Message["text"]?.ToString())))
    {
        Messages = messages;
    }

    public IReadOnlyList<(string? NodeName, JsonObject Message)> Messages { get; }

    /// <summary>The node a JSON pointer names: <c>#/traits/name/first</c> → <c>traits.name.first</c>; the root → none.</summary>
    public static string? NodeName(string? instancePointer)
    {
        if (string.IsNullOrEmpty(instancePointer)) return null;
        var path = instancePointer.TrimStart('#').Trim('/');
        if (path.Length == 0) return null;
        return string.Join('.', path.Split('/').Select(s => s.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)));
    }

    /// <summary>Puts the messages on the form, replacing earlier ones.</summary>
    public void ApplyTo(UiContainer ui)
    {
        ui.ClearMessages();
        foreach (var (node, message) in Messages) ui.AddMessage(node, (JsonObject)message.DeepClone());
    }
}
