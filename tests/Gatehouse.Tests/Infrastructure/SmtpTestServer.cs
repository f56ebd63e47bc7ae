using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MimeKit;
using SmtpServer;
using SmtpServer.Authentication;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>A real SMTP server in the test process on a free loopback port; every accepted e-mail is kept in <see cref="Messages"/>.</summary>
public sealed class SmtpTestServer : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _running;
    private readonly Store _store = new();

    private SmtpTestServer(int port, X509Certificate2? implicitTlsCertificate, (string User, string Password)? login)
    {
        Port = port;
        var options = new SmtpServerOptionsBuilder()
            .ServerName("localhost")
            .Endpoint(b =>
            {
                b.Endpoint(new IPEndPoint(IPAddress.Loopback, port));
                if (implicitTlsCertificate is not null) b.IsSecure(true).Certificate(implicitTlsCertificate);
                if (login is not null) b.AuthenticationRequired(true).AllowUnsecureAuthentication(true);
            })
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(_store);
        if (login is { } l)
        {
            services.Add(new DelegatingUserAuthenticator((user, password) =>
            {
                var ok = user == l.User && password == l.Password;
                if (ok) AuthenticatedUser = user;
                return ok;
            }));
        }
        var server = new SmtpServer.SmtpServer(options, services);
        _running = server.StartAsync(_stop.Token);
    }

    public int Port { get; }

    /// <summary>The connection URI Gatehouse should use: cleartext, since this server offers no STARTTLS.</summary>
    public string ConnectionUri => $"smtp://127.0.0.1:{Port}/?disable_starttls=true";

    public IReadOnlyCollection<MimeMessage> Messages => _store.Messages;

    /// <summary>The user that logged in, when the server was started with a login.</summary>
    public string? AuthenticatedUser { get; private set; }

    public static Task<SmtpTestServer> StartAsync() => PortClash.RetryAsync(() => StartOnAsync(TestServer.FreePort()));

    /// <summary>An implicit-TLS server (<c>smtps://</c>) with a self-signed certificate for <paramref name="hostName"/>, optionally requiring a login.</summary>
    public static Task<SmtpTestServer> StartTlsAsync(string hostName, (string User, string Password)? login = null) =>
        PortClash.RetryAsync(() => StartOnAsync(TestServer.FreePort(), SelfSigned(hostName), login));

    public static async Task<SmtpTestServer> StartOnAsync(int port, X509Certificate2? implicitTlsCertificate = null, (string User, string Password)? login = null)
    {
        var server = new SmtpTestServer(port, implicitTlsCertificate, login);
        // Wait until the listener accepts connections.
        for (var i = 0; i < 50; i++)
        {
            if (server._running.IsFaulted)
            {
                // The listener could not start (e.g. the port was taken): surface why, so a caller can retry.
                var error = server._running.Exception!.GetBaseException();
                server._stop.Dispose();
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
            }
            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, server.Port);
                return server;
            }
            catch (System.Net.Sockets.SocketException)
            {
                await Task.Delay(20);
            }
        }
        throw new InvalidOperationException("the test SMTP server did not start");
    }

    public async Task<IReadOnlyCollection<MimeMessage>> WaitForAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (_store.Messages.Count < count && DateTime.UtcNow < deadline) await Task.Delay(20);
        return _store.Messages;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _running;
        }
        catch (OperationCanceledException)
        {
            // stopped
        }
        _stop.Dispose();
    }

    private static X509Certificate2 SelfSigned(string hostName)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={hostName}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(hostName);
        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        // SslStream on Linux needs the key in an exportable store form; a PKCS#12 round trip gives that.
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pfx), null);
    }

    private sealed class Store : MessageStore
    {
        public ConcurrentQueue<MimeMessage> Messages { get; } = new();

        public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            using var stream = new MemoryStream(buffer.ToArray());
            Messages.Enqueue(await MimeMessage.LoadAsync(stream, cancellationToken));
            return SmtpResponse.Ok;
        }
    }
}
