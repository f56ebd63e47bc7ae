using Gatehouse.Http;
using Gatehouse.Http.Errors;
using Gatehouse.RateLimiting;

namespace Gatehouse.ApiKeys;

/// <summary>
/// Guards the admin API: <c>Authorization: Bearer &lt;key&gt;</c> is always required on the public listener
/// (as an Ory Network project serves <c>/admin</c>), and on the admin listener unless
/// <c>serve.admin.require_api_key</c> is false. A client address with too many missing or wrong keys
/// (<c>gatehouse.rate_limits.admin_key_failures_per_address</c>) gets 429 before its key is looked at.
/// </summary>
public sealed class AdminAuthorization(bool requireOnAdminListener)
{
    public async ValueTask<object?> FilterAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var listener = http.Features.Get<ListenerFeature>()?.Kind ?? ListenerKind.Public;
        if (listener == ListenerKind.Public || requireOnAdminListener)
        {
            var limiter = http.RequestServices.GetRequiredService<RateLimiter>();
            var bucket = limiter.ClientBucket(http);
            if (bucket is not null && await limiter.PeekAsync(RateLimitKind.AdminKeyFailuresPerAddress, bucket, http.RequestAborted) is { Allowed: false } refused)
                throw RateLimiter.TooManyRequests(RateLimitKind.AdminKeyFailuresPerAddress, refused.RetryAfter);
            var header = http.Request.Headers.Authorization.ToString();
            const string bearer = "Bearer ";
            if (!header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase))
            {
                if (bucket is not null) await limiter.CountAsync(RateLimitKind.AdminKeyFailuresPerAddress, bucket, http.RequestAborted);
                throw GatehouseError.Unauthorized("The request did not include an API key. Send it as \"Authorization: Bearer <key>\".");
            }
            var keys = http.RequestServices.GetRequiredService<ApiKeyService>();
            if (!await keys.VerifyAsync(header[bearer.Length..].Trim(), http.RequestAborted))
            {
                if (bucket is not null) await limiter.CountAsync(RateLimitKind.AdminKeyFailuresPerAddress, bucket, http.RequestAborted);
                throw GatehouseError.Unauthorized("The API key is invalid or has been revoked.");
            }
        }
        return await next(context);
    }
}
