using System.Text.Json.Nodes;

namespace Gatehouse.SelfService.Flows;

/// <summary>
/// A self-service flow (login, registration, settings, recovery, verification) as stored: one table for all kinds,
/// with the UI container and the flow's private state kept as JSON.
/// </summary>
public sealed class SelfServiceFlow
{
    public Guid Id { get; set; }
    public Guid Nid { get; set; }

    /// <summary><c>login</c>, <c>registration</c>, <c>settings</c>, <c>recovery</c> or <c>verification</c>.</summary>
    public string Kind { get; set; } = "";

    /// <summary><c>browser</c> or <c>api</c>.</summary>
    public string Type { get; set; } = "browser";
    public string State { get; set; } = "choose_method";
    public string RequestUrl { get; set; } = "";
    public string? ReturnTo { get; set; }

    /// <summary>The method last used (Kratos's <c>active</c>).</summary>
    public string? Active { get; set; }

    /// <summary>The CSRF token of a browser flow (compared with the CSRF cookie on submit); empty for API flows.</summary>
    public string CsrfToken { get; set; } = "";
    public DateTime IssuedAt { get; set; }
    public DateTime ExpiresAt { get; set; }

    /// <summary>The <c>ui</c> container as JSON.</summary>
    public string Ui { get; set; } = "{}";
    public bool Refresh { get; set; }
    public string? RequestedAal { get; set; }

    /// <summary>The identity the flow belongs to (settings, and flows that found one).</summary>
    public Guid? IdentityId { get; set; }

    /// <summary>Private state between steps (e.g. the traits of a profile-first registration, recovery code hashes).</summary>
    public string? InternalContext { get; set; }

    /// <summary>One key of <see cref="InternalContext"/>, or null.</summary>
    public JsonNode? ContextValue(string key) =>
        InternalContext is { Length: > 0 } raw && JsonNode.Parse(raw) is JsonObject o ? o[key] : null;

    /// <summary>Sets one key of <see cref="InternalContext"/>; null removes it.</summary>
    public void SetContextValue(string key, JsonNode? value)
    {
        var context = InternalContext is { Length: > 0 } raw && JsonNode.Parse(raw) is JsonObject o ? o : [];
        if (value is null) context.Remove(key);
        else context[key] = value;
        InternalContext = context.Count == 0 ? null : context.ToJsonString();
    }

    /// <summary>
    /// A dry-run social sign-in test flow's context as JSON (<c>loginFlow.test_context</c>: the provider and, once the
    /// callback captured it, the debug payload); null for every other flow. See <see cref="Login.TestLoginContext"/>.
    /// </summary>
    public string? TestContext { get; set; }

    /// <summary>Whether this is an admin-created test login flow (Kratos's <c>test_flow</c> column).</summary>
    public bool IsTestFlow => TestContext is not null;

    /// <summary>The submit's <c>transient_payload</c> (for its hooks and its answer); never stored.</summary>
    public string? TransientPayload { get; set; }

    /// <summary>The submit's <c>continue_with</c> (e.g. a recovery's session token) for its answer only; never stored.</summary>
    public string? ContinueWith { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    /// <summary>
    /// A copy of the flow as it is now, for a store to tell later which fields changed: shallow, since every field is a
    /// value or an immutable string.
    /// </summary>
    public SelfServiceFlow StoredCopy() => (SelfServiceFlow)MemberwiseClone();
}
