using Gatehouse.Http.Errors;
using Gatehouse.Http.Json;

namespace Gatehouse.OAuth2;

/// <summary>
/// Writes <see cref="OAuth2Error"/> (and any <see cref="GatehouseError"/> thrown by shared helpers) of Hydra's routes as
/// RFC 6749 JSON, so clients of <c>OAuth2Api</c> see Hydra's error shape rather than Kratos's envelope.
/// </summary>
public static class OAuth2ErrorFilter
{
    public static async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (OAuth2Error error)
        {
            await WriteAsync(context.HttpContext, error);
            return Results.Empty;
        }
        catch (GatehouseError error) when (error.Code < 500)
        {
            // A rate limit's 429 keeps its Retry-After.
            await WriteAsync(context.HttpContext, new OAuth2Error(error.Code, GatehouseError.DefaultMessage(error.Code), error.Reason ?? error.Message),
                error.RetryAfter is { } wait ? (int)Math.Ceiling(wait.TotalSeconds) : null);
            return Results.Empty;
        }
    }

    /// <summary>fosite's <c>ErrTemporarilyUnavailable</c> (RFC 6749 4.1.2.1), the OAuth2 answer while the database is down.</summary>
    public static OAuth2Error TemporarilyUnavailable() => new(503, "temporarily_unavailable",
        "The authorization server is currently unable to handle the request due to a temporary overloading or maintenance of the server.",
        "The database is temporarily unavailable. Please try again later.");

    /// <summary>Hydra's <c>oauth2.expose_internal_errors</c> (fosite's <c>GetSendDebugMessagesToClients</c>).</summary>
    public static bool ExposesDebug(HttpContext context) => context.RequestServices.GetService<OAuth2Settings>()?.ExposeInternalErrors ?? false;

    /// <summary>Marks the routes whose errors are Hydra's (see <see cref="OAuth2ServiceCollectionExtensions"/>), also for failures outside this filter.</summary>
    public sealed class Routes
    {
        public static readonly Routes Instance = new();
    }

    /// <param name="retryAfterSeconds">When set, a <c>Retry-After</c> header (the database outage's 503).</param>
    public static Task WriteAsync(HttpContext context, OAuth2Error error, int? retryAfterSeconds = null)
    {
        // A bearer-token error's challenge (userinfo) survives the reset of the response; cookies set before the failure do not.
        var challenge = context.Response.Headers.WWWAuthenticate;
        context.Response.Clear();
        if (challenge.Count > 0) context.Response.Headers.WWWAuthenticate = challenge;
        context.Response.Headers.CacheControl = "no-store";
        if (retryAfterSeconds is { } wait) context.Response.Headers.RetryAfter = wait.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return HttpJson.WriteAsync(context, error.StatusCode, error.ToJson(ExposesDebug(context)));
    }
}
