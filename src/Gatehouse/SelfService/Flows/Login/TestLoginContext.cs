using System.Text.Json.Nodes;

namespace Gatehouse.SelfService.Flows.Login;

/// <summary>
/// A test login flow's <c>test_context</c> (Kratos's <c>loginFlowTestContext</c>), kept as the JSON the API answers in
/// <see cref="SelfServiceFlow.TestContext"/>: <c>{provider_id, debug_payload?}</c>. The debug payload
/// (<c>loginFlowTestDebugPayload</c>) is written once, by the method's callback, and never holds the provider's tokens.
/// </summary>
public static class TestLoginContext
{
    /// <summary>The context of a new test flow for <paramref name="providerId"/>.</summary>
    public static string New(string providerId) => new JsonObject { ["provider_id"] = providerId }.ToJsonString();

    /// <summary>The context as the flow's JSON answers it, or null for a flow that is no test flow.</summary>
    public static JsonObject? Of(SelfServiceFlow flow) =>
        flow.TestContext is { Length: > 0 } raw ? JsonNode.Parse(raw) as JsonObject : null;

    /// <summary>The provider the test flow is scoped to, or null for a flow that is no test flow.</summary>
    public static string? ProviderId(SelfServiceFlow flow) => (string?)Of(flow)?["provider_id"];

    /// <summary>Whether the callback already captured the debug payload (which may hold personal data).</summary>
    public static bool IsCaptured(SelfServiceFlow flow) => Of(flow)?["debug_payload"] is JsonObject;

    /// <summary>Records the debug payload once: false (and nothing changed) when one was captured already.</summary>
    public static bool Capture(SelfServiceFlow flow, JsonObject debugPayload)
    {
        var context = Of(flow) ?? throw new InvalidOperationException("Only a test login flow captures a debug payload.");
        if (context["debug_payload"] is JsonObject) return false;
        context["debug_payload"] = debugPayload;
        flow.TestContext = context.ToJsonString();
        return true;
    }
}
