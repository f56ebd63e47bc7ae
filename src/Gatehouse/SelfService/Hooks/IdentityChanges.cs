using System.Text.Json.Nodes;

namespace Gatehouse.SelfService.Hooks;

/// <summary>
/// Fields a hook replaces on the identity. Each one present replaces the stored value <b>whole</b>: new
/// <c>traits</c> are not merged into the old ones (a receiver that answers with one trait removes the others), as in Kratos.
/// </summary>
public sealed record IdentityChanges(JsonNode? Traits, JsonNode? MetadataPublic, JsonNode? MetadataAdmin)
{
    /// <summary>The later change wins field by field.</summary>
    public IdentityChanges Then(IdentityChanges next) =>
        new(next.Traits ?? Traits, next.MetadataPublic ?? MetadataPublic, next.MetadataAdmin ?? MetadataAdmin);
}
