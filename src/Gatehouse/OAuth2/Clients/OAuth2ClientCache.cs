using System.Collections.Concurrent;

namespace Gatehouse.OAuth2.Clients;

/// <summary>
/// Loaded clients (row and parsed document) kept in memory by client id, so that the token endpoint's client
/// authentication and the authorization endpoint do not read and parse the client on every request. Client changes are
/// rare admin operations, so every change invalidates every entry — there is no per-client bookkeeping to get wrong:
/// <list type="bullet">
/// <item><see cref="OAuth2ClientService"/> invalidates after each update, secret rotation and delete has been committed;
/// on PostgreSQL a trigger on <c>oauth2_clients</c> also announces every update and delete, by any instance or by hand
/// in SQL, through the change listener that keeps the whoami cache current (<c>Sessions.WhoamiCacheListener</c>), and the
/// cache is used only while that listener is connected;</item>
/// <item>an entry is stamped, before its database read, with the invalidation count, and is served only while the count
/// is unchanged, so a read that raced with a change is never served after the change's invalidation;</item>
/// <item>an entry is never served older than <see cref="MaxAge"/> (a bound for changes no invalidation reports, such as
/// hand-made SQL on SQLite).</item>
/// </list>
/// Only the secret's hash is kept, as in the database; the secret is verified on every request. One tenant for now, so
/// the key is the client id alone.
/// </summary>
public sealed class OAuth2ClientCache
{
    /// <summary>The longest an entry is served.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(10);

    /// <summary>Past this many clients, the cache starts over (an installation with more clients reads some again).</summary>
    public const int MaxEntries = 10_000;

    private sealed record Entry(OAuth2ClientService.Loaded Client, long Stamp, long CachedAt);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly long _maxAgeTicks;
    private long _invalidations;
    private volatile bool _available;

    /// <param name="listenForChanges">True when other instances may write the clients (PostgreSQL): the cache then waits
    /// for <see cref="ListenerConnected"/> and stops at <see cref="ListenerDisconnected"/>.</param>
    /// <param name="enabled">False: nothing is kept (every request reads the client).</param>
    public OAuth2ClientCache(TimeProvider time, bool listenForChanges, bool enabled = true)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _maxAgeTicks = (long)(MaxAge.TotalSeconds * time.TimestampFrequency);
        _enabled = enabled;
        ListenForChanges = enabled && listenForChanges;
        _available = enabled && !listenForChanges;
    }

    private readonly bool _enabled;

    /// <summary>True when the cache depends on the PostgreSQL change listener.</summary>
    public bool ListenForChanges { get; }

    /// <summary>True when the cache may be used now.</summary>
    public bool Enabled => _available;

    /// <summary>How many clients are held (for tests and diagnostics).</summary>
    public int Count => _entries.Count;

    /// <summary>The stamp for a client whose database read starts now. Take it before the read.</summary>
    public long Begin() => Volatile.Read(ref _invalidations);

    public bool TryGet(string clientId, out OAuth2ClientService.Loaded client)
    {
        client = null!;
        if (!_available || !_entries.TryGetValue(clientId, out var entry)) return false;
        if (entry.Stamp != Volatile.Read(ref _invalidations) || _time.GetTimestamp() - entry.CachedAt > _maxAgeTicks)
        {
            _entries.TryRemove(new KeyValuePair<string, Entry>(clientId, entry));
            return false;
        }
        client = entry.Client;
        return true;
    }

    /// <summary>Keeps a client read from the database after <paramref name="stamp"/> was taken, unless a change came since.</summary>
    public void Add(OAuth2ClientService.Loaded client, long stamp)
    {
        ArgumentNullException.ThrowIfNull(client);
        if (!_available || stamp != Volatile.Read(ref _invalidations)) return;
        if (_entries.Count >= MaxEntries) _entries.Clear();
        _entries[client.ClientId] = new Entry(client, stamp, _time.GetTimestamp());
        // An invalidation between the check and the insert has cleared before the insert: the stamp check in TryGet
        // keeps such an entry from being served.
    }

    /// <summary>Every cached client is stale from now on. Call after the change has been committed.</summary>
    public void InvalidateAll()
    {
        Interlocked.Increment(ref _invalidations);
        _entries.Clear();
    }

    /// <summary>The change listener is connected: changes announced before now may have been missed.</summary>
    public void ListenerConnected()
    {
        InvalidateAll();
        _available = _enabled;
    }

    /// <summary>The change listener lost its connection: stop serving from memory until it is back.</summary>
    public void ListenerDisconnected()
    {
        _available = false;
        InvalidateAll();
    }
}
