using System.Text.Json.Nodes;

namespace Gatehouse.Http.Errors;

/// <summary>
/// The one exception type that becomes a Kratos error envelope
/// <c>{"error":{"id","code","status","reason","message","details"}}</c> (herodot's DefaultError).
/// Throw it from services; <see cref="ErrorEnvelopeMiddleware"/> writes it.
/// </summary>
public sealed class GatehouseError : Exception
{
    public GatehouseError(int code, string? reason = null, string? id = null, string? message = null, JsonObject? details = null)
        : base(message ?? DefaultMessage(code))
    {
        Code = code;
        Reason = reason;
        ErrorId = id;
        Details = details;
    }

    public int Code { get; }
    public string? Reason { get; }
    public string? ErrorId { get; }
    public JsonObject? Details { get; }

    /// <summary>
    /// The HTTP status when it differs from <see cref="Code"/>: Kratos writes some errors with another status than the
    /// one in their body (herodot's <c>WriteErrorCode</c>), e.g. 403 for <c>session_verified_address_required</c> (code 400).
    /// </summary>
    public int? HttpStatus { get; init; }

    /// <summary>Sent as <c>Retry-After</c> (whole seconds) with the answer: rate limits (429) and shed load (503).</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>Extra top-level siblings of <c>error</c> (e.g. <c>use_flow_id</c>, <c>redirect_browser_to</c>).</summary>
    public JsonObject? Siblings { get; init; }

    public static GatehouseError BadRequest(string reason, string? id = null) => new(400, reason, id);
    public static GatehouseError Unauthorized(string reason, string? id = null) => new(401, reason, id);
    public static GatehouseError Forbidden(string reason, string? id = null) => new(403, reason, id);
    public static GatehouseError NotFound(string reason) => new(404, reason);
    public static GatehouseError Conflict(string reason) => new(409, reason);
    public static GatehouseError PayloadTooLarge(string reason) => new(413, reason);

    /// <summary>The 409 Kratos answers for a duplicate credential identifier, address or external id.</summary>
    public static GatehouseError IdentityConflict() =>
        Conflict("This identity conflicts with another identity that already exists.");

    public static string StatusText(int code) => code switch
    {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        410 => "Gone",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    };

    // herodot's default messages per status.
    public static string DefaultMessage(int code) => code switch
    {
        400 => "The request was malformed or contained invalid parameters",
        401 => "The request could not be authorized",
        403 => "The requested action was forbidden",
        404 => "The requested resource could not be found",
        409 => "The resource could not be created due to a conflict",
        410 => "The requested resource is no longer available because it has expired or is otherwise invalid.",
        413 => "The request body is too large",
        415 => "The request is using an unknown content type",
        429 => "The client has sent too many requests, please try again later",
        503 => "The service is currently unavailable",
        _ => "An internal server error occurred, please contact the system administrator",
    };

    public JsonObject ToErrorObject()
    {
        var error = new JsonObject();
        if (ErrorId is not null) error["id"] = ErrorId;
        error["code"] = Code;
        error["status"] = StatusText(Code);
        if (Reason is not null) error["reason"] = Reason;
        if (Details is not null) error["details"] = Details.DeepClone();
        error["message"] = Message;
        return error;
    }

    public JsonObject ToEnvelope()
    {
        var root = new JsonObject { ["error"] = ToErrorObject() };
        if (Siblings is not null)
        {
            foreach (var (key, value) in Siblings) root[key] = value?.DeepClone();
        }
        return root;
    }
}
