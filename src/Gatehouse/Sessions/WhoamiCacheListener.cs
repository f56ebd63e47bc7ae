using Gatehouse.Persistence;
using Npgsql;

namespace Gatehouse.Sessions;

/// <summary>
/// On PostgreSQL, keeps one dedicated connection that <c>LISTEN</c>s on <see cref="Channel"/>, where triggers on the
/// session, device, identity and address tables announce (after commit) the session or identity id of every row
/// updated or deleted, by this or any other Gatehouse instance on the database, and invalidates those answers in
/// <see cref="WhoamiCache"/>. The cache is on only while this connection is up; a lost connection turns it off and
/// clears it, and it comes back (cleared again) once the connection is re-established, with back-off.
/// <para>
/// The same connection also listens on the channels of the other caches kept current this way
/// (<see cref="IChangeNotificationSubscriber"/>, e.g. the OAuth2 client cache), and tells them the same about the
/// connection.
/// </para>
/// </summary>
public sealed partial class WhoamiCacheListener(WhoamiCache cache, IEnumerable<IChangeNotificationSubscriber> others, Dsn dsn, ILogger<WhoamiCacheListener> logger) : BackgroundService
{
    /// <summary>The notification channel the migration's triggers send to; the payload is a session or identity id.</summary>
    public const string Channel = "gatehouse_session_changes";

    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly IChangeNotificationSubscriber[] _subscribers =
        [.. new IChangeNotificationSubscriber[] { new Whoami(cache) }.Concat(others).Where(s => s.ListenForChanges)];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_subscribers.Length == 0) return;
        var backoff = TimeSpan.FromMilliseconds(250);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is NpgsqlException or System.IO.IOException or System.Net.Sockets.SocketException or TimeoutException or InvalidOperationException)
            {
                // The message names the failure, never the connection string (it may hold a password).
                LogDisconnected(logger, ex.GetType().Name, ex.Message, backoff.TotalSeconds);
            }
            finally
            {
                foreach (var subscriber in _subscribers) subscriber.Disconnected();
            }
            try
            {
                await Task.Delay(backoff, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            backoff = backoff * 2 < MaxBackoff ? backoff * 2 : MaxBackoff;
        }
    }

    private async Task ListenAsync(CancellationToken ct)
    {
        var builder = new NpgsqlConnectionStringBuilder(dsn.ConnectionString)
        {
            // Its own physical connection (never a pooled one another request would reset), probed every 10 s so a
            // dead peer is noticed while waiting.
            Pooling = false,
            KeepAlive = 10,
            TcpKeepAlive = true,
        };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        connection.Notification += (_, e) =>
        {
            foreach (var subscriber in _subscribers)
            {
                if (subscriber.Channel == e.Channel) subscriber.Notified(e.Payload);
            }
        };
        await connection.OpenAsync(ct);
        foreach (var channel in _subscribers.Select(s => s.Channel).Distinct(StringComparer.Ordinal))
        {
            await using var listen = new NpgsqlCommand("LISTEN " + channel, connection);
            await listen.ExecuteNonQueryAsync(ct);
        }
        foreach (var subscriber in _subscribers) subscriber.Connected();
        LogListening(logger);
        while (true) await connection.WaitAsync(ct);
    }

    /// <summary>The whoami cache's own subscription.</summary>
    private sealed class Whoami(WhoamiCache cache) : IChangeNotificationSubscriber
    {
        public string Channel => WhoamiCacheListener.Channel;

        public bool ListenForChanges => cache.ListenForChanges;

        public void Connected() => cache.ListenerConnected();

        public void Disconnected() => cache.ListenerDisconnected();

        public void Notified(string payload)
        {
            if (Guid.TryParse(payload, out var id)) cache.Invalidate(id);
            else cache.InvalidateAll();
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "whoami and OAuth2 client caches: listening for changes")]
    private static partial void LogListening(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "whoami and OAuth2 client caches off: the change listener lost its database connection ({ErrorType}: {Error}); retrying in {Seconds} s")]
    private static partial void LogDisconnected(ILogger logger, string errorType, string error, double seconds);
}
