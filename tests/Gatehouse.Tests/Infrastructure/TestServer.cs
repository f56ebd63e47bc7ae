using System.Net;
using Microsoft.AspNetCore.Hosting;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Gatehouse.ApiKeys;
using Gatehouse.Config;
using Gatehouse.Persistence;
using Gatehouse.Schemas;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>
/// A real Gatehouse in-process: both listeners on free loopback ports, a fresh migrated database of the given
/// provider, and an admin API key. Clients: <see cref="Public"/>, <see cref="Admin"/> (no key) and
/// <see cref="AdminWithKey"/>/<see cref="PublicWithKey"/>.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestServer(WebApplication app, GatehouseOptions options, string apiKey)
    {
        _app = app;
        Options = options;
        ApiKey = apiKey;
        PublicUrl = $"http://127.0.0.1:{options.Serve.Public.Port}";
        AdminUrl = $"http://127.0.0.1:{options.Serve.Admin.Port}";
        Public = new HttpClient { BaseAddress = new Uri(PublicUrl) };
        Admin = new HttpClient { BaseAddress = new Uri(AdminUrl) };
        AdminWithKey = new HttpClient { BaseAddress = new Uri(AdminUrl) };
        AdminWithKey.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        PublicWithKey = new HttpClient { BaseAddress = new Uri(PublicUrl) };
        PublicWithKey.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
    }

    public GatehouseOptions Options { get; }
    public string ApiKey { get; }
    public string PublicUrl { get; }
    public string AdminUrl { get; }
    public HttpClient Public { get; }
    public HttpClient Admin { get; }
    public HttpClient AdminWithKey { get; }
    public HttpClient PublicWithKey { get; }
    public IServiceProvider Services => _app.Services;

    /// <summary>
    /// The whoami cache, once it is on: on PostgreSQL it turns on only when its change listener has connected, which
    /// happens in the background after start (waited for up to 15 s; the test fails if it does not come on).
    /// </summary>
    public async Task<Gatehouse.Sessions.WhoamiCache> WhoamiCacheOnAsync()
    {
        var cache = Services.GetRequiredService<Gatehouse.Sessions.WhoamiCache>();
        await Eventually.AssertAsync(() => cache.Enabled, TimeSpan.FromSeconds(15), "the whoami cache did not come on");
        return cache;
    }

    public static async Task<TestServer> StartAsync(string provider, Action<GatehouseOptions>? configure = null, Action<IServiceCollection>? configureServices = null)
    {
        var dsn = await Db.NewMigratedDsnAsync(provider);
        return await PortClash.RetryAsync(() => StartOnFreePortsAsync(dsn, configure, configureServices));
    }

    private static async Task<TestServer> StartOnFreePortsAsync(string dsn, Action<GatehouseOptions>? configure, Action<IServiceCollection>? configureServices)
    {
        var options = new GatehouseOptions { Dsn = dsn, Dev = false };
        options.Serve.Public.Port = FreePort();
        options.Serve.Admin.Port = FreePort();
        options.Serve.Public.BaseUrl = $"http://127.0.0.1:{options.Serve.Public.Port}/";
        options.Serve.Admin.BaseUrl = $"http://127.0.0.1:{options.Serve.Admin.Port}/";
        options.Hashers.Bcrypt.Cost = 4;
        options.Log.Level = "warning";
        // Outside --dev cookies are Secure (as in Kratos), and .NET's CookieContainer never sends Secure cookies over
        // plain http, so the cookie-keeping test browsers need them relaxed; CookieSecurityTests covers the default.
        options.Cookies.Secure = false;
        options.Identity.Schemas = [.. TestSchemas.All];
        options.Identity.DefaultSchemaId = "default";
        configure?.Invoke(options);

        using var http = new HttpClient();
        var schemas = await IdentitySchemaRegistry.LoadAsync(options.Identity, http, AppContext.BaseDirectory, CancellationToken.None);
        var app = GatehouseApp.Build(options, schemas, services =>
        {
            services.AddSingleton<IStartupFilter, SlowRequestLog>();
            configureServices?.Invoke(services);
        });
        await app.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync();
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        string key;
        await using (var scope = app.Services.CreateAsyncScope())
        {
            key = (await scope.ServiceProvider.GetRequiredService<ApiKeyService>().CreateAsync("tests", CancellationToken.None)).Secret;
        }
        return new TestServer(app, options, key);
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        Public.Dispose();
        Admin.Dispose();
        AdminWithKey.Dispose();
        PublicWithKey.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>One started server per provider, shared by the tests of a class (each test uses its own identifiers).</summary>
public sealed class ServerFixture : IAsyncDisposable
{
    private readonly Dictionary<string, Task<TestServer>> _servers = [];
    private readonly Lock _lock = new();

    public Task<TestServer> Get(string provider)
    {
        lock (_lock)
        {
            if (!_servers.TryGetValue(provider, out var server))
            {
                server = TestServer.StartAsync(provider);
                _servers[provider] = server;
            }
            return server;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _servers.Values)
        {
            if (s.IsCompletedSuccessfully) await s.Result.DisposeAsync();
        }
    }
}
