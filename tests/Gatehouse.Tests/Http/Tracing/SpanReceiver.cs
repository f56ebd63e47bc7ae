using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Http.Tracing;

/// <summary>One export a <see cref="SpanReceiver"/> got: its path, headers and raw body (OTLP bodies are protobuf).</summary>
public sealed record ReceivedExport(string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public bool Contains(ReadOnlySpan<byte> bytes) => Body.AsSpan().IndexOf(bytes) >= 0;

    public bool Contains(string text) => Contains(System.Text.Encoding.UTF8.GetBytes(text));
}

/// <summary>
/// A trace collector on loopback: a small Kestrel app that keeps every POST's bytes and answers 200 — or, to play a
/// collector that refuses, the status it was started with.
/// </summary>
public sealed class SpanReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedExport> _received = new();

    private readonly int _status;

    private SpanReceiver(WebApplication app, int status)
    {
        _app = app;
        _status = status;
    }

    /// <summary><c>127.0.0.1:port</c>, the form <c>tracing.providers.otlp.server_url</c> takes.</summary>
    public string HostPort { get; private set; } = "";

    public IReadOnlyList<ReceivedExport> Received => [.. _received];

    public static async Task<SpanReceiver> StartAsync(int status = 200)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new SpanReceiver(app, status);
        app.Run(receiver.HandleAsync);
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        receiver.HostPort = $"127.0.0.1:{address.Port}";
        return receiver;
    }

    private async Task HandleAsync(HttpContext http)
    {
        using var body = new MemoryStream();
        await http.Request.Body.CopyToAsync(body, http.RequestAborted);
        var headers = http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        _received.Enqueue(new ReceivedExport(http.Request.Path.Value ?? "", headers, body.ToArray()));
        http.Response.StatusCode = _status;
        if (_status == 200 && http.Request.Path.StartsWithSegments("/v1/traces"))
        {
            // An empty ExportTraceServiceResponse.
            http.Response.ContentType = "application/x-protobuf";
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
