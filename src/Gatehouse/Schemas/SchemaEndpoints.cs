using System.Globalization;
using System.Text.Json.Nodes;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Json;

namespace Gatehouse.Schemas;

public static class SchemaEndpoints
{
    public const string Schemas = "/schemas";
    public const string SchemaById = "/schemas/{id}";

    public static RouteGroupBuilder MapSchemas(this RouteGroupBuilder group)
    {
        group.MapGet(Schemas, List);
        group.MapGet(SchemaById, Get);
        return group;
    }

    private static Task List(HttpContext http, IdentitySchemaRegistry registry)
    {
        // Page pagination as Kratos has it for schemas: page (1-based) + per_page, X-Total-Count.
        var q = http.Request.Query;
        var perPage = ParseInt(q, "per_page", 250, 1, 1000);
        var page = ParseInt(q, "page", 1, 1, int.MaxValue);
        var all = registry.All;
        var array = new JsonArray();
        foreach (var s in all.Skip((page - 1) * perPage).Take(perPage))
            array.Add(new JsonObject { ["id"] = s.Id, ["schema"] = JsonNode.Parse(s.RawSchema.ToJsonString()) });
        http.Response.Headers["X-Total-Count"] = all.Count.ToString(CultureInfo.InvariantCulture);
        return HttpJson.WriteAsync(http, 200, array);
    }

    private static Task Get(HttpContext http, string id, IdentitySchemaRegistry registry)
    {
        var schema = registry.Find(id) ?? throw GatehouseError.NotFound($"Identity schema `{id}` could not be found.");
        return HttpJson.WriteAsync(http, 200, schema.RawSchema);
    }

    private static int ParseInt(IQueryCollection q, string name, int fallback, int min, int max)
    {
        var raw = q[name].ToString();
        if (raw.Length == 0) return fallback;
        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < min)
            throw GatehouseError.BadRequest($"The {name} parameter must be an integer of at least {min}.");
        return Math.Min(v, max);
    }
}
