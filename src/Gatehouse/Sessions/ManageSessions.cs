using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Json;
using Gatehouse.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Sessions;

/// <summary>
/// <c>POST /admin/sessions</c> (Kratos's <c>manageSessions</c>): disable or delete the sessions of a list of
/// identities, a list of sessions, or — <c>identities: ["*"]</c> — every session, 5,000 per call with
/// <c>more: true</c> until none are left. Answers <c>{processed, more}</c>; bad bodies get Kratos's 400 reasons.
/// </summary>
public static class ManageSessions
{
    /// <summary>Explicit ids accepted per call (Kratos's <c>ManageSessionsMaxIDs</c>).</summary>
    public const int MaxIds = 500;

    /// <summary>Sessions one wildcard call handles (Kratos's <c>manageSessionsWildcardBatchSize</c>).</summary>
    public const int WildcardBatch = 5000;

    private const string Wildcard = "*";

    public static async Task HandleAsync(HttpContext http, GatehouseDbContext db, SessionManager sessions, WhoamiCache whoami)
    {
        ArgumentNullException.ThrowIfNull(http);
        var ct = http.RequestAborted;
        var body = await ReadAsync(http.Request, ct);
        var action = body.Action;
        if (action is not ("disable" or "delete"))
            throw GatehouseError.BadRequest("The 'action' field must be one of 'disable' or 'delete'.");
        var byIdentities = body.Identities is { Count: > 0 };
        if (byIdentities == body.Sessions is { Count: > 0 })
            throw GatehouseError.BadRequest("Exactly one of 'identities' or 'sessions' must be a non-empty array.");

        var disable = action == "disable";
        int processed;
        var more = false;
        if (byIdentities && body.Identities is [Wildcard])
        {
            // One bounded batch of every session of the network; the caller repeats while more is true.
            var batch = db.Sessions.Where(s => !disable || s.Active).Select(s => s.Id).Take(WildcardBatch);
            processed = await sessions.DisableOrDeleteAsync(db.Sessions.Where(s => batch.Contains(s.Id)), disable, ct);
            whoami.InvalidateAll();
            more = processed == WildcardBatch;
        }
        else
        {
            // Session and identity ids are both UUIDv7s: one invalidation per given id covers either list.
            var ids = byIdentities ? ParseIds(body.Identities!, "identities") : ParseIds(body.Sessions!, "sessions");
            processed = await sessions.DisableOrDeleteAsync(
                byIdentities ? db.Sessions.Where(s => ids.Contains(s.IdentityId)) : db.Sessions.Where(s => ids.Contains(s.Id)), disable, ct);
            foreach (var id in ids) whoami.Invalidate(id);
        }
        await HttpJson.WriteAsync(http, 200, new JsonObject { ["processed"] = processed, ["more"] = more });
    }

    private sealed record Body(string? Action, List<string>? Identities, List<string>? Sessions);

    /// <summary>The body as Go's JSON decoder reads it: unknown fields ignored, a wrong type is "Invalid JSON body.".</summary>
    private static async Task<Body> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        try
        {
            var node = await HttpJson.ParseBodyAsync(request, ct);
            if (node is not JsonObject o) throw new JsonException(node is null ? "the body is empty or null" : $"cannot unmarshal {node.GetValueKind().ToString().ToLowerInvariant()} into the request body");
            return new Body(Text(o, "action"), Strings(o, "identities"), Strings(o, "sessions"));
        }
        catch (JsonException ex)
        {
            throw new GatehouseError(400, "Invalid JSON body.", message: ex.Message);
        }
    }

    private static string? Text(JsonObject o, string name) => o[name] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => throw new JsonException($"the field '{name}' must be a string"),
    };

    private static List<string>? Strings(JsonObject o, string name) => o[name] switch
    {
        null => null,
        JsonArray a => [.. a.Select(e => e is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : throw new JsonException($"the field '{name}' must be an array of strings"))],
        _ => throw new JsonException($"the field '{name}' must be an array of strings"),
    };

    private static List<Guid> ParseIds(List<string> raw, string field)
    {
        string? problem = null;
        var ids = new List<Guid>(raw.Count);
        if (raw.Count > MaxIds) problem = $"at most {MaxIds} IDs may be provided per call";
        else
        {
            foreach (var s in raw)
            {
                if (s == Wildcard)
                {
                    problem = "the wildcard '*' is not accepted here";
                    break;
                }
                if (!Guid.TryParse(s, out var id))
                {
                    problem = $"could not parse \"{s}\" as UUID";
                    break;
                }
                ids.Add(id);
            }
        }
        return problem is null ? ids : throw GatehouseError.BadRequest($"Could not parse '{field}' field: {problem}");
    }
}
