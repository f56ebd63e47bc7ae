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

    /// <summary>The description as fosite sends it: description, then hint, with <c>"</c> replaced by <c>'</c>.</summary>
    public string FullDescription => (Hint is { Length: > 0 } h ? Description + " " + h : Description).Replace('"', '\'');

    public OAuth2Error WithHint(string hint) => new(StatusCode, Error, Description, hint);

    public JsonObject ToJson() => new() { ["error"] = Error, ["error_description"] = FullDescription };

    // fosite's and Hydra's named errors (fosite/errors.go, client/error.go, x/errors.go).
    public static OAuth2Error InvalidRequest(string hint) => new(400, "invalid_request",
        "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.", hint);

    public static OAuth2Error InvalidClientMetadata(string hint) => new(400, "invalid_client_metadata",
        "The value of one of the Client Metadata fields is invalid and the server has rejected this request. Note that an Authorization Server MAY choose to substitute a valid value for any requested parameter of a Client's Metadata.", hint);

    public static OAuth2Error InvalidRedirectUri(string hint) => new(400, "invalid_redirect_uri", "The value of one or more redirect_uris is invalid.", hint);

    /// <summary>herodot's <c>ErrBadRequest().WithReasonf(...)</c> after Hydra's <c>ErrorEnhancer</c>.</summary>
    public static OAuth2Error BadRequest(string reason) => new(400, "The request was malformed or contained invalid parameters", reason);

    /// <summary>sqlcon's <c>ErrNoRows</c> after Hydra's <c>ErrorEnhancer</c> (what <c>GET /admin/clients/unknown</c> answers).</summary>
    public static OAuth2Error NotFound() => new(404, "Unable to locate the resource", "");

    /// <summary>sqlcon's <c>ErrUniqueViolation</c> after Hydra's <c>ErrorEnhancer</c>.</summary>
    public static OAuth2Error Conflict() => new(409, "Unable to insert or update resource because a resource with that value exists already", "");
}
