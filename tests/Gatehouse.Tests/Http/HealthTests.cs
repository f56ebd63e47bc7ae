using System.Net;
using Gatehouse.Config;
using Gatehouse.Schemas;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Http;

public sealed class HealthTests
{
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Ready_is_503_while_the_database_is_not_usable_but_alive_stays_200(string db)
    {
        var options = new GatehouseOptions { Dsn = await Db.NewDsnAsync(db) };
        options.Serve.Public.Port = TestServer.FreePort();
        options.Serve.Admin.Port = TestServer.FreePort();
        options.Log.Level = "error";
        using var http = new HttpClient();
        var schemas = await IdentitySchemaRegistry.LoadAsync(options.Identity, http, null, CancellationToken.None);
        await using var app = GatehouseApp.Build(options, schemas);
        await app.StartAsync();
        try
        {
            // Not migrated: the identities table does not exist yet.
            var ready = await http.GetAsync($"http://127.0.0.1:{options.Serve.Public.Port}/health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Contains("database", await ready.Content.ReadAsStringAsync());
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{options.Serve.Admin.Port}/health/alive")).StatusCode);
        }
        finally
        {
            await app.StopAsync();
        }
    }
}
