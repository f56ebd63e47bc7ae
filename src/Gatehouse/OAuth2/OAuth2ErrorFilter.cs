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
            await WriteAsync(context.HttpContext, new OAuth2Error(error.Code, GatehouseError.DefaultMessage(error.Code), error.Reason ?? error.Message));
            return Results.Empty;
        }
    }

    public static Task WriteAsync(HttpContext context, OAuth2Error error)
    {
        // A bearer-token error's challenge (userinfo) survives the reset of the response.
        var challenge = context.Response.Headers.WWWAuthenticate;
        context.Response.Clear();
        if (challenge.Count > 0) context.Response.Headers.WWWAuthenticate = challenge;
        context.Response.Headers.CacheControl = "no-store";
        return HttpJson.WriteAsync(context, error.StatusCode, error.ToJson());
    }
}
