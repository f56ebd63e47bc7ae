using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Gatehouse.Config;
using Gatehouse.Persistence;
using Microsoft.Extensions.Caching.Memory;

namespace Gatehouse.Sessions;

/// <summary>
/// whoami answers kept in memory by session-token hash, so the hottest call of an identity server costs no database
/// read while its answer cannot have changed. Revocation cannot outlive it:
/// <list type="bullet">
/// <item>every write that can change a cached answer (the session, its devices, its identity or the identity's
/// addresses) <see cref="Invalidate">invalidates</see> the session id or identity id after it is committed —
/// tracked changes through <see cref="WhoamiCacheInvalidation"/>, bulk updates and deletes by their callers, and on
/// PostgreSQL every row change on those tables through a trigger's <c>NOTIFY</c> that
/// <see cref="WhoamiCacheListener"/> receives, which covers other Gatehouse instances on the same database;</item>
/// <item>an answer is stamped, before its database read, with a logical clock that every invalidation advances; it is
/// served only while no invalidation of its session or identity (or of everything) is newer than its stamp, so a read
/// that raced with a write is never served after the write's invalidation;</item>
/// <item>an answer is never served past the session's <c>expires_at</c>, nor older than <c>max_age</c>;</item>
/// <item>on PostgreSQL the cache is used only while the listener connection is up: losing it invalidates everything and
/// turns the cache off until it is back (notifications sent meanwhile are lost).</item>
/// </list>
/// Only whoami uses it; every other endpoint reads the session from the database.
/// </summary>
public sealed class WhoamiCache : IDisposable, Identities.IIdentityDeletedListener
{
    /// <summary>
    /// A cached whoami answer: the exact response body, what is needed to check it is still current, and the assurance
    /// decision made with it (<see cref="StepUpRequired"/>: the answer is 403 <c>session_aal2_required</c>, not the body).
    /// Enrolling or removing a second factor writes the identity, which invalidates the entry like any identity change.
    /// </summary>
    public sealed record Entry(Guid SessionId, Guid IdentityId, DateTime ExpiresAt, byte[] Body, long Stamp, long CachedAt, bool StepUpRequired = false);

    /// <summary>
    /// What an answer costs besides its body: the entry record, its key, the cache's own entry and its expiry bookkeeping
    /// (measured at roughly 300 bytes on x64; rounded up).
    /// </summary>
    public const int EntryOverheadBytes = 384;

    /// <summary>When the invalidation table holds this many records, records older than <c>max_age</c> are dropped.</summary>
    private const int PruneThreshold = 16_384;

    /// <summary>Past this many records (within <c>max_age</c>), everything is invalidated at once instead.</summary>
    private const int MaxInvalidations = 1_000_000;

    private readonly MemoryCache? _entries;
    private readonly ConcurrentDictionary<Guid, (long Stamp, long At)> _invalidated = new();
    private readonly TimeProvider _time;
    private readonly long _maxAgeTicks;
    private readonly long _maxEntries;
    private readonly Lock _pruneLock = new();
    private long _clock;
    private long _everythingInvalidatedAt;
    private long _lastPrune;
    private volatile bool _available;

    public WhoamiCache(GatehouseOptions options, Dsn dsn, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(dsn);
        _time = time;
        var config = options.Session.Whoami.Cache;
        _maxAgeTicks = (long)(config.MaxAge.TotalSeconds * time.TimestampFrequency);
        _maxEntries = config.MaxEntries;
        // The size limit is in bytes (approximate); the entry-count limit is checked on insert.
        if (config.Enabled && config.MaxEntries > 0 && config.MaxBytes > 0 && config.MaxAge > TimeSpan.Zero)
            _entries = new MemoryCache(new MemoryCacheOptions
            {
                SizeLimit = config.MaxBytes,
                // When full, drop a quarter (soonest-expiring first) so inserts do not compact on every call.
                CompactionPercentage = 0.25,
                ExpirationScanFrequency = TimeSpan.FromMinutes(1),
            });
        // With PostgreSQL, other instances may write: the cache waits for the change listener.
        ListenForChanges = _entries is not null && dsn.Provider == DatabaseProvider.Postgres;
        _available = _entries is not null && !ListenForChanges;
    }

    /// <summary>True when the cache is configured on (it may still be waiting for its listener).</summary>
    public bool Configured => _entries is not null;

    /// <summary>True when whoami may use the cache now.</summary>
    public bool Enabled => _available;

    /// <summary>True when the cache depends on <see cref="WhoamiCacheListener"/> (configured on, PostgreSQL).</summary>
    public bool ListenForChanges { get; }

    /// <summary>How many answers are held (for tests and diagnostics).</summary>
    public long Count => _entries?.Count ?? 0;

    /// <summary>The approximate memory an answer of this body size is counted as.</summary>
    public static long SizeOf(int bodyLength) => bodyLength + (long)EntryOverheadBytes;

    /// <summary>The stamp for an answer whose database read starts now. Take it before the read.</summary>
    public long Begin() => Volatile.Read(ref _clock);

    public bool TryGet(ReadOnlySpan<byte> tokenHash, out Entry entry)
    {
        entry = null!;
        if (!_available || _entries is null || tokenHash.Length != 32) return false;
        var key = Key(tokenHash);
        if (!_entries.TryGetValue(key, out Entry? found) || found is null) return false;
        if (!IsCurrent(found) || found.ExpiresAt <= _time.GetUtcNow().UtcDateTime || _time.GetTimestamp() - found.CachedAt > _maxAgeTicks)
        {
            _entries.Remove(key);
            return false;
        }
        entry = found;
        return true;
    }

    /// <summary>Keeps an answer read from the database after <paramref name="stamp"/> was taken, unless it is already stale.</summary>
    public void Add(ReadOnlySpan<byte> tokenHash, Session session, byte[] body, long stamp, bool stepUpRequired = false)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (!_available || _entries is null || tokenHash.Length != 32) return;
        var entry = new Entry(session.Id, session.IdentityId, session.ExpiresAt, body, stamp, _time.GetTimestamp(), stepUpRequired);
        if (!IsCurrent(entry)) return;
        var lifetime = session.ExpiresAt - _time.GetUtcNow().UtcDateTime;
        if (lifetime <= TimeSpan.Zero) return;
        var maxAge = TimeSpan.FromSeconds(_maxAgeTicks / (double)_time.TimestampFrequency);
        if (_entries.Count >= _maxEntries)
        {
            // Full by count: make room in one go (the byte limit compacts by itself when an insert would pass it).
            _entries.Compact(0.25);
            return;
        }
        _entries.Set(Key(tokenHash), entry, new MemoryCacheEntryOptions
        {
            Size = SizeOf(body.Length),
            AbsoluteExpirationRelativeToNow = lifetime < maxAge ? lifetime : maxAge,
        });
        // An invalidation that ran between the check above and the insert would have found nothing to remove.
        if (!IsCurrent(entry)) _entries.Remove(Key(tokenHash));
    }

    /// <summary>Every cached answer of this session id or identity id is stale from now on. Call after the write committed.</summary>
    public void Invalidate(Guid sessionOrIdentityId)
    {
        if (_entries is null) return;
        var stamp = Interlocked.Increment(ref _clock);
        var now = _time.GetTimestamp();
        _invalidated[sessionOrIdentityId] = (stamp, now);
        if (_invalidated.Count > PruneThreshold) Prune(now);
    }

    /// <summary>A deleted identity's cached answers go (its sessions are gone with it).</summary>
    public void IdentityDeleted(Guid identityId) => Invalidate(identityId);

    /// <summary>Every cached answer is stale from now on (e.g. when change notifications may have been lost).</summary>
    public void InvalidateAll()
    {
        if (_entries is null) return;
        Volatile.Write(ref _everythingInvalidatedAt, Interlocked.Increment(ref _clock));
        _entries.Clear();
    }

    /// <summary>The change listener is connected: notifications sent before now may have been missed.</summary>
    internal void ListenerConnected()
    {
        InvalidateAll();
        _available = _entries is not null;
    }

    /// <summary>The change listener lost its connection: stop serving from memory until it is back.</summary>
    internal void ListenerDisconnected()
    {
        _available = false;
        InvalidateAll();
    }

    public void Dispose() => _entries?.Dispose();

    private bool IsCurrent(Entry entry) =>
        entry.Stamp >= Volatile.Read(ref _everythingInvalidatedAt)
        && !InvalidatedAfter(entry.SessionId, entry.Stamp)
        && !InvalidatedAfter(entry.IdentityId, entry.Stamp);

    private bool InvalidatedAfter(Guid key, long stamp) => _invalidated.TryGetValue(key, out var record) && record.Stamp > stamp;

    /// <summary>
    /// Drops invalidation records older than <c>max_age</c>: every answer stamped before them has expired by then.
    /// Runs at most once per second; if the table is still too large, everything is invalidated instead.
    /// </summary>
    private void Prune(long now)
    {
        if (now - Volatile.Read(ref _lastPrune) < _time.TimestampFrequency || !_pruneLock.TryEnter()) return;
        try
        {
            _lastPrune = now;
            // A record must outlive every answer stamped before it; those were cached before it was written.
            var horizon = now - _maxAgeTicks - _time.TimestampFrequency;
            foreach (var (key, record) in _invalidated)
            {
                if (record.At < horizon) _invalidated.TryRemove(new KeyValuePair<Guid, (long, long)>(key, record));
            }
            if (_invalidated.Count > MaxInvalidations)
            {
                // Cleared first: a record lost by the clear is older than the global invalidation that follows.
                _invalidated.Clear();
                InvalidateAll();
            }
        }
        finally
        {
            _pruneLock.Exit();
        }
    }

    private static TokenKey Key(ReadOnlySpan<byte> hash)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(hash);
        return new TokenKey(words[0], words[1], words[2], words[3]);
    }

    /// <summary>The 32-byte SHA-256 token hash as a value key (no string or array per lookup).</summary>
    private readonly record struct TokenKey(ulong A, ulong B, ulong C, ulong D);
}
