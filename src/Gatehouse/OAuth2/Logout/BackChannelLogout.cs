using System.Collections.Concurrent;
using Gatehouse.Http.Outbound;

namespace Gatehouse.OAuth2.Logout;

/// <summary>
/// OpenID Connect Back-Channel Logout 1.0 as Hydra sends it (<c>executeBackChannelLogout</c>): each client's
/// <c>logout_token</c> is POSTed form-encoded to its <c>backchannel_logout_uri</c> in the background, with a 30-second
/// limit and no redirects followed; 200 and 204 count as success. Failures are logged (client id and the URL without its
/// query — never the token) and never hold up or fail the user's logout.
/// </summary>
public sealed partial class BackChannelLogout(IHttpClientFactory httpClients, ILogger<BackChannelLogout> logger)
{
    public const string ClientName = "oauth2-backchannel-logout";

    /// <summary>Hydra's per-request limit.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>One logout token for one client.</summary>
    public sealed record Delivery(string ClientId, string Url, string LogoutToken);

    private readonly ConcurrentDictionary<Task, byte> _pending = new();

    /// <summary>Starts the deliveries and returns at once; the returned task completes when all of them have finished (for shutdown and tests).</summary>
    public Task Send(IEnumerable<Delivery> deliveries)
    {
        var tasks = new List<Task>();
        foreach (var delivery in deliveries)
        {
            var task = Task.Run(() => DeliverAsync(delivery));
            _pending.TryAdd(task, 0);
            _ = task.ContinueWith(t => _pending.TryRemove(t, out _), TaskScheduler.Default);
            tasks.Add(task);
        }
        return Task.WhenAll(tasks);
    }

    /// <summary>Completes when every delivery started so far has finished.</summary>
    public Task WhenIdleAsync() => Task.WhenAll(_pending.Keys);

    private async Task DeliverAsync(Delivery delivery)
    {
        LoggedUrl where = delivery.Url;
        try
        {
            using var cts = new CancellationTokenSource(Timeout);
            using var content = new FormUrlEncodedContent([new("logout_token", delivery.LogoutToken)]);
            using var response = await httpClients.CreateClient(ClientName).PostAsync(delivery.Url, content, cts.Token);
            if (response.StatusCode is System.Net.HttpStatusCode.OK or System.Net.HttpStatusCode.NoContent) LogDelivered(logger, delivery.ClientId, where);
            else LogRefused(logger, delivery.ClientId, where, (int)response.StatusCode);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or InvalidOperationException or UriFormatException or IOException)
        {
            LogFailed(logger, delivery.ClientId, where, e.GetBaseException().Message.ReplaceLineEndings(" "));
        }
    }

    /// <summary>The URL without query and fragment, which may carry secrets of the client's.</summary>
    [LoggerMessage(Level = LogLevel.Information, Message = "Back-channel logout delivered to client {ClientId} at {Url}")]
    private static partial void LogDelivered(ILogger logger, string clientId, LoggedUrl url);

    [LoggerMessage(Level = LogLevel.Error, Message = "Back-channel logout to client {ClientId} at {Url} failed: expected HTTP status 200 or 204 but got {Status}")]
    private static partial void LogRefused(ILogger logger, string clientId, LoggedUrl url, int status);

    [LoggerMessage(Level = LogLevel.Error, Message = "Back-channel logout to client {ClientId} at {Url} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string clientId, LoggedUrl url, string reason);
}
