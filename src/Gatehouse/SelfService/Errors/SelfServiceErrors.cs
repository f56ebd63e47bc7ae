using System.Text.Json.Nodes;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Json;
using Gatehouse.SelfService.Flows;
using Microsoft.AspNetCore.WebUtilities;

namespace Gatehouse.SelfService.Errors;

/// <summary>
/// The stored self-service errors (Kratos's <c>errorx</c>): errors forwarded to the error UI are stored here and read
/// back by id, by <c>GET /self-service/errors</c> and by the built-in error page alike.
/// </summary>
public sealed class SelfServiceErrors(ISelfServiceErrorStore store, FlowService flows, TimeProvider time)
{
    /// <summary>The id that answers Kratos's stub error (<c>?id=stub:500</c>), for building an error UI.</summary>
    public const string Stub500 = "stub:500";

    /// <summary>Stores the error (its envelope's inner object, without sibling fields) and returns the new id.</summary>
    public async Task<Guid> CreateAsync(GatehouseError error, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(error);
        var now = Now();
        var record = new SelfServiceError
        {
            Id = Guid.CreateVersion7(),
            Errors = error.ToErrorObject().ToJsonString(HttpJson.Options),
            CreatedAt = now,
            UpdatedAt = now,
        };
        await store.InsertAsync(record, ct);
        return record.Id;
    }

    /// <summary>
    /// The stored error as Kratos's <c>flowError</c> (<c>id, error, created_at, updated_at</c>), marking it seen; the stub
    /// for <see cref="Stub500"/>; null for anything else (a malformed id included: Kratos looks up the nil UUID then).
    /// </summary>
    public async Task<JsonObject?> FindAsync(string id, CancellationToken ct)
    {
        if (id == Stub500) return Container(Guid.CreateVersion7(), StubError().ToErrorObject(), DateTime.MinValue, DateTime.MinValue);
        if (!Guid.TryParse(id, out var guid)) return null;
        var record = await store.ReadAndMarkSeenAsync(guid, Now(), ct);
        if (record is null) return null;
        return Container(record.Id, JsonNode.Parse(record.Errors), record.CreatedAt, record.UpdatedAt);
    }

    /// <summary><c>GET /self-service/errors?id=</c> (also <c>?error=</c>, Kratos's older name): 200 flowError, else 404.</summary>
    public async Task GetAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var q = http.Request.Query;
        var id = q["error"].ToString() is { Length: > 0 } legacy ? legacy : q["id"].ToString();
        var container = await FindAsync(id, http.RequestAborted)
            ?? throw new GatehouseError(404, message: "Unable to locate the resource");
        await HttpJson.WriteAsync(http, 200, container);
    }

    /// <summary>Where the error UI is: <c>selfservice.flows.error.ui_url</c>, else the built-in page (or Kratos's fallback without it), with <c>?id=</c>.</summary>
    public string UiUrlFor(Guid id)
    {
        var ui = flows.UiUrl(FlowService.ErrorUi);
        // As Kratos's urlx.CopyWithQuery: the configured URL's own query stays, its id (if any) is replaced.
        var uri = new Uri(ui, UriKind.Absolute);
        var query = QueryHelpers.ParseQuery(uri.Query);
        query["id"] = id.ToString();
        var builder = new UriBuilder(uri) { Query = QueryString.Create(query).ToUriComponent().TrimStart('?') };
        return builder.Uri.AbsoluteUri;
    }

    /// <summary>Kratos's stub: <c>herodot.ErrInternalServerError().WithReasonf("This is a stub error.")</c>.</summary>
    public static GatehouseError StubError() => new(500, "This is a stub error.");

    private static JsonObject Container(Guid id, JsonNode? error, DateTime createdAt, DateTime updatedAt) => new()
    {
        ["id"] = id.ToString(),
        ["error"] = error,
        ["created_at"] = GoTimeJsonConverter.Format(createdAt),
        ["updated_at"] = GoTimeJsonConverter.Format(updatedAt),
    };

    private DateTime Now()
    {
        var t = time.GetUtcNow().UtcDateTime;
        // Microseconds, as both databases keep them.
        return new DateTime(t.Ticks - (t.Ticks % 10), DateTimeKind.Utc);
    }
}
