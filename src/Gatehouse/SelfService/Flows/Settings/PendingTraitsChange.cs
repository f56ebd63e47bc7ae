using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Gatehouse.SelfService.Flows.Settings;

/// <summary>
/// A profile change held back by the <c>verify_new_address</c> hook until its new address is verified (Kratos's
/// <c>identity.PendingTraitsChange</c>, table <c>identity_pending_traits_changes</c>): the proposed traits, the address to
/// verify, the verification flow that must succeed, the session and settings flow it came from, and a hash of the traits
/// it was proposed against, so a change made meanwhile is not overwritten.
/// </summary>
public sealed class PendingTraitsChange
{
    public Guid Id { get; set; }
    public Guid Nid { get; set; }
    public Guid IdentityId { get; set; }

    /// <summary>The session that proposed the change; null once it is deleted (the change is then refused).</summary>
    public Guid? SessionId { get; set; }

    /// <summary>The settings flow the change was submitted on (its post-persist hooks run with it).</summary>
    public Guid OriginSettingsFlowId { get; set; }

    /// <summary>The verification flow whose success applies the change.</summary>
    public Guid VerificationFlowId { get; set; }

    public string NewAddressValue { get; set; } = "";

    /// <summary><c>email</c> or <c>sms</c>.</summary>
    public string NewAddressVia { get; set; } = "email";

    /// <summary>Hex SHA-256 of the identity's compact traits JSON when the change was proposed (<see cref="HashTraits"/>).</summary>
    public string OriginalTraitsHash { get; set; } = "";

    /// <summary>The whole traits document to apply.</summary>
    public string ProposedTraits { get; set; } = "{}";

    /// <summary><see cref="PendingTraitsChangeStatus"/>: <c>pending</c> or <c>completed</c>.</summary>
    public string Status { get; set; } = PendingTraitsChangeStatus.Pending;

    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    /// <summary>Kratos's <c>identity.HashTraits</c>: hex SHA-256 of the traits as compact JSON.</summary>
    public static string HashTraits(string traits)
    {
        var compact = (JsonNode.Parse(string.IsNullOrEmpty(traits) ? "{}" : traits)?.ToJsonString()) ?? "null";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(compact)));
    }
}

public static class PendingTraitsChangeStatus
{
    public const string Pending = "pending";
    public const string Completed = "completed";
}
