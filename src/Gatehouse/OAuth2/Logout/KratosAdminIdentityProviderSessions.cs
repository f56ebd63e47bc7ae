using System.Collections.Concurrent;
using Gatehouse.Config;
using Gatehouse.Http.Outbound;

namespace Gatehouse.OAuth2.Logout;

/// <summary>
/// <c>urls.identity_provider.url</c>: an external Ory Kratos, whose session Hydra v26.2 ends through Kratos's admin API
/// (<c>internal/kratos/kratos.go</c> <c>DisableSession</c>, kratos-client-go <c>IdentityAPI.DisableSession</c>):
/// <c>DELETE {url}/admin/sessions/{id}</c> with the <c>urls.identity_provider.headers</c> set on the request (ory/x
/// <c>httpx.WrapTransportWithHeader</c>), over Hydra's outgoing client (<c>driver/registry_sql.go</c> <c>HTTPClient</c>:
/// 30 s, <c>clients.http.disallow_private_ip_ranges</c>, redirects followed).
/// </summary>
/// <remarks>
/// As Hydra (<c>consent/strategy_default.go</c> <c>performBackChannelLogoutAndDeleteSession</c>), the call runs in the
/// background, detached from the request, and its failure — Kratos unreachable or answering anything but 2xx — is only
/// logged at error level ("Unable to revoke session in Ory Kratos.", with <c>sid</c> and <c>kratos-sid</c>): the logout
/// has succeeded either way. Hydra's resilient client also retries a refused connection or a 5xx answer twice; Gatehouse
/// calls once.
/// </remarks>
public sealed partial class KratosAdminIdentityProviderSessions(IHttpClientFactory httpClients, GatehouseOptions options, ILogger<KratosAdminIdentityProviderSessions> logger)
    : IIdentityProviderSessions
{
    public const string ClientName = "identity_provider";

    /// <summary>Hydra's <c>ResilientClientWithConnectionTimeout(30 * time.Second)</c>.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public const string SessionsPath = "/admin/sessions/";

    private readonly ConcurrentDictionary<Task, byte> _pending = new();

    /// <summary>Starts the call and returns at once (Hydra's goroutine).</summary>
    public Task DisableSessionAsync(string identityProviderSessionId, string sid, CancellationToken ct)
    {
        var task = Task.Run(() => SendAsync(identityProviderSessionId, sid), CancellationToken.None);
        _pending.TryAdd(task, 0);
        _ = task.ContinueWith(t => _pending.TryRemove(t, out _), TaskScheduler.Default);
        return Task.CompletedTask;
    }

    /// <summary>Completes when every call started so far has finished (for shutdown and tests).</summary>
    public Task WhenIdleAsync() => Task.WhenAll(_pending.Keys);

    private async Task SendAsync(string kratosSid, string sid)
    {
        try
        {
            var url = options.Urls.IdentityProvider.Url!.TrimEnd('/') + SessionsPath + Uri.EscapeDataString(kratosSid);
            using var request = new HttpRequestMessage(HttpMethod.Delete, url);
            request.Headers.Accept.ParseAdd("application/json");
            ConfiguredHeaders.Set(request, options.Urls.IdentityProvider.Headers);
            using var cts = new CancellationTokenSource(Timeout);
            using var client = httpClients.CreateClient(ClientName);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
            var status = (int)response.StatusCode;
            if (status is >= 200 and < 300) LogEnded(logger, sid, kratosSid);
            else LogFailed(logger, sid, kratosSid, $"Kratos answered {status}");
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or InvalidOperationException or UriFormatException or IOException)
        {
            LogFailed(logger, sid, kratosSid, e.GetBaseException().Message.ReplaceLineEndings(" "));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The Ory Kratos session {KratosSid} behind OAuth2 login session {Sid} was revoked")]
    private static partial void LogEnded(ILogger logger, string sid, string kratosSid);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unable to revoke session in Ory Kratos. sid={Sid} kratos-sid={KratosSid}: {Reason}")]
    private static partial void LogFailed(ILogger logger, string sid, string kratosSid, string reason);
}
