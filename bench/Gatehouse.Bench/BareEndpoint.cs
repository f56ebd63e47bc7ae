using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Bench;

/// <summary>
/// The whoami ceiling: a bare ASP.NET Core (Kestrel, minimal API) endpoint that answers every request with a small
/// constant JSON, no database and no logging. It runs from this program (<c>Gatehouse.Bench bare-endpoint PORT</c>) in
/// its own process, with server GC like <c>gatehouse serve</c>, so that its CPU time can be read separately and the
/// load driver does not share its thread pool.
/// </summary>
internal sealed class BareEndpoint : IAsyncDisposable
{
    public const string Path = "/sessions/whoami";
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"id":"0193c9c2-8b4c-7d2e-9a55-2f1e4a6b7c8d","active":true,"authenticator_assurance_level":"aal1"}""");

    private readonly Process _process;

    private BareEndpoint(Process process, Uri url)
    {
        _process = process;
        Url = url;
    }

    public Uri Url { get; }
    public int Pid => _process.Id;

    public static async Task<BareEndpoint> StartAsync(string work)
    {
        var port = GatehouseProcess.FreePort();
        var start = new ProcessStartInfo("dotnet", [typeof(BareEndpoint).Assembly.Location, "bare-endpoint", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        start.Environment["DOTNET_gcServer"] = "1";
        var log = System.IO.Path.Combine(work, "bare.log");
        var process = GatehouseProcess.StartLogged(start, log);
        var url = new Uri($"http://127.0.0.1:{port}/");
        await GatehouseProcess.WaitReadyAsync(process, new Uri(url, Path.TrimStart('/')), log);
        return new BareEndpoint(process, url);
    }

    /// <summary>The server side, run in the child process.</summary>
    public static async Task RunAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port));
        var app = builder.Build();
        app.MapMethods(Path, ["GET", "POST"], async (HttpContext http) =>
        {
            http.Response.ContentType = "application/json; charset=utf-8";
            http.Response.ContentLength = Body.Length;
            await http.Response.Body.WriteAsync(Body);
        });
        await app.RunAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
