using System.Text.Json.Nodes;

namespace Gatehouse.SelfService.Flows;

/// <summary>
/// Thrown by a method when its flow cannot go on and a new flow carrying <see cref="UiMessage"/> replaces it (Kratos's
/// <c>retryRecoveryFlow</c> and <c>retryVerificationFlowWithError</c>, e.g. for a code whose guesses are spent). How the
/// new flow is announced is the flow's to decide.
/// </summary>
public sealed class FlowReplaced(JsonObject uiMessage) : Exception(uiMessage["text"]?.GetValue<string>())
{
    /// <summary>The message the new flow carries.</summary>
    public JsonObject UiMessage { get; } = uiMessage;
}
