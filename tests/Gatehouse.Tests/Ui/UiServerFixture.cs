using Gatehouse.Config;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Ui;

/// <summary>
/// A server for the UI tests, configured like a fresh install plus the quickstart's session hook: no return URL
/// configured (so the welcome page is the default), profile-first registration, verification and recovery on.
/// </summary>
public sealed class UiServerFixture : IAsyncDisposable
{
    private readonly Lazy<Task<TestServer>> _server = new(() => TestServer.StartAsync(Db.Sqlite, Configure));

    public static void Configure(GatehouseOptions o)
    {
        o.Selfservice.Flows.Registration.After.Password = new FlowAfterMethodOptions { Hooks = [new HookConfig { Hook = "session" }] };
        o.Selfservice.Flows.Verification.Enabled = true;
        o.Selfservice.Flows.Recovery.Enabled = true;
        o.Selfservice.Methods.Password.Config.HaveibeenpwnedEnabled = false;
        o.Secrets.Cookie = ["a-test-cookie-secret-32-chars-!!"];
    }

    public Task<TestServer> Server() => _server.Value;

    public async ValueTask DisposeAsync()
    {
        if (_server.IsValueCreated && _server.Value.IsCompletedSuccessfully) await _server.Value.Result.DisposeAsync();
    }
}
