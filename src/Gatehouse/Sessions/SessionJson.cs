using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Http.Json;
using Gatehouse.Identities;

namespace Gatehouse.Sessions;

/// <summary>Writes sessions in Kratos's JSON shape (schema <c>session</c>); hidden fields (tokens, nid, identity_id, timestamps) never appear.</summary>
public sealed class SessionJson(IdentityJson identities, TimeProvider time)
{
    /// <param name="includeIdentity">False writes <c>"identity": null</c>, as Kratos's admin list without <c>expand=identity</c>.</param>
    /// <param name="view">Public for whoami and my-sessions; Admin adds <c>metadata_admin</c>. Credentials are never written.</param>
    /// <param name="includeDevices">False writes <c>"devices": null</c> (Kratos leaves the slice unloaded).</param>
    public JsonObject ToNode(Session session, bool includeIdentity, IdentityView view, bool includeDevices = true)
    {
        var node = new JsonObject
        {
            ["id"] = session.Id.ToString(),
            ["active"] = IsActive(session, time.GetUtcNow().UtcDateTime),
            ["expires_at"] = GoTimeJsonConverter.Format(session.ExpiresAt),
            ["authenticated_at"] = GoTimeJsonConverter.Format(session.AuthenticatedAt),
            ["authenticator_assurance_level"] = session.Aal,
            ["authentication_methods"] = ParseMethods(session.AuthenticationMethods),
            ["issued_at"] = GoTimeJsonConverter.Format(session.IssuedAt),
        };
        if (includeIdentity && session.Identity is { } identity)
        {
            var identityNode = identities.ToNode(identity, view == IdentityView.Public ? IdentityView.Public : IdentityView.Admin);
            identityNode.Remove("credentials");
            node["identity"] = identityNode;
        }
        else
        {
            node["identity"] = null;
        }
        if (includeDevices)
        {
            var devices = new JsonArray();
            foreach (var d in session.Devices.OrderBy(d => d.CreatedAt).ThenBy(d => d.Id))
            {
                devices.Add(new JsonObject
                {
                    ["id"] = d.Id.ToString(),
                    ["ip_address"] = d.IpAddress,
                    ["user_agent"] = d.UserAgent,
                    ["location"] = d.Location,
                });
            }
            node["devices"] = devices;
        }
        else
        {
            node["devices"] = null;
        }
        return node;
    }

    public JsonArray ToArray(IEnumerable<Session> sessions, bool includeIdentity, IdentityView view, bool includeDevices = true)
    {
        var array = new JsonArray();
        foreach (var s in sessions) array.Add(ToNode(s, includeIdentity, view, includeDevices));
        return array;
    }

    /// <summary>Kratos's <c>IsActive()</c>: not revoked, not expired, and the identity (when loaded) is active.</summary>
    public static bool IsActive(Session session, DateTime now) =>
        session.Active && session.ExpiresAt > now && (session.Identity is null || session.Identity.State == IdentityStates.Active);

    /// <summary>The stored <c>authentication_methods</c> text, or an empty list when it is unreadable.</summary>
    public static JsonArray ParseMethods(string? stored)
    {
        if (string.IsNullOrEmpty(stored)) return [];
        try
        {
            return JsonNode.Parse(stored) as JsonArray ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    public static string SerializeMethods(JsonArray methods) => methods.ToJsonString(HttpJson.Options);

    public static JsonObject MethodNode(AuthenticationMethod method)
    {
        var node = new JsonObject
        {
            ["method"] = method.Method,
            ["aal"] = method.Aal,
            ["completed_at"] = GoTimeJsonConverter.Format(method.CompletedAt),
        };
        // Kratos's omitempty: only social sign-in names its provider, and its provider's acr and amr when it sent them.
        if (!string.IsNullOrEmpty(method.Provider)) node["provider"] = method.Provider;
        if (!string.IsNullOrEmpty(method.UpstreamAcr)) node["upstream_acr"] = method.UpstreamAcr;
        if (method.UpstreamAmr is { Count: > 0 } amr) node["upstream_amr"] = new JsonArray([.. amr.Select(a => (JsonNode?)JsonValue.Create(a))]);
        return node;
    }
}
