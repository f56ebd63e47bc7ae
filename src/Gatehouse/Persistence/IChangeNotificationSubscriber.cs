namespace Gatehouse.Persistence;

/// <summary>
/// A cache kept current by PostgreSQL change notifications: triggers <c>NOTIFY</c> <see cref="Channel"/> after commit,
/// and the one listener connection (<c>Sessions.WhoamiCacheListener</c>) passes what arrives there on. A subscriber may
/// serve from memory only between <see cref="Connected"/> and <see cref="Disconnected"/>: notifications sent while the
/// connection is down are lost.
/// </summary>
public interface IChangeNotificationSubscriber
{
    /// <summary>The notification channel its triggers send to.</summary>
    string Channel { get; }

    /// <summary>False when the subscriber needs no notifications (its cache is off, or the database is not PostgreSQL).</summary>
    bool ListenForChanges { get; }

    /// <summary>The listener is connected (again): anything announced before may have been missed.</summary>
    void Connected();

    /// <summary>The listener lost its connection.</summary>
    void Disconnected();

    /// <summary>A notification on <see cref="Channel"/>, with the trigger's payload.</summary>
    void Notified(string payload);
}
