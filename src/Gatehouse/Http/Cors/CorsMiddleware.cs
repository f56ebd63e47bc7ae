using Gatehouse.Config;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.Http.Cors;

/// <summary>
/// CORS for both listeners, as Kratos answers through rs/cors: <c>serve.public.cors</c> on the public listener,
/// <c>serve.admin.cors</c> on the admin listener and for <c>/admin</c> routes on the public one. It runs before
/// everything else, so a preflight (<c>OPTIONS</c> with <c>Access-Control-Request-Method</c>) is answered 204 without
/// authentication, CSRF or routing (unless <c>options_passthrough</c> hands it on after setting its headers); an origin, method or header that is not allowed gets the 204 without any
/// <c>Access-Control-*</c> header, which the browser reads as a refusal. On other requests the headers are added when
/// the response starts, so error envelopes written later carry them too. A disabled listener is left untouched.
/// </summary>
public sealed partial class CorsMiddleware(RequestDelegate next, GatehouseOptions options, ListenerPorts ports, ILogger<CorsMiddleware> logger)
{
    private readonly CorsPolicy? _public = options.Serve.Public.Cors.Enabled ? new CorsPolicy(options.Serve.Public.Cors) : null;
    private readonly CorsPolicy? _admin = options.Serve.Admin.Cors.Enabled ? new CorsPolicy(options.Serve.Admin.Cors) : null;

    private static readonly string[] PreflightVary = ["Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"];

    public Task InvokeAsync(HttpContext context)
    {
        var isAdmin = ports.IsAdmin(context) || context.Request.Path.StartsWithSegments("/admin", StringComparison.Ordinal);
        var policy = isAdmin ? _admin : _public;
        if (policy is null) return next(context);

        var request = context.Request;
        var origin = request.Headers.Origin.ToString();
        if (HttpMethods.IsOptions(request.Method) && !StringValues.IsNullOrEmpty(request.Headers.AccessControlRequestMethod))
        {
            // rs/cors Cors.ServeHTTP: with OptionsPassthrough the preflight's headers are set and the request goes on to
            // the next handler, which writes the status (Kratos's router: 405 for a route without OPTIONS). They are set
            // when the answer starts, so an error answer that resets the headers carries them too.
            if (policy.OptionsPassthrough)
            {
                context.Response.OnStarting(() =>
                {
                    AnswerPreflight(context, policy, origin);
                    return Task.CompletedTask;
                });
                return next(context);
            }
            AnswerPreflight(context, policy, origin);
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        }

        context.Response.OnStarting(() =>
        {
            AddActualRequestHeaders(context, policy, origin);
            return Task.CompletedTask;
        });
        return next(context);
    }

    private void AnswerPreflight(HttpContext context, CorsPolicy policy, string origin)
    {
        var response = context.Response;
        response.Headers.Append("Vary", PreflightVary);
        if (origin.Length == 0) return;
        if (!policy.IsOriginAllowed(origin))
        {
            if (policy.Debug) LogRefused(logger, "preflight", origin, context.Request.Path, "origin not in allowed_origins");
            return;
        }
        var method = context.Request.Headers.AccessControlRequestMethod.ToString();
        if (!policy.IsMethodAllowed(method))
        {
            if (policy.Debug) LogRefused(logger, "preflight", origin, context.Request.Path, $"method {method} not in allowed_methods");
            return;
        }
        var headers = RequestedHeaders(context.Request.Headers.AccessControlRequestHeaders);
        if (!policy.AreHeadersAllowed(headers))
        {
            if (policy.Debug) LogRefused(logger, "preflight", origin, context.Request.Path, $"headers {string.Join(", ", headers)} not all in allowed_headers");
            return;
        }
        SetOrigin(response, policy, origin);
        // The spec lets a server answer with just the method and headers asked for, as rs/cors does.
        response.Headers.AccessControlAllowMethods = method.ToUpperInvariant();
        if (headers.Count > 0) response.Headers.AccessControlAllowHeaders = string.Join(", ", headers);
        if (policy.MaxAge > 0) response.Headers.AccessControlMaxAge = policy.MaxAge.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (policy.Debug) LogAllowed(logger, "preflight", origin, context.Request.Path);
    }

    private void AddActualRequestHeaders(HttpContext context, CorsPolicy policy, string origin)
    {
        var response = context.Response;
        response.Headers.Append("Vary", "Origin");
        if (origin.Length == 0) return;
        if (!policy.IsOriginAllowed(origin))
        {
            if (policy.Debug) LogRefused(logger, "request", origin, context.Request.Path, "origin not in allowed_origins");
            return;
        }
        // Simple requests cannot be refused by method in the spec, but rs/cors (and so Kratos) applies allowed_methods to them too.
        if (!policy.IsMethodAllowed(context.Request.Method))
        {
            if (policy.Debug) LogRefused(logger, "request", origin, context.Request.Path, $"method {context.Request.Method} not in allowed_methods");
            return;
        }
        SetOrigin(response, policy, origin);
        if (policy.ExposedHeaders.Length > 0) response.Headers.AccessControlExposeHeaders = policy.ExposedHeaders;
        if (policy.Debug) LogAllowed(logger, "request", origin, context.Request.Path);
    }

    private static void SetOrigin(HttpResponse response, CorsPolicy policy, string origin)
    {
        if (policy.AnswersWildcard(origin))
        {
            response.Headers.AccessControlAllowOrigin = "*";
            return;
        }
        response.Headers.AccessControlAllowOrigin = origin;
        if (policy.AllowCredentials) response.Headers.AccessControlAllowCredentials = "true";
    }

    /// <summary>At start-up: <c>*</c> with credentials does not do what its author probably hoped (see <see cref="CorsPolicy.AnswersWildcard"/>).</summary>
    public static void WarnAboutWildcardWithCredentials(ILogger logger, GatehouseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var (key, cors) in new[] { ("serve.public.cors", options.Serve.Public.Cors), ("serve.admin.cors", options.Serve.Admin.Cors) })
        {
            if (cors.Enabled && cors.AllowCredentials && cors.AllowedOrigins.Contains("*")) LogWildcardWithCredentials(logger, key);
        }
    }

    /// <summary>The comma-separated names of <c>Access-Control-Request-Headers</c>, trimmed, empty entries dropped.</summary>
    private static List<string> RequestedHeaders(StringValues values)
    {
        var headers = new List<string>();
        foreach (var value in values)
        {
            if (value is null) continue;
            foreach (var part in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)) headers.Add(part);
        }
        return headers;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Key}: allowed_origins contains \"*\" with allow_credentials: other origins get \"Access-Control-Allow-Origin: *\" without credentials, so browsers send no cookies cross-origin; list the app's origins (e.g. https://app.example.com or https://*.example.com) for that")]
    private static partial void LogWildcardWithCredentials(ILogger logger, string key);

    [LoggerMessage(Level = LogLevel.Information, Message = "CORS {Kind} from {Origin} to {Path}: allowed")]
    private static partial void LogAllowed(ILogger logger, string kind, string origin, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "CORS {Kind} from {Origin} to {Path}: refused, {Reason}")]
    private static partial void LogRefused(ILogger logger, string kind, string origin, string path, string reason);
}
