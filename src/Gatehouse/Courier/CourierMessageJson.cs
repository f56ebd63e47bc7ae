using System.Text.Json.Nodes;
using Gatehouse.Http.Json;

namespace Gatehouse.Courier;

/// <summary>Kratos's <c>message</c> wire shape (api.json), with its <c>dispatches</c>.</summary>
public static class CourierMessageJson
{
    /// <summary>What Kratos shows instead of a message's <c>body</c> and <c>subject</c> outside dev mode.</summary>
    public const string Redacted = "<redacted-unless-dev-mode>";

    /// <param name="m">The message with its dispatches.</param>
    /// <param name="redact">Replace <c>body</c> and <c>subject</c> by <see cref="Redacted"/> (everything but <c>--dev</c>).</param>
    public static JsonObject Serialize(CourierMessage m, bool redact)
    {
        ArgumentNullException.ThrowIfNull(m);
        var dispatches = new JsonArray();
        foreach (var d in m.Dispatches.OrderBy(d => d.CreatedAt).ThenBy(d => d.Id))
        {
            var o = new JsonObject
            {
                ["id"] = d.Id.ToString(),
                ["message_id"] = d.MessageId.ToString(),
                ["status"] = d.Status,
            };
            // Kratos's dispatch error is raw JSON: an object for a failed attempt, absent on success.
            if (d.Error is not null) o["error"] = JsonNode.Parse(d.Error);
            o["created_at"] = GoTimeJsonConverter.Format(d.CreatedAt);
            o["updated_at"] = GoTimeJsonConverter.Format(d.UpdatedAt);
            dispatches.Add(o);
        }
        return new JsonObject
        {
            ["id"] = m.Id.ToString(),
            ["status"] = m.Status,
            ["type"] = m.Type,
            ["recipient"] = m.Recipient,
            ["body"] = redact ? Redacted : m.Body,
            ["subject"] = redact ? Redacted : m.Subject,
            ["template_type"] = m.TemplateType,
            ["channel"] = m.Channel,
            ["send_count"] = m.SendCount,
            ["dispatches"] = dispatches,
            ["created_at"] = GoTimeJsonConverter.Format(m.CreatedAt),
            ["updated_at"] = GoTimeJsonConverter.Format(m.UpdatedAt),
        };
    }
}
