using Microsoft.Data.Sqlite;
using Npgsql;

namespace Gatehouse.Persistence;

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary>
/// A parsed data source name in Kratos's URL form:
/// <c>sqlite:///abs/path.db?_fk=true</c>, <c>sqlite://./relative.db</c>, <c>memory</c>,
/// <c>postgres://user:pass@host:5432/db?sslmode=disable</c>.
/// </summary>
public sealed record Dsn(DatabaseProvider Provider, string ConnectionString, bool InMemory)
{
    public static Dsn Parse(string dsn)
    {
        if (string.IsNullOrWhiteSpace(dsn)) throw new FormatException("dsn is empty");
        if (dsn == "memory" || dsn.StartsWith("sqlite://file::memory:", StringComparison.Ordinal))
        {
            // A named shared-cache in-memory database lives as long as one connection to it stays open.
            var name = "gatehouse-" + Guid.NewGuid().ToString("N");
            return new(DatabaseProvider.Sqlite, new SqliteConnectionStringBuilder { DataSource = name, Mode = SqliteOpenMode.Memory, Cache = SqliteCacheMode.Shared, Pooling = true }.ToString(), true);
        }
        if (dsn.StartsWith("sqlite://", StringComparison.Ordinal) || dsn.StartsWith("sqlite3://", StringComparison.Ordinal))
        {
            var rest = dsn[(dsn.IndexOf("://", StringComparison.Ordinal) + 3)..];
            var q = rest.IndexOf('?', StringComparison.Ordinal);
            var path = Uri.UnescapeDataString(q >= 0 ? rest[..q] : rest);
            if (path.Length == 0) throw new FormatException("sqlite DSN has no file path (expected sqlite:///path/to/file.db)");
            return new(DatabaseProvider.Sqlite, new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true, DefaultTimeout = 30 }.ToString(), false);
        }
        if (dsn.StartsWith("postgres://", StringComparison.Ordinal) || dsn.StartsWith("postgresql://", StringComparison.Ordinal))
        {
            return new(DatabaseProvider.Postgres, PostgresConnectionString(new Uri(dsn)), false);
        }
        throw new FormatException($"unsupported dsn scheme in \"{Redact(dsn)}\" (expected sqlite://, postgres:// or memory)");
    }

    private static string PostgresConnectionString(Uri uri)
    {
        var b = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')),
            // Kratos-style DSNs rarely say how big a pool they want; the default of 100 is more than
            // a small PostgreSQL allows, so keep it moderate unless max_conns says otherwise.
            MaxPoolSize = 50,
            // EF sends the same few statements over and over; without server-side prepared statements PostgreSQL
            // parses and plans every one again, which took most of a credentials_identifier lookup's 5 queries.
            MaxAutoPrepare = 100,
            // A pooled connection with prepared statements is otherwise "reset" before its next use with seven
            // statements (SET SESSION AUTHORIZATION DEFAULT; RESET ALL; CLOSE ALL; UNLISTEN *;
            // SELECT pg_advisory_unlock_all(); DISCARD SEQUENCES; DISCARD TEMP), prepended to every first command:
            // they cost PostgreSQL ~45 µs of CPU per credentials_identifier lookup (~145 → ~100 µs) and Gatehouse ~80 µs.
            // Gatehouse leaves no session state behind: no SET, LISTEN, advisory locks, cursors or temporary tables
            // (row locks and isolation levels are transaction-scoped, and Npgsql still rolls back an open transaction
            // when a connection returns to the pool). Anything that adds session state must undo it itself.
            NoResetOnClose = true,
        };
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            var parts = uri.UserInfo.Split(':', 2);
            b.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length > 1) b.Password = Uri.UnescapeDataString(parts[1]);
        }
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var key = Uri.UnescapeDataString(kv[0]);
            var value = kv.Length > 1 ? Uri.UnescapeDataString(kv[1]) : "";
            switch (key)
            {
                case "sslmode":
                    b.SslMode = value switch
                    {
                        "disable" => SslMode.Disable,
                        "allow" => SslMode.Allow,
                        "prefer" => SslMode.Prefer,
                        "require" => SslMode.Require,
                        "verify-ca" => SslMode.VerifyCA,
                        "verify-full" => SslMode.VerifyFull,
                        _ => throw new FormatException($"unknown sslmode \"{value}\" in dsn"),
                    };
                    break;
                case "max_conns":
                    b.MaxPoolSize = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "search_path":
                    b.SearchPath = value;
                    break;
                default:
                    break; // Other Kratos/pop options (max_idle_conns, ...) do not apply to Npgsql.
            }
        }
        return b.ToString();
    }

    /// <summary>The DSN with any password replaced, for messages and logs.</summary>
    public static string Redact(string dsn)
    {
        if (!Uri.TryCreate(dsn, UriKind.Absolute, out var uri) || !uri.UserInfo.Contains(':', StringComparison.Ordinal)) return dsn;
        var user = uri.UserInfo.Split(':', 2)[0];
        return dsn.Replace(uri.UserInfo + "@", user + ":***@", StringComparison.Ordinal);
    }
}
