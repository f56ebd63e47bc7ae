using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Gatehouse.Persistence;

public static class DbErrors
{
    /// <summary>True when a save failed on a unique index (SQLite constraint 2067/1555, PostgreSQL 23505).</summary>
    public static bool IsUniqueViolation(DbUpdateException ex) => ex.InnerException is DbException db && IsUniqueViolation(db);

    /// <summary>The same for a provider exception raised by a command run outside <c>SaveChanges</c> (<see cref="BulkInsert"/>).</summary>
    public static bool IsUniqueViolation(DbException ex) => ex switch
    {
        SqliteException s => s.SqliteErrorCode == 19 && s.SqliteExtendedErrorCode is 2067 or 1555,
        PostgresException p => p.SqlState == PostgresErrorCodes.UniqueViolation,
        _ => false,
    };

    /// <summary>
    /// True when <paramref name="ex"/> (or an exception it wraps) says the database is unreachable or temporarily
    /// refusing work, rather than that the request was wrong: a refused or broken PostgreSQL connection, a server
    /// shutting down or starting (SQLSTATE class 08, 57P01–57P03, 53300), an exhausted pool; SQLite busy/locked
    /// past its timeout, or a database file that cannot be opened or read (SQLITE_BUSY, LOCKED, IOERR, CANTOPEN, FULL).
    /// Such failures are answered 503 with <c>Retry-After</c>, not 500.
    /// </summary>
    public static bool IsUnavailable(Exception? ex)
    {
        for (var depth = 0; ex is not null && depth < 8; ex = ex.InnerException, depth++)
        {
            switch (ex)
            {
                case PostgresException p:
                    if (p.SqlState.StartsWith("08", StringComparison.Ordinal) || p.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown
                        or PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.TooManyConnections) return true;
                    return false;
                case NpgsqlException n when n.IsTransient:
                    return true;
                case SqliteException s:
                    // Primary result codes: 5 BUSY, 6 LOCKED, 10 IOERR, 13 FULL, 14 CANTOPEN.
                    return s.SqliteErrorCode is 5 or 6 or 10 or 13 or 14;
                case System.Net.Sockets.SocketException:
                    return true;
            }
        }
        return false;
    }
}
