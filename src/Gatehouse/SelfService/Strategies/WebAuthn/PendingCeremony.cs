using System.Text.Json.Nodes;
using Gatehouse.SelfService.Flows;

namespace Gatehouse.SelfService.Strategies.WebAuthn;

/// <summary>
/// The WebAuthn ceremony a flow waits for, kept in its internal context under the method's name
/// (<c>{"&lt;method&gt;": {"session_data": …, "session_options": …}}</c>, never shown): the state the ceremony began with
/// and the options its form shows. Spending it is a compare-and-swap on the stored context, so an answer to it is
/// verified once at most, even when two requests race.
/// </summary>
public static class PendingCeremony
{
    private static JsonObject Context(SelfServiceFlow flow) =>
        flow.InternalContext is { Length: > 0 } raw && JsonNode.Parse(raw) is JsonObject o ? o : [];

    /// <summary>The pending ceremony's state and shown options, if the flow has one for this method.</summary>
    public static (string State, string Shown)? Find(SelfServiceFlow flow, string method) =>
        Context(flow)[method] is JsonObject p && p["session_data"] is JsonValue v && v.TryGetValue<string>(out var state)
            && p["session_options"] is JsonValue s && s.TryGetValue<string>(out var shown)
            ? (state, shown) : null;

    /// <summary>Keeps a new ceremony (in the flow object; saved with the flow).</summary>
    public static void Keep(SelfServiceFlow flow, string method, string state, string shown)
    {
        var context = Context(flow);
        context[method] = new JsonObject { ["session_data"] = state, ["session_options"] = shown };
        flow.InternalContext = context.ToJsonString();
    }

    /// <summary>
    /// Takes the pending ceremony's state out of the stored flow: the state, or null when there was none or another
    /// request spent it first (a replayed or concurrent answer).
    /// </summary>
    public static async Task<string?> SpendAsync(FlowService flows, SelfServiceFlow flow, string method, CancellationToken ct)
    {
        if (Find(flow, method) is not { } pending) return null;
        var context = Context(flow);
        context.Remove(method);
        return await flows.SwapInternalContextAsync(flow, context.ToJsonString(), ct) ? pending.State : null;
    }
}
