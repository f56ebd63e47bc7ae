using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Courier;
using Gatehouse.Tests.Config;
using Gatehouse.Tests.Hooks;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.Courier.CourierFixtures;

namespace Gatehouse.Tests.Courier;

/// <summary>
/// <c>courier.smtp.client_cert_path</c> / <c>client_key_path</c> (Kratos courier/smtp.go <c>NewSMTPClient</c>: a PEM pair
/// presented in the TLS handshake; a pair that does not load is logged and mail goes without it). The SMTP server sits
/// behind a real implicit-TLS listener that requires a client certificate and records the one presented.
/// </summary>
public sealed class SmtpClientCertificateTests : IDisposable
{
    private readonly ConfigFiles _files = new();

    public void Dispose() => _files.Dispose();

    /// <summary>Writes a fresh self-signed client certificate and its PKCS#1 key as PEM files; returns the paths and the SHA-256 hash.</summary>
    private (string Cert, string Key, string Hash) WriteClientCertificate(string name = "client")
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=gatehouse-courier", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var certPath = _files.Write(name + ".crt", cert.ExportCertificatePem());
        var keyPath = _files.Write(name + ".key", key.ExportRSAPrivateKeyPem());
        return (certPath, keyPath, cert.GetCertHashString(HashAlgorithmName.SHA256));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_configured_client_certificate_is_presented_and_the_mail_delivered(string db)
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var tls = await ClientCertificateTlsProxy.StartAsync(smtp.Port);
        var client = WriteClientCertificate();
        await using var s = await StartAsync(db, $"smtps://127.0.0.1:{tls.Port}/?skip_ssl_verify=true", c =>
        {
            c.Smtp.ClientCertPath = client.Cert;
            c.Smtp.ClientKeyPath = client.Key;
        });
        var queued = await QueueAsync(s, "login_code_valid", "cert@example.com", new JsonObject { ["login_code"] = "135790" });

        Assert.Equal(1, await s.Services.GetRequiredService<CourierWorker>().ProcessBatchAsync(CancellationToken.None));

        Assert.Equal(client.Hash, Assert.Single(tls.Presented));
        Assert.Contains("135790", Assert.Single(await smtp.WaitForAsync(1, TimeSpan.FromSeconds(5))).TextBody, StringComparison.Ordinal);
        Assert.Equal(CourierMessageStatus.Sent, (await LoadAsync(s, queued.Id)).Status);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Without_a_client_certificate_a_server_requiring_one_refuses_and_the_attempt_fails(string db)
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        await using var tls = await ClientCertificateTlsProxy.StartAsync(smtp.Port);
        await using var s = await StartAsync(db, $"smtps://127.0.0.1:{tls.Port}/?skip_ssl_verify=true");
        var queued = await QueueAsync(s, "login_code_valid", "nocert@example.com", new JsonObject { ["login_code"] = "135791" });

        Assert.Equal(1, await s.Services.GetRequiredService<CourierWorker>().ProcessBatchAsync(CancellationToken.None));

        Assert.Equal(new string?[] { null }, tls.Presented);
        Assert.Empty(smtp.Messages);
        var stored = await LoadAsync(s, queued.Id);
        Assert.Equal(CourierMessageStatus.Queued, stored.Status);
        Assert.Equal("failed", Assert.Single(stored.Dispatches).Status);
    }

    [Fact]
    public void The_keys_are_read_from_kratos_yaml_and_a_pair_that_does_not_load_is_logged_naming_the_keys()
    {
        var client = WriteClientCertificate();
        var result = ConfigLoader.Load([_files.Write("kratos.yml", $"""
            dsn: memory
            courier:
              smtp:
                connection_uri: smtps://mail.example:465/
                client_cert_path: {client.Cert}
                client_key_path: {client.Key}
            """)], new Dictionary<string, string?>(), dev: false);
        Assert.DoesNotContain(result.Warnings, w => w.Contains("courier", StringComparison.Ordinal));
        using (var loaded = Sender(result.Options, out var quiet))
        {
            Assert.Equal(client.Hash, loaded.ClientCertificate!.GetCertHashString(HashAlgorithmName.SHA256));
            Assert.True(loaded.ClientCertificate.HasPrivateKey);
            Assert.Empty(quiet.Lines);
        }

        // A missing key file, and a key that is not the certificate's: logged as an error, no certificate (Kratos).
        var other = WriteClientCertificate("other");
        foreach (var key in new[] { Path.Combine(Path.GetDirectoryName(client.Key)!, "missing.key"), other.Key })
        {
            result.Options.Courier.Smtp.ClientKeyPath = key;
            using var sender = Sender(result.Options, out var logs);
            Assert.Null(sender.ClientCertificate);
            var line = Assert.Single(logs.Lines);
            Assert.StartsWith("Error ", line, StringComparison.Ordinal);
            Assert.Contains($"courier.smtp.client_cert_path ({client.Cert}) / client_key_path ({key})", line, StringComparison.Ordinal);
        }

        // Only one of the two: not used (Kratos needs both), with a warning.
        result.Options.Courier.Smtp.ClientKeyPath = "";
        using var half = Sender(result.Options, out var halfLogs);
        Assert.Null(half.ClientCertificate);
        Assert.StartsWith("Warning ", Assert.Single(halfLogs.Lines), StringComparison.Ordinal);
    }

    private static SmtpMessageSender Sender(GatehouseOptions options, out LogCapture logs)
    {
        logs = new LogCapture();
        return new SmtpMessageSender(options, new Microsoft.Extensions.Logging.Logger<SmtpMessageSender>(new Microsoft.Extensions.Logging.LoggerFactory([logs])));
    }

    /// <summary>
    /// A real implicit-TLS listener on loopback that requires a client certificate, records the SHA-256 hash of each one
    /// presented (null when none), and relays the decrypted bytes to a cleartext SMTP server.
    /// </summary>
    private sealed class ClientCertificateTlsProxy : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly X509Certificate2 _serverCertificate;
        private readonly int _backendPort;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _accepting;

        private ClientCertificateTlsProxy(int backendPort)
        {
            _backendPort = backendPort;
            using var key = RSA.Create(2048);
            var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            _serverCertificate = X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pfx), null);
            _listener = new TcpListener(IPAddress.Loopback, 0);
            _listener.Start();
            _accepting = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public ConcurrentQueue<string?> Presented { get; } = new();

        public static Task<ClientCertificateTlsProxy> StartAsync(int backendPort) => Task.FromResult(new ClientCertificateTlsProxy(backendPort));

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync(_stop.Token);
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }
                _ = RelayAsync(client);
            }
        }

        private async Task RelayAsync(TcpClient client)
        {
            using (client)
            {
                await using var tls = new SslStream(client.GetStream(), leaveInnerStreamOpen: false, (_, certificate, _, _) =>
                {
                    Presented.Enqueue(certificate?.GetCertHashString(HashAlgorithmName.SHA256));
                    return certificate is not null;
                });
                try
                {
                    await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _serverCertificate, ClientCertificateRequired = true }, _stop.Token);
                    using var backend = new TcpClient();
                    await backend.ConnectAsync(IPAddress.Loopback, _backendPort, _stop.Token);
                    var plain = backend.GetStream();
                    await Task.WhenAny(tls.CopyToAsync(plain, _stop.Token), plain.CopyToAsync(tls, _stop.Token));
                }
                catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException or OperationCanceledException or SocketException)
                {
                    // The handshake was refused or a side hung up.
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _accepting;
            _listener.Dispose();
            _serverCertificate.Dispose();
            _stop.Dispose();
        }
    }
}
