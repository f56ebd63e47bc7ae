namespace Gatehouse.Http.Errors;

/// <summary>Which errors of a browser (non-JSON) request are forwarded to the error UI instead of being answered directly.</summary>
public enum ForwardedErrors
{
    /// <summary>None: the envelope is written (API endpoints, fetch endpoints, API flows).</summary>
    None,

    /// <summary>Every error (Kratos calls <c>errorx.Manager.Forward</c> for it).</summary>
    All,

    /// <summary>
    /// Every error but a 400: a submitted browser flow, whose 400s Kratos turns into messages on the flow
    /// (<c>ui.ParseError</c>) and whose other errors it forwards.
    /// </summary>
    AllButBadRequest,
}

/// <summary>Endpoint metadata: the errors of this route are forwarded (until the handler says otherwise).</summary>
public sealed record ForwardErrorsMetadata(ForwardedErrors Which);

/// <summary>The handler's own decision for this request, which wins over the endpoint's metadata.</summary>
public sealed record ErrorForwardingFeature(ForwardedErrors Which);

/// <summary>
/// Kratos's error forwarding (<c>selfservice/errorx/manager.go</c>): where a Kratos handler calls <c>Forward</c>, an
/// error of a browser request is stored and answered with 303 to <c>selfservice.flows.error.ui_url?id=</c>, while JSON
/// requests (<see cref="ContentNegotiation.WantsJson"/>) get the envelope. Routes declare it with
/// <see cref="ForwardErrorsToUi{TBuilder}"/>; handlers refine it per request with <see cref="ForwardErrors"/> (e.g. once a
/// submitted flow is known to be an API flow). <see cref="ErrorEnvelopeMiddleware"/> applies it through
/// <see cref="IErrorForwarder"/>.
/// </summary>
public static class ErrorForwarding
{
    private static readonly ForwardErrorsMetadata AllMetadata = new(ForwardedErrors.All);

    /// <summary>Forwards every error of browser requests to these endpoints to the error UI.</summary>
    public static TBuilder ForwardErrorsToUi<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(AllMetadata);

    /// <summary>
    /// Forwards every error of browser requests to the group's endpoints with these route patterns (for routes mapped by
    /// a feature that does not declare it itself).
    /// </summary>
    public static RouteGroupBuilder ForwardErrorsToUiOn(this RouteGroupBuilder group, params string[] routePatterns)
    {
        ArgumentNullException.ThrowIfNull(group);
        var routes = routePatterns.Select(r => r.TrimStart('/')).ToHashSet(StringComparer.Ordinal);
        ((IEndpointConventionBuilder)group).Add(b =>
        {
            if (b is RouteEndpointBuilder route && routes.Contains(route.RoutePattern.RawText?.TrimStart('/') ?? "")) b.Metadata.Add(AllMetadata);
        });
        return group;
    }

    /// <summary>From now on in this request, forwards <paramref name="which"/> errors (overrides the route's metadata).</summary>
    public static void ForwardErrors(this HttpContext http, ForwardedErrors which)
    {
        ArgumentNullException.ThrowIfNull(http);
        http.Features.Set(new ErrorForwardingFeature(which));
    }

    /// <summary>Marks this request so that <paramref name="error"/> is forwarded, and returns it to be thrown.</summary>
    public static GatehouseError Forwarded(this HttpContext http, GatehouseError error)
    {
        http.ForwardErrors(ForwardedErrors.All);
        return error;
    }

    /// <summary>What this request forwards: the handler's decision, else the endpoint's metadata, else nothing.</summary>
    public static ForwardedErrors Policy(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        return http.Features.Get<ErrorForwardingFeature>()?.Which
            ?? http.GetEndpoint()?.Metadata.GetMetadata<ForwardErrorsMetadata>()?.Which
            ?? ForwardedErrors.None;
    }

    /// <summary>Whether <paramref name="error"/> of this request goes to the error UI: never for JSON requests.</summary>
    public static bool Applies(HttpContext http, GatehouseError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return Policy(http) switch
        {
            ForwardedErrors.All => !ContentNegotiation.WantsJson(http.Request),
            ForwardedErrors.AllButBadRequest => error.Code != StatusCodes.Status400BadRequest && !ContentNegotiation.WantsJson(http.Request),
            _ => false,
        };
    }
}

/// <summary>
/// Stores an error and sends the browser to the error UI (implemented by the self-service errors feature; Kratos's
/// <c>errorx.Manager</c>).
/// </summary>
public interface IErrorForwarder
{
    /// <summary>
    /// Stores <paramref name="error"/> and answers 303 to the error UI with its id; false when it could not be stored
    /// (the caller then writes the envelope, as Kratos does).
    /// </summary>
    Task<bool> ForwardAsync(HttpContext http, GatehouseError error);
}
