namespace Gatehouse.Courier;

/// <summary>
/// A message to deliver (email or SMS), stored before anything is sent; a worker claims it and moves it from
/// <c>queued</c> through <c>processing</c> to <c>sent</c>, or to <c>abandoned</c> after the retries run out.
/// </summary>
public sealed class CourierMessage
{
    public Guid Id { get; set; }
    public Guid Nid { get; set; }

    /// <summary><c>queued</c>, <c>processing</c>, <c>sent</c> or <c>abandoned</c>.</summary>
    public string Status { get; set; } = CourierMessageStatus.Queued;

    /// <summary><c>email</c> or <c>sms</c>.</summary>
    public string Type { get; set; } = "email";
    public string Channel { get; set; } = "email";
    public string Recipient { get; set; } = "";
    public string Subject { get; set; } = "";
    public string Body { get; set; } = "";

    /// <summary>The HTML alternative of an email body, when the template has one.</summary>
    public string? HtmlBody { get; set; }

    /// <summary>Kratos's template type, e.g. <c>verification_code_valid</c>.</summary>
    public string TemplateType { get; set; } = "";

    /// <summary>The template's data as JSON (codes and links included, so it is only exposed to the admin API).</summary>
    public string? TemplateData { get; set; }

    /// <summary>
    /// The allowlisted headers of the user's request that caused a code message (<c>login_code_valid</c>,
    /// <c>registration_code_valid</c>, <c>recovery_code_valid</c>), as JSON <c>{Name: [values]}</c>, for the HTTP channel's
    /// <c>ctx.request_headers</c> (Kratos's <c>request_headers</c> column; never in the admin API either).
    /// </summary>
    public string? RequestHeaders { get; set; }
    public int SendCount { get; set; }

    /// <summary>When the message may next be tried (back-off after a failure).</summary>
    public DateTime NextAttemptAt { get; set; }

    /// <summary>Until when a claiming worker owns the message; a crashed worker's claim lapses.</summary>
    public DateTime? ClaimedUntil { get; set; }
    public string? ClaimedBy { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    public List<CourierDispatch> Dispatches { get; set; } = [];
}

public static class CourierMessageStatus
{
    public const string Queued = "queued";
    public const string Processing = "processing";
    public const string Sent = "sent";
    public const string Abandoned = "abandoned";
}

/// <summary>One delivery attempt of a message: <c>success</c> or <c>failed</c> with the error.</summary>
public sealed class CourierDispatch
{
    public Guid Id { get; set; }
    public Guid Nid { get; set; }
    public Guid MessageId { get; set; }
    public string Status { get; set; } = "failed";
    public string? Error { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}
