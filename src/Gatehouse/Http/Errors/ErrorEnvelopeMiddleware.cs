using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;

namespace Gatehouse.Http.Errors;

/// <summary>
/// Turns every failure into Kratos's error envelope: <see cref="GatehouseError"/> as thrown,
/// request-body problems as 400/413, anything else as a 500 without internals. Errors of browser (non-JSON) requests
/// that Kratos forwards to the error UI (<see cref="ErrorForwarding"/>) are stored and answered with a 303 there instead.
/// </summary>
public sealed class ErrorEnvelopeMiddleware(RequestDelegate next, ILogger<ErrorEnvelopeMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
            if (context.Response.StatusCode is 404 or 405 && !context.Response.HasStarted && (context.GetEndpoint() is null || IsMethodNotAllowedEndpoint(context.GetEndpoint())))
            {
                var code = context.Response.StatusCode;
                await WriteAsync(context, new GatehouseError(code, code == 404 ? "The requested route does not exist." : "The request method is not supported by this route."));
            }
        }
        catch (GatehouseError error)
        {
            if (await ForwardAsync(context, error)) return;
            await WriteAsync(context, error);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await WriteAsync(context, GatehouseError.PayloadTooLarge("The request body exceeds the maximum allowed size of 5 MB."));
        }
        catch (BadHttpRequestException ex)
        {
            await WriteAsync(context, GatehouseError.BadRequest(ex.Message));
        }
        catch (JsonException ex)
        {
            await WriteAsync(context, GatehouseError.BadRequest($"Unable to decode the request body as JSON: {ex.Message}"));
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // Client went away; nothing to write.
        }
        catch (Exception ex) when (Persistence.DbErrors.IsUnavailable(ex) && !context.RequestAborted.IsCancellationRequested)
        {
            // Every request fails while the database is down: one warning per outage, not a stack trace per request.
            if (context.RequestServices.GetService<DatabaseOutage>()?.RecordFailure() ?? true)
                logger.LogWarning("The database is unavailable; answering 503 until it is back: {Message}", ex.GetBaseException().Message.ReplaceLineEndings(" "));
            else
                logger.LogDebug(ex, "Database unavailable on {Method} {Path}", context.Request.Method, context.Request.Path);
            // Not forwarded to the error UI: storing the error would need the database.
            if (context.GetEndpoint()?.Metadata.GetMetadata<OAuth2.OAuth2ErrorFilter.Routes>() is not null)
            {
                // Hydra's routes answer in Hydra's shape: fosite's temporarily_unavailable.
                if (context.Response.HasStarted) return;
                await OAuth2.OAuth2ErrorFilter.WriteAsync(context, OAuth2.OAuth2ErrorFilter.TemporarilyUnavailable(), DatabaseOutage.RetryAfterSeconds);
                return;
            }
            await WriteAsync(context, DatabaseOutage.Error(), keepCookies: false);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Unhandled error on {Method} {Path}", context.Request.Method, context.Request.Path);
            var error = new GatehouseError(500);
            // Kratos forwards unexpected errors too (as a plain 500, without internals).
            if (await ForwardAsync(context, error, keepCookies: false)) return;
            await WriteAsync(context, error, keepCookies: false);
        }
    }

    /// <summary>
    /// The endpoint routing answers a known path with an unsupported method through (ASP.NET Core's
    /// <c>HttpMethodMatcherPolicy</c>, which sets only the status and <c>Allow</c>); it gets the envelope too, as every other error does.
    /// </summary>
    private static bool IsMethodNotAllowedEndpoint(Endpoint? endpoint) =>
        endpoint is not null && endpoint is not RouteEndpoint && endpoint.DisplayName == "405 HTTP Method Not Supported";

    /// <summary>Hands the error to the error UI when this request's route forwards it; false when the envelope is to be written.</summary>
    private static async Task<bool> ForwardAsync(HttpContext context, GatehouseError error, bool keepCookies = true)
    {
        if (context.Response.HasStarted || !ErrorForwarding.Applies(context, error)) return false;
        if (context.RequestServices.GetService<IErrorForwarder>() is not { } forwarder) return false;
        ClearResponse(context, keepCookies);
        SetRetryAfter(context, error);
        return await forwarder.ForwardAsync(context, error);
    }

    /// <summary>
    /// Writes the envelope in place of whatever the handler had started. Cookies the handler set before a deliberate
    /// error stay, as in Kratos (whose writer never drops headers): e.g. the session cookie of a recovery that answers
    /// an SPA with 422 <c>browser_location_change_required</c>. After an unexpected failure they are dropped.
    /// </summary>
    public static async Task WriteAsync(HttpContext context, GatehouseError error, bool keepCookies = true)
    {
        if (context.Response.HasStarted) return;
        ClearResponse(context, keepCookies);
        context.Response.StatusCode = error.HttpStatus ?? error.Code;
        SetRetryAfter(context, error);
        context.Response.ContentType = "application/json";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await using var writer = new Utf8JsonWriter(context.Response.Body, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        error.ToEnvelope().WriteTo(writer);
        await writer.FlushAsync(context.RequestAborted);
    }

    private static void SetRetryAfter(HttpContext context, GatehouseError error)
    {
        if (error.RetryAfter is { } wait)
            context.Response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Drops whatever the handler had started, keeping the cookies it set when <paramref name="keepCookies"/>.</summary>
    private static void ClearResponse(HttpContext context, bool keepCookies)
    {
        var cookies = context.Response.Headers.SetCookie;
        context.Response.Clear();
        NoCache.Apply(context.Response);
        if (keepCookies && cookies.Count > 0) context.Response.Headers.SetCookie = cookies;
    }
}
