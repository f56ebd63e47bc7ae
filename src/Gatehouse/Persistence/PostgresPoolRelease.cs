using Npgsql;

namespace Gatehouse.Persistence;

/// <summary>
/// Closes this server's idle PostgreSQL connections when it is disposed. Npgsql keeps a pool per connection string for
/// the life of the process and closes idle connections only after <c>Connection Idle Lifetime</c> (300 s by default),
/// so a server that stops while its process goes on (an embedding host, the test suite's hundreds of servers) would
/// otherwise leave them open and count against the database's <c>max_connections</c>. Connections still in use are
/// closed when they are returned; a new open starts a fresh pool.
/// </summary>
public sealed class PostgresPoolRelease(Dsn dsn) : IHostedService, IDisposable
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        using var connection = new NpgsqlConnection(dsn.ConnectionString);
        NpgsqlConnection.ClearPool(connection);
    }
}
