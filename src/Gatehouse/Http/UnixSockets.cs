using System.Runtime.InteropServices;
using Gatehouse.Config;

namespace Gatehouse.Http;

/// <summary>
/// Listeners on a unix domain socket: <c>serve.public.host</c> / <c>serve.admin.host</c> of the form
/// <c>unix:/path/to/socket</c> (the port is then unused), with the socket file's permissions from
/// <c>serve.*.socket</c> — as Kratos (ory/x <c>networkx.MakeListener</c>, <c>configx.UnixPermission.SetPermission</c>:
/// chmod to <c>mode</c>, default 0755, then chown to <c>owner</c> / <c>group</c> looked up by name).
/// </summary>
public static class UnixSockets
{
    public const string Prefix = "unix:";

    /// <summary>The socket's path when <paramref name="host"/> names one, else null.</summary>
    public static string? PathOf(string? host) =>
        host is not null && host.StartsWith(Prefix, StringComparison.Ordinal) ? host[Prefix.Length..] : null;

    /// <summary>How a listener is addressed in messages: the socket, or host:port.</summary>
    public static string Describe(ListenerOptions listener) =>
        PathOf(listener.Host) is { } path ? Prefix + path : $"{listener.Host}:{listener.Port}";

    /// <summary>
    /// Whether the admin API is served by the public listener: both on one TCP port (Ory Network style, one base URL),
    /// or both on one socket.
    /// </summary>
    public static bool Shared(ServeOptions serve)
    {
        var publicSocket = PathOf(serve.Public.Host);
        var adminSocket = PathOf(serve.Admin.Host);
        if (publicSocket is null && adminSocket is null) return serve.Admin.Port == serve.Public.Port;
        return publicSocket is not null && publicSocket == adminSocket;
    }

    /// <summary>Applies <c>serve.*.socket</c> to a socket file that exists (the listener is bound).</summary>
    /// <exception cref="IOException">The mode cannot be set, the owner or group does not exist, or chown is refused.</exception>
    public static void SetPermissions(string path, SocketOptions socket, string name)
    {
        if (OperatingSystem.IsWindows()) throw new IOException($"{name}.socket: unix socket permissions cannot be set on Windows");
        File.SetUnixFileMode(path, (UnixFileMode)socket.Mode);
        var uid = string.IsNullOrEmpty(socket.Owner) ? -1 : Lookup(socket.Owner, isGroup: false, name);
        var gid = string.IsNullOrEmpty(socket.Group) ? -1 : Lookup(socket.Group, isGroup: true, name);
        if (uid == -1 && gid == -1) return;
        // The BCL has no chown; libc's is what Go's os.Chown calls.
        if (Native.chown(path, unchecked((uint)uid), unchecked((uint)gid)) != 0)
        {
            throw new IOException($"{name}.socket: chown {path}: {Marshal.GetLastPInvokeErrorMessage()}");
        }
    }

    private static int Lookup(string nameOrId, bool isGroup, string name)
    {
        // Go's user.Lookup / user.LookupGroup read the same databases (getpwnam_r / getgrnam_r, or /etc/passwd and /etc/group).
        var entry = isGroup ? Native.getgrnam(nameOrId) : Native.getpwnam(nameOrId);
        if (entry == IntPtr.Zero)
        {
            throw new IOException(isGroup ? $"{name}.socket.group: group: unknown group {nameOrId}" : $"{name}.socket.owner: user: unknown user {nameOrId}");
        }
        // struct passwd { char *pw_name; char *pw_passwd; uid_t pw_uid; ... }, struct group { char *gr_name; char *gr_passwd; gid_t gr_gid; ... }
        return Marshal.ReadInt32(entry, 2 * IntPtr.Size);
    }

    private static class Native
    {
        // Called once at start-up (getpwnam's static buffer is read before anything else can call it).
        [DllImport("libc", SetLastError = true)]
        internal static extern int chown([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint owner, uint group);

        [DllImport("libc")]
        internal static extern IntPtr getpwnam([MarshalAs(UnmanagedType.LPUTF8Str)] string name);

        [DllImport("libc")]
        internal static extern IntPtr getgrnam([MarshalAs(UnmanagedType.LPUTF8Str)] string name);
    }
}

/// <summary>Sets the permissions of the listeners' socket files once Kestrel has bound them; a failure stops the start, as in Kratos.</summary>
internal sealed class UnixSocketPermissions(GatehouseOptions options) : IHostedLifecycleService
{
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        // Only the sockets this process bound (serve public / serve admin bind one).
        var shared = UnixSockets.Shared(options.Serve);
        if (shared || options.Serve.Served != ServedListeners.Admin) Apply(options.Serve.Public, "serve.public");
        if (!shared && options.Serve.Served != ServedListeners.Public) Apply(options.Serve.Admin, "serve.admin");
        return Task.CompletedTask;
    }

    private static void Apply(ListenerOptions listener, string name)
    {
        if (UnixSockets.PathOf(listener.Host) is { } path) UnixSockets.SetPermissions(path, listener.Socket, name);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
