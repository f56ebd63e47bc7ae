using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Hooks;

/// <summary>One request a <see cref="HookReceiver"/> got.</summary>
public sealed record ReceivedHook(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body, string Query = "");

/// <summary>
/// A web hook receiver on loopback: a small Kestrel app that records every request and answers with the handler
/// registered for its path (status, JSON body, optional delay).
/// </summary>
public sealed class HookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Func<ReceivedHook, CancellationToken, Task<(int Status, string? Body)>>> _handlers = new();
    private readonly ConcurrentQueue<ReceivedHook> _received = new();

    private HookReceiver(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    public static Task<HookReceiver> StartAsync() => StartAsync(null);

    /// <param name="certificate">Serve HTTPS with this certificate (its key included) instead of HTTP.</param>
    public static async Task<HookReceiver> StartAsync(System.Security.Cryptography.X509Certificates.X509Certificate2? certificate)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen =>
        {
            if (certificate is not null) listen.UseHttps(certificate);
        }));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new HookReceiver(app);
        app.Run(receiver.HandleAsync);
        await app.StartAsync();
        receiver.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().Replace("[::1]", "127.0.0.1", StringComparison.Ordinal);
        return receiver;
    }

    /// <summary>Answers requests to <paramref name="path"/> with <paramref name="handler"/>; returns the full URL.</summary>
    public string On(string path, Func<ReceivedHook, CancellationToken, Task<(int Status, string? Body)>> handler)
    {
        _handlers[path] = handler;
        return BaseUrl + path;
    }

    public string On(string path, int status, string? body = null) => On(path, (_, _) => Task.FromResult((status, body)));

    private readonly ConcurrentDictionary<string, string> _locations = new();

    /// <summary>Answers requests to <paramref name="path"/> with a redirect (<paramref name="status"/>, <c>Location: </c><paramref name="location"/>).</summary>
    public string Redirect(string path, int status, string location)
    {
        _locations[path] = location;
        return On(path, status);
    }

    public IReadOnlyList<ReceivedHook> Received(string path) => [.. _received.Where(r => r.Path == path)];

    /// <summary>Waits until a request to <paramref name="path"/> matching <paramref name="match"/> arrived.</summary>
    public async Task<ReceivedHook> WaitForAsync(string path, Func<ReceivedHook, bool> match, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            if (_received.FirstOrDefault(r => r.Path == path && match(r)) is { } hit) return hit;
            await Task.Delay(25);
        }
        throw new TimeoutException($"no request to {path} within {timeout}");
    }

    private async Task HandleAsync(HttpContext http)
    {
        using var reader = new StreamReader(http.Request.Body);
        var body = await reader.ReadToEndAsync(http.RequestAborted);
        var headers = http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var request = new ReceivedHook(http.Request.Method, http.Request.Path.Value ?? "", headers, body, http.Request.QueryString.Value ?? "");
        _received.Enqueue(request);
        if (!_handlers.TryGetValue(request.Path, out var handler))
        {
            http.Response.StatusCode = 404;
            return;
        }
        try
        {
            var (status, answer) = await handler(request, http.RequestAborted);
            http.Response.StatusCode = status;
            if (_locations.TryGetValue(request.Path, out var location)) http.Response.Headers.Location = location;
            if (answer is not null)
            {
                http.Response.ContentType = "application/json";
                await http.Response.WriteAsync(answer, http.RequestAborted);
            }
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The caller gave up (a time-out test); nothing to answer.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
