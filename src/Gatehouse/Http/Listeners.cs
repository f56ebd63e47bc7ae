namespace Gatehouse.Http;

public enum ListenerKind
{
    Public,
    Admin,
}

/// <summary>Which listener a request arrived on; set by <see cref="ListenerMiddleware"/> from the local port.</summary>
public sealed record ListenerFeature(ListenerKind Kind);

/// <summary>
/// Tells the two listeners apart by local port. On the admin listener, paths without the <c>/admin</c> prefix get it
/// (Kratos serves <c>:4434/identities</c> and <c>:4434/admin/identities</c> alike).
/// </summary>
public sealed class ListenerMiddleware(RequestDelegate next, ListenerPorts ports)
{
    private static readonly ListenerFeature Admin = new(ListenerKind.Admin);
    private static readonly ListenerFeature Public = new(ListenerKind.Public);

    public Task InvokeAsync(HttpContext context)
    {
        var isAdmin = ports.IsAdmin(context);
        context.Features.Set(isAdmin ? Admin : Public);
        NoCache.Apply(context.Response);
        if (isAdmin && context.Request.Path.StartsWithSegments("/self-service", StringComparison.Ordinal))
        {
            // Self-service routes live on the public listener; Kratos's admin port sends browsers there.
            // (Prefix-less /sessions/... on the admin port is the admin session API, as in Kratos.)
            context.Response.StatusCode = StatusCodes.Status307TemporaryRedirect;
            context.Response.Headers.Location = ports.PublicBaseUrl.TrimEnd('/') + context.Request.Path + context.Request.QueryString;
            return Task.CompletedTask;
        }
        if (isAdmin && !context.Request.Path.StartsWithSegments("/admin", StringComparison.Ordinal))
        {
            context.Request.Path = new PathString("/admin").Add(context.Request.Path);
        }
        return next(context);
    }
}

/// <summary>
/// The configured ports; when both are the same port (or socket), everything is served as public (one base URL, as Ory
/// Network). An admin listener on a unix socket is told apart by a mark its connections carry.
/// </summary>
public sealed class ListenerPorts(int publicPort, int adminPort, string publicBaseUrl = "", bool adminOnSocket = false, bool? shared = null)
{
    /// <summary>The connection item that marks a connection to the admin listener's unix socket.</summary>
    public const string AdminConnection = "gatehouse.listener.admin";

    private readonly bool _shared = shared ?? adminPort == publicPort;

    public string PublicBaseUrl => publicBaseUrl;

    public bool IsAdmin(int localPort) => !_shared && !adminOnSocket && localPort == adminPort;

    public bool IsAdmin(HttpContext context)
    {
        if (_shared) return false;
        if (!adminOnSocket) return context.Connection.LocalPort == adminPort;
        return context.Features.Get<Microsoft.AspNetCore.Connections.Features.IConnectionItemsFeature>()?.Items.ContainsKey(AdminConnection) == true;
    }
}
