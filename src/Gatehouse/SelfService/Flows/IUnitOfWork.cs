namespace Gatehouse.SelfService.Flows;

/// <summary>
/// One commit for the writes of a flow submit that need not land one by one: while a unit of work is open, the stores
/// hold back the writes that may wait (a one-time code stored, a courier message queued, an address marked verified, a
/// session and its device inserted, the flow updated) and <see cref="CommitAsync"/> runs them in one transaction — one
/// commit instead of one per statement, and all of them or none. Writes whose result the request needs at once (a guess
/// counted, a code claimed, a rate-limit counter) are never held. Implemented in Persistence (DESIGN rule 1).
/// <para>
/// <see cref="FlowService.UpdateAsync"/> commits it: a submit's last write before it answers is its flow's update. What a
/// path still holds when the unit of work ends (one that answers without updating its flow) is committed then, before
/// the answer is sent, so no write is lost or reordered after an answer a client could act on.
/// </para>
/// </summary>
public interface IUnitOfWork
{
    /// <summary>
    /// Opens the unit of work of this request (a no-op when one is open already: the outer one commits); disposing the
    /// returned scope commits what is still held and closes it.
    /// </summary>
    IAsyncDisposable Begin(CancellationToken ct);

    /// <summary>Commits the writes held so far and stops holding (later writes run at once). Nothing to do when none is open.</summary>
    Task CommitAsync(CancellationToken ct);
}
