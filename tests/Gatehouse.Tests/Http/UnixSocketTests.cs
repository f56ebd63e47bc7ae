using System.Net;
using System.Net.Sockets;
using Gatehouse.Config;
using Gatehouse.Http;
using Gatehouse.Tests.Config;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Http;

/// <summary>
/// <c>serve.*.host: unix:/path</c> with <c>serve.*.socket</c>: the listeners on unix domain sockets, as Kratos (ory/x
/// <c>networkx.MakeListener</c>, <c>configx.UnixPermission.SetPermission</c>).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class UnixSocketTests : IDisposable
{
    private const string Secret = "a-cookie-secret-of-32-characters";
    private readonly ConfigFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Both_listeners_answer_on_their_sockets_and_keep_their_roles(string db)
    {
        var publicSocket = Path.Combine(_files.Folder, "public.sock");
        var adminSocket = Path.Combine(_files.Folder, "admin.sock");
        await using var server = await TestServer.StartAsync(db, o =>
        {
            o.Serve.Public.Host = "unix:" + publicSocket;
            o.Serve.Admin.Host = "unix:" + adminSocket;
            o.Serve.Admin.Socket.Mode = 432; // 0660
        });

        using var publicClient = SocketClient(publicSocket);
        using var adminClient = SocketClient(adminSocket);

        using (var alive = await publicClient.GetAsync(new Uri("http://gatehouse/health/alive")))
        {
            Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        }

        // The public socket is the public listener: /admin needs a key there as on the public port…
        using (var adminOnPublic = await publicClient.GetAsync(new Uri("http://gatehouse/admin/identities")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, adminOnPublic.StatusCode);
        }

        // …and the admin socket is the admin listener: prefix-less admin paths, self-service sent to the public URL.
        adminClient.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", server.ApiKey);
        using (var identities = await adminClient.GetAsync(new Uri("http://gatehouse/identities")))
        {
            Assert.Equal(HttpStatusCode.OK, identities.StatusCode);
            Assert.Equal("[]", await identities.Content.ReadAsStringAsync());
        }
        using (var selfService = await adminClient.GetAsync(new Uri("http://gatehouse/self-service/login/api")))
        {
            Assert.Equal(HttpStatusCode.TemporaryRedirect, selfService.StatusCode);
            Assert.StartsWith(server.Options.Serve.Public.BaseUrl!.TrimEnd('/') + "/self-service/login/api", selfService.Headers.Location!.ToString(), StringComparison.Ordinal);
        }

        // A login flow made over the public socket works end to end (the flow's URLs name the configured base URL).
        using (var flow = await publicClient.GetAsync(new Uri("http://gatehouse/self-service/login/api")))
        {
            Assert.Equal(HttpStatusCode.OK, flow.StatusCode);
        }

        Assert.Equal((UnixFileMode)493, File.GetUnixFileMode(publicSocket)); // Kratos's default 0755
        Assert.Equal((UnixFileMode)432, File.GetUnixFileMode(adminSocket));
    }

    [Fact]
    public void The_owner_and_group_are_set_by_name()
    {
        if (Environment.UserName != "root") Assert.Skip("chown to another group needs root; this run is not root");
        var path = Path.Combine(_files.Folder, "owned.sock");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        UnixSockets.SetPermissions(path, new SocketOptions { Owner = "root", Group = "daemon", Mode = 416 }, "serve.public");
        Assert.Equal((UnixFileMode)416, File.GetUnixFileMode(path));
        var status = new FileOwner(path);
        Assert.Equal(0, status.Uid);
        Assert.Equal(1, status.Gid); // daemon is gid 1 on Debian
    }

    [Fact]
    public void An_unknown_owner_or_group_is_named()
    {
        var path = Path.Combine(_files.Folder, "unknown.sock");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        var user = Assert.Throws<IOException>(() => UnixSockets.SetPermissions(path, new SocketOptions { Owner = "no-such-user-gatehouse" }, "serve.admin"));
        Assert.Equal("serve.admin.socket.owner: user: unknown user no-such-user-gatehouse", user.Message);
        var group = Assert.Throws<IOException>(() => UnixSockets.SetPermissions(path, new SocketOptions { Group = "no-such-group-gatehouse" }, "serve.admin"));
        Assert.Equal("serve.admin.socket.group: group: unknown group no-such-group-gatehouse", group.Message);
    }

    [Fact]
    public void Config_keys_and_derived_values()
    {
        var file = _files.Write("socket.yml", $"""
            dsn: memory
            secrets:
              default: [{Secret}]
            serve:
              public:
                host: unix:/run/gatehouse/public.sock
                base_url: https://auth.example.com/
                socket:
                  owner: www-data
                  group: www-data
                  mode: 432
              admin:
                host: unix:/run/gatehouse/admin.sock
            """);
        var result = ConfigLoader.Load([file], new Dictionary<string, string?>(), dev: false);
        Assert.Equal(new SocketOptions { Owner = "www-data", Group = "www-data", Mode = 432 }.Mode, result.Options.Serve.Public.Socket.Mode);
        Assert.Equal("www-data", result.Options.Serve.Public.Socket.Owner);
        Assert.Equal(493, result.Options.Serve.Admin.Socket.Mode);
        Assert.DoesNotContain(result.Warnings, w => w.Contains("socket", StringComparison.Ordinal) && w.StartsWith("\"", StringComparison.Ordinal));
        Assert.Equal(
            "serve.admin.base_url is not set while serve.admin.host is a unix socket: links and redirects will name http://127.0.0.1:4434/; set it to the URL the proxy in front serves",
            Assert.Single(result.Warnings, w => w.Contains("unix socket", StringComparison.Ordinal)));
        Assert.Equal("unix:/run/gatehouse/public.sock", UnixSockets.Describe(result.Options.Serve.Public));
        Assert.False(UnixSockets.Shared(result.Options.Serve));

        var empty = _files.Write("empty.yml", $"dsn: memory\nsecrets:\n  default: [{Secret}]\nserve:\n  public:\n    host: 'unix:'\n");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load([empty], new Dictionary<string, string?>(), dev: false));
        Assert.Equal("serve.public.host: expected a socket path after \"unix:\" (e.g. unix:/run/gatehouse/public.sock)", e.Message);

        var badMode = _files.Write("mode.yml", $"dsn: memory\nsecrets:\n  default: [{Secret}]\nserve:\n  public:\n    socket:\n      mode: 512\n");
        Assert.StartsWith("serve.public.socket.mode: ", Assert.Throws<ConfigException>(() => ConfigLoader.Load([badMode], new Dictionary<string, string?>(), dev: false)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void One_socket_for_both_is_one_listener_and_everything_public()
    {
        var serve = new ServeOptions();
        serve.Public.Host = serve.Admin.Host = "unix:/run/gatehouse.sock";
        Assert.True(UnixSockets.Shared(serve));
        serve.Admin.Host = "unix:/run/gatehouse-admin.sock";
        Assert.False(UnixSockets.Shared(serve));
        serve.Admin.Host = "127.0.0.1";
        serve.Admin.Port = serve.Public.Port;
        Assert.False(UnixSockets.Shared(serve)); // the admin listener is on TCP, the public one on the socket
    }

    private static HttpClient SocketClient(string path) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, ct) =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    })
    { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>The owner and group of a file, from <c>stat --format</c> (the BCL exposes neither).</summary>
    private sealed class FileOwner
    {
        public FileOwner(string path)
        {
            var psi = new System.Diagnostics.ProcessStartInfo("stat", ["--format=%u %g", path]) { RedirectStandardOutput = true };
            using var process = System.Diagnostics.Process.Start(psi)!;
            var parts = process.StandardOutput.ReadToEnd().Trim().Split(' ');
            process.WaitForExit();
            Uid = int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
            Gid = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        }

        public int Uid { get; }
        public int Gid { get; }
    }
}
