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
}
