using System.Reflection;
using System.Text.Json.Nodes;
using Gatehouse.Http.Json;
using Gatehouse.Persistence;

namespace Gatehouse.Http.Health;

public static class HealthEndpoints
{
    public const string Alive = "/health/alive";
    public const string Ready = "/health/ready";
    public const string Version = "/version";

    /// <summary>The assembly's informational version: <c>0.1.0</c>, followed by <c>+&lt;commit&gt;</c> when the build knew its commit.</summary>
    public static string InformationalVersion { get; } =
        typeof(HealthEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    public static string CurrentVersion { get; } = "v" + InformationalVersion.Split('+')[0];

    /// <summary>Maps health and version on a group (the root on the public listener, <c>/admin</c> on the admin listener).</summary>
    public static RouteGroupBuilder MapHealth(this RouteGroupBuilder group)
    {
        group.MapGet(Alive, (HttpContext http) => HttpJson.WriteAsync(http, 200, new JsonObject { ["status"] = "ok" }));
        group.MapGet(Ready, async (HttpContext http, DatabaseMigrator db) =>
        {
            if (await db.CanConnectAsync(http.RequestAborted))
                await HttpJson.WriteAsync(http, 200, new JsonObject { ["status"] = "ok" });
            else
                await HttpJson.WriteAsync(http, 503, new JsonObject { ["errors"] = new JsonObject { ["database"] = "the database is not reachable or not migrated" } });
        });
        group.MapGet(Version, (HttpContext http) => HttpJson.WriteAsync(http, 200, new JsonObject { ["version"] = CurrentVersion }));
        return group;
    }

    public const string ConfigRevision = "/health/config";

    /// <summary>
    /// Kratos's <c>/admin/health/config</c> (<c>driver/config/handler.go</c>): <c>text/plain</c>, the configuration's
    /// <c>revision</c> when set, otherwise the SHA-256 (hex) of the loaded configuration, so a deploy can check which
    /// configuration a running server has. An admin route here (behind the API key where the admin API needs one).
    /// </summary>
    public static RouteGroupBuilder MapConfigRevision(this RouteGroupBuilder adminApi)
    {
        adminApi.MapGet(ConfigRevision, (HttpContext http, Gatehouse.Config.GatehouseOptions options) =>
        {
            http.Response.ContentType = "text/plain";
            return http.Response.WriteAsync(string.IsNullOrEmpty(options.Revision) ? options.ConfigHash : options.Revision, http.RequestAborted);
        });
        return adminApi;
    }
}
