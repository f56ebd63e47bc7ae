using Gatehouse.Persistence;
using Npgsql;

namespace Gatehouse.Sessions;

/// <summary>
/// On PostgreSQL, keeps one dedicated connection that <c>LISTEN</c>s on <see cref="Channel"/>, where triggers on the
/// session, device, identity and address tables announce (after commit) the session or identity id of every row
/// updated or deleted, by this or any other Gatehouse instance on the database, and invalidates those answers in
/// <see cref="WhoamiCache"/>. The cache is on only while this connection is up; a lost connection turns it off and
/// clears it, and it comes back (cleared again) once the connection is re-established, with back-off.
/// </summary>
public sealed partial class WhoamiCacheListener(WhoamiCache cache, Dsn dsn, ILogger<WhoamiCacheListener> logger) : BackgroundService
{
    /// <summary>The notification channel the migration's triggers send to; the payload is a session or identity id.</summary>
    public const string Channel = "gatehouse_session_changes";

    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!cache.ListenForChanges) return;
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
                cache.ListenerDisconnected();
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
        connection.Notification += (_, e) => OnNotification(e.Payload);
        await connection.OpenAsync(ct);
        await using (var listen = new NpgsqlCommand("LISTEN " + Channel, connection))
        {
            await listen.ExecuteNonQueryAsync(ct);
        }
        cache.ListenerConnected();
        LogListening(logger);
        while (true) await connection.WaitAsync(ct);
    }

    private void OnNotification(string payload)
    {
        if (Guid.TryParse(payload, out var id)) cache.Invalidate(id);
        else cache.InvalidateAll();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "whoami cache: listening for session changes")]
    private static partial void LogListening(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "whoami cache off: the change listener lost its database connection ({ErrorType}: {Error}); retrying in {Seconds} s")]
    private static partial void LogDisconnected(ILogger logger, string errorType, string error, double seconds);
}
