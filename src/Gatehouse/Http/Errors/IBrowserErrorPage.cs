namespace Gatehouse.Http.Errors;

/// <summary>
/// Shows an error to a person in a browser as a page instead of the JSON envelope (registered by the built-in UI).
/// <see cref="ErrorEnvelopeMiddleware"/> asks it for errors of HTML (not JSON) requests; JSON clients always get the envelope.
/// </summary>
public interface IBrowserErrorPage
{
    /// <summary>Whether this error of this request is shown as a page.</summary>
    bool Handles(HttpContext context, GatehouseError error);

    Task WriteAsync(HttpContext context, GatehouseError error);
}
