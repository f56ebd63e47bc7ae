using System.Text.Json.Nodes;

namespace Gatehouse.Identities;

/// <summary>
/// Fields a hook (a web hook answering with <c>{"identity": {…}}</c>) replaces on the identity, as Kratos's
/// <c>parseWebhookResponse</c> takes them. Each one present replaces the stored value <b>whole</b>: new <c>traits</c> are
/// not merged into the old ones (a receiver that answers with one trait removes the others). Null means "not sent".
/// </summary>
/// <param name="SchemaId">A non-empty <c>schema_id</c>: the traits are validated against that schema and the identity moves to it.</param>
/// <param name="State">A non-empty <c>state</c> (<c>active</c> or <c>inactive</c>).</param>
/// <param name="ExternalId"><c>external_id</c> when the answer names it at all; empty (or <c>null</c> in the answer) removes it.</param>
/// <param name="VerifiableAddresses">
/// A non-empty <c>verifiable_addresses</c>: each entry whose <c>via</c> and <c>value</c> the traits also give keeps its
/// <c>verified</c>, <c>status</c> and <c>verified_at</c>; the list itself still follows the traits (Kratos's merge).
/// </param>
/// <param name="RecoveryAddresses">
/// A non-empty <c>recovery_addresses</c>. Kratos merges them into the addresses the traits give, which only an address the
/// traits also give survives, and a recovery address holds nothing else: accepted (and checked), the list follows the traits.
/// </param>
public sealed record IdentityChanges(
    JsonNode? Traits,
    JsonNode? MetadataPublic,
    JsonNode? MetadataAdmin,
    string? SchemaId = null,
    string? State = null,
    string? ExternalId = null,
    JsonArray? VerifiableAddresses = null,
    JsonArray? RecoveryAddresses = null)
{
    /// <summary>True when nothing is changed.</summary>
    public bool IsEmpty => this is { Traits: null, MetadataPublic: null, MetadataAdmin: null, SchemaId: null, State: null, ExternalId: null, VerifiableAddresses: null, RecoveryAddresses: null };

    /// <summary>The later change wins field by field.</summary>
    public IdentityChanges Then(IdentityChanges next) => new(
        next.Traits ?? Traits, next.MetadataPublic ?? MetadataPublic, next.MetadataAdmin ?? MetadataAdmin, next.SchemaId ?? SchemaId,
        next.State ?? State, next.ExternalId ?? ExternalId, next.VerifiableAddresses ?? VerifiableAddresses, next.RecoveryAddresses ?? RecoveryAddresses);
}
