using System.Text.Json.Nodes;

namespace Gatehouse.OAuth2;

/// <summary>
/// An error of Hydra's OAuth2 surface (public protocol endpoints and the Hydra admin API), written as fosite's
/// RFC 6749 JSON rather than Kratos's envelope: <c>{"error","error_description"}</c>, where the description carries the
/// hint after a space and double quotes become single quotes (fosite <c>RFC6749Error.GetDescription</c>; Hydra's default
/// <c>oauth2.include_legacy_error_fields: false</c>). Admin errors go through Hydra's <c>ErrorEnhancer</c> into the same shape.
/// </summary>
public sealed class OAuth2Error(int statusCode, string error, string description, string? hint = null) : Exception(error)
{
    public int StatusCode { get; } = statusCode;
    public string Error { get; } = error;
    public string Description { get; } = description;
    public string? Hint { get; } = hint;

    /// <summary>
    /// fosite's debug text (<c>RFC6749Error.DebugField</c>): what went wrong inside, for the operator. Sent to the client only
    /// with <c>oauth2.expose_internal_errors</c>; never put a secret in it.
    /// </summary>
    public string? Debug { get; private init; }

    /// <summary>The description as fosite sends it: description, then hint, with <c>"</c> replaced by <c>'</c>.</summary>
    public string FullDescription => Describe(exposeDebug: false);

    /// <summary>
    /// fosite's <c>GetDescription</c>: description, hint and — when <paramref name="exposeDebug"/> (Hydra's
    /// <c>oauth2.expose_internal_errors</c>, fosite <c>WithExposeDebug</c>) — the debug text, with <c>"</c> replaced by <c>'</c>.
    /// </summary>
    public string Describe(bool exposeDebug)
    {
        var description = Hint is { Length: > 0 } h ? Description + " " + h : Description;
        if (exposeDebug && Debug is { Length: > 0 } d) description += " " + d;
        return description.Replace('"', '\'');
    }

    public OAuth2Error WithHint(string hint) => new(StatusCode, Error, Description, hint) { Debug = Debug };

    /// <summary>fosite's <c>WithDebug</c>.</summary>
    public OAuth2Error WithDebug(string debug) => new(StatusCode, Error, Description, Hint) { Debug = debug };

    public JsonObject ToJson(bool exposeDebug = false) => new() { ["error"] = Error, ["error_description"] = Describe(exposeDebug) };

    // fosite's and Hydra's named errors (fosite/errors.go, client/error.go, x/errors.go).
    public static OAuth2Error InvalidRequest(string hint) => new(400, "invalid_request",
        "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.", hint);

    public static OAuth2Error InvalidClientMetadata(string hint) => new(400, "invalid_client_metadata",
        "The value of one of the Client Metadata fields is invalid and the server has rejected this request. Note that an Authorization Server MAY choose to substitute a valid value for any requested parameter of a Client's Metadata.", hint);

    public static OAuth2Error InvalidRedirectUri(string hint) => new(400, "invalid_redirect_uri", "The value of one or more redirect_uris is invalid.", hint);

    public static OAuth2Error InvalidGrant(string hint) => new(400, "invalid_grant",
        "The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.", hint);

    public static OAuth2Error InvalidScope(string hint) => new(400, "invalid_scope", "The requested scope is invalid, unknown, or malformed.", hint);

    public static OAuth2Error UnsupportedResponseType(string? hint = null) => new(400, "unsupported_response_type",
        "The authorization server does not support obtaining a token using this method.", hint);

    public static OAuth2Error UnsupportedResponseMode(string hint) => new(400, "unsupported_response_mode",
        "The authorization server does not support obtaining a response using this response mode.", hint);

    public static OAuth2Error InvalidState() => new(400, "invalid_state",
        "The state is missing or does not have enough characters and is therefore considered too weak.",
        "Request parameter 'state' must be at least be 8 characters long to ensure sufficient entropy.");

    public static OAuth2Error InsufficientEntropy(string hint) => new(400, "insufficient_entropy",
        "The request used a security parameter (e.g., anti-replay, anti-csrf) with insufficient entropy.", hint);

    public static OAuth2Error AccessDenied(string hint) => new(403, "access_denied", "The resource owner or authorization server denied the request.", hint);

    public static OAuth2Error LoginRequired(string hint) => new(400, "login_required", "The Authorization Server requires End-User authentication.", hint);

    public static OAuth2Error ConsentRequired(string hint) => new(400, "consent_required", "The Authorization Server requires End-User consent.", hint);

    public static OAuth2Error RequestNotSupported() => new(400, "request_not_supported", "The OP does not support use of the request parameter.");

    public static OAuth2Error RegistrationNotSupported() => new(400, "registration_not_supported", "The OP does not support use of the registration parameter.");

    public static OAuth2Error RequestUriNotSupported() => new(400, "request_uri_not_supported", "The OP does not support use of the request_uri parameter.");

    public static OAuth2Error ServerError(string? hint = null) => new(500, "server_error",
        "The authorization server encountered an unexpected condition that prevented it from fulfilling the request.", hint);

    /// <summary>Hydra's <c>x.ErrNotFound</c>.</summary>
    public static OAuth2Error NotFoundResource(string? hint = null) => new(404, "Not Found", "Unable to locate the requested resource", hint);

    /// <summary>herodot's <c>ErrBadRequest().WithReasonf(...)</c> after Hydra's <c>ErrorEnhancer</c>.</summary>
    public static OAuth2Error BadRequest(string reason) => new(400, "The request was malformed or contained invalid parameters", reason);

    /// <summary>sqlcon's <c>ErrNoRows</c> after Hydra's <c>ErrorEnhancer</c> (what <c>GET /admin/clients/unknown</c> answers).</summary>
    public static OAuth2Error NotFound() => new(404, "Unable to locate the resource", "");

    /// <summary>sqlcon's <c>ErrUniqueViolation</c> after Hydra's <c>ErrorEnhancer</c>.</summary>
    public static OAuth2Error Conflict() => new(409, "Unable to insert or update resource because a resource with that value exists already", "");
}
