using System.Text.Json.Nodes;

namespace Gatehouse.SelfService.Flows;

/// <summary>
/// A credential a registration could not create because its identity collided with an existing one (Kratos's
/// <c>registration_duplicate_credentials</c>, <c>selfservice/flow/duplicate_credentials.go</c>), kept in the internal
/// context of the login flow that asks the user to prove the existing account: once that login succeeds for an identity
/// with a credential identifier equal to <see cref="Identifier"/> — the colliding identifier or address, of kind
/// <see cref="IdentifierType"/> (a credential type, or an address's via) — the credential is added to it.
/// </summary>
public sealed record DuplicateCredentials(string Type, JsonObject Config, IReadOnlyList<string> Identifiers, string Identifier, string IdentifierType)
{
    private const string Key = "registration_duplicate_credentials";

    public static DuplicateCredentials? Of(SelfServiceFlow flow)
    {
        if ((JsonNode.Parse(flow.InternalContext ?? "{}") as JsonObject)?[Key] is not JsonObject o) return null;
        if ((string?)o["credentials_type"] is not { } type || o["credentials_config"] is not JsonObject config
            || (string?)o["duplicate_identifier"] is not { } identifier || (string?)o["duplicate_identifier_type"] is not { } identifierType) return null;
        var identifiers = (o["credentials_identifiers"] as JsonArray)?.Select(i => (string?)i).OfType<string>().ToList() ?? [];
        return new DuplicateCredentials(type, (JsonObject)config.DeepClone(), identifiers, identifier, identifierType);
    }

    public void WriteTo(SelfServiceFlow flow)
    {
        var context = JsonNode.Parse(flow.InternalContext ?? "{}") as JsonObject ?? [];
        context[Key] = new JsonObject
        {
            ["credentials_type"] = Type,
            ["credentials_config"] = Config.DeepClone(),
            ["credentials_identifiers"] = new JsonArray([.. Identifiers.Select(i => (JsonNode?)i)]),
            ["duplicate_identifier"] = Identifier,
            ["duplicate_identifier_type"] = IdentifierType,
        };
        flow.InternalContext = context.ToJsonString();
    }

    public static void Clear(SelfServiceFlow flow)
    {
        if (JsonNode.Parse(flow.InternalContext ?? "{}") is not JsonObject context || !context.Remove(Key)) return;
        flow.InternalContext = context.ToJsonString();
    }
}
