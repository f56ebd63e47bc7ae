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

    /// <summary>
    /// Whether the new flow is a browser flow, whatever the old one was, and every client is sent (303) to its UI: Kratos's
    /// link method retries with <c>flow.TypeBrowser</c>, since its secret was opened from a mail in a browser.
    /// </summary>
    public bool AsBrowserFlow { get; init; }

    /// <summary>
    /// Whether Kratos retries with an error (<c>RetryWithError</c>, e.g. <c>ErrCodeSubmittedTooOften</c>), whose reason is the
    /// message's text, rather than a message alone — what <c>feature_flags.use_continue_with_transitions</c> answers JSON
    /// clients with.
    /// </summary>
    public bool IsError { get; init; }
}
