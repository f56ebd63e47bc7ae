namespace Gatehouse.Http;

/// <summary>
/// Kratos wraps every route of its public and admin routers in <c>NoCacheHandle</c> (<c>x/router.go</c>): answers carry
/// sessions, tokens, flows with CSRF tokens and personal data, so no browser or proxy may keep them. Applied once per
/// request by <see cref="ListenerMiddleware"/> (and again after the error middleware clears a response); a handler that
/// serves something cacheable (the UI stylesheet) overrides it.
/// </summary>
public static class NoCache
{
    public const string Value = "private, no-cache, no-store, must-revalidate";

    public static void Apply(HttpResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.Headers.CacheControl = Value;
    }
}
