namespace Gatehouse.SelfService.Errors;

/// <summary>
/// An error that was forwarded to the error UI, as stored (Kratos's <c>selfservice_errors</c> row, <c>errorx.ErrorContainer</c>):
/// the UI reads it back by id through <c>GET /self-service/errors?id=</c>.
/// </summary>
public sealed class SelfServiceError
{
    public Guid Id { get; set; }
    public Guid Nid { get; set; }

    /// <summary>The error object as the envelope's <c>error</c> carries it (<c>id, code, status, reason, details, message</c>), as JSON.</summary>
    public string Errors { get; set; } = "{}";

    /// <summary>When the error was last read back (Kratos's <c>seen_at</c>; Kratos's clean-up of errors keys on it).</summary>
    public DateTime? SeenAt { get; set; }
    public bool WasSeen { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}
