namespace Gatehouse.SelfService.Errors;

/// <summary>Stores the errors forwarded to the error UI (Kratos's <c>errorx</c> persister).</summary>
public interface ISelfServiceErrorStore
{
    /// <summary>Saves a new error record (stamping the tenant).</summary>
    Task InsertAsync(SelfServiceError error, CancellationToken ct);

    /// <summary>The record with this id, marked seen at <paramref name="now"/>; null when there is none.</summary>
    Task<SelfServiceError?> ReadAndMarkSeenAsync(Guid id, DateTime now, CancellationToken ct);
}
