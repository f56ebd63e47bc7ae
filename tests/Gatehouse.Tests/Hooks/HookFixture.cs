using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.SelfService;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Hooks;

/// <summary>One hook receiver for a test class, and Gatehouse servers (per provider and scenario) configured to call it.</summary>
public sealed class HookFixture : IAsyncDisposable
{
    private readonly Lazy<Task<HookReceiver>> _receiver = new(HookReceiver.StartAsync);
    private readonly ConcurrentDictionary<string, Lazy<Task<TestServer>>> _servers = new();

    public Task<HookReceiver> Receiver => _receiver.Value;

    /// <summary>Every log line of the fixture's servers, at the level each server's <c>log.level</c> lets through.</summary>
    public LogCapture Logs { get; } = new();

    /// <summary>The server for a scenario; <paramref name="configure"/> runs once, on top of the flow tests' settings.</summary>
    public Task<TestServer> Get(string provider, string scenario, Action<GatehouseOptions, HookReceiver> configure) =>
        _servers.GetOrAdd(provider + "/" + scenario, _ => new Lazy<Task<TestServer>>(async () =>
        {
            var receiver = await Receiver;
            return await TestServer.StartAsync(provider, o =>
            {
                FlowServerFixture.Configure(o);
                configure(o, receiver);
            }, services => services.AddSingleton<ILoggerProvider>(Logs));
        })).Value;

    /// <summary>A <c>base64://</c> body template location.</summary>
    public static string Base64(string jsonnet) => "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(jsonnet));

    /// <summary>A <c>web_hook</c> entry.</summary>
    public static HookConfig WebHook(JsonObject config) => new() { Hook = "web_hook", Config = config };

    public static HookConfig Hook(string name) => new() { Hook = name };

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _servers.Values)
        {
            if (s.IsValueCreated && s.Value.IsCompletedSuccessfully) await s.Value.Result.DisposeAsync();
        }
        if (_receiver.IsValueCreated && _receiver.Value.IsCompletedSuccessfully) await _receiver.Value.Result.DisposeAsync();
    }
}
