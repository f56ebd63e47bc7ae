using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Config;
using Gatehouse.Http.Outbound;
using MailKit.Net.Smtp;
using MimeKit;

namespace Gatehouse.Courier;

/// <summary>
/// Sends e-mail through the SMTP server of <c>courier.smtp</c> with MailKit, one connection per message; presents the
/// client certificate of <c>courier.smtp.client_cert_path</c> / <c>client_key_path</c> in the TLS handshake.
/// </summary>
public sealed partial class SmtpMessageSender : IMessageSender, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly GatehouseOptions _options;
    private readonly X509Certificate2? _clientCertificate;

    public SmtpMessageSender(GatehouseOptions options, ILogger<SmtpMessageSender> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _clientCertificate = LoadClientCertificate(options.Courier.Smtp, logger);
    }

    /// <summary>The client certificate presented to the SMTP server, if one is configured and loads.</summary>
    public X509Certificate2? ClientCertificate => _clientCertificate;

    public void Dispose() => _clientCertificate?.Dispose();

    /// <summary>
    /// Loads the PEM certificate and key once, when the sender is made (the worker's start). As Kratos
    /// (courier/smtp.go <c>NewSMTPClient</c>): only when both paths are set, and a pair that does not load is logged as an
    /// error and mail goes out without a client certificate.
    /// </summary>
    private static X509Certificate2? LoadClientCertificate(SmtpOptions smtp, ILogger logger)
    {
        var certPath = smtp.ClientCertPath;
        var keyPath = smtp.ClientKeyPath;
        if (string.IsNullOrEmpty(certPath) && string.IsNullOrEmpty(keyPath)) return null;
        if (string.IsNullOrEmpty(certPath) || string.IsNullOrEmpty(keyPath))
        {
            LogClientCertificateHalf(logger);
            return null;
        }
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(certPath, keyPath);
            // SslStream on Linux wants the key in a persisted form; a PKCS#12 round trip gives that.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            LogClientCertificateFailed(logger, certPath, keyPath, e.GetType().Name, e.Message);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "courier.smtp.client_cert_path ({CertPath}) / client_key_path ({KeyPath}): unable to load the TLS client certificate and private key ({ErrorType}: {Error}); e-mail is sent without a client certificate")]
    private static partial void LogClientCertificateFailed(ILogger logger, string certPath, string keyPath, string errorType, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "courier.smtp.client_cert_path and client_key_path are used only together; with one of them set, e-mail is sent without a client certificate")]
    private static partial void LogClientCertificateHalf(ILogger logger);

    public async Task SendAsync(CourierMessage message, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        var smtp = _options.Courier.Smtp;
        var connection = SmtpConnection.Parse(smtp.ConnectionUri);
        using var mime = Build(message, smtp);

        using var client = new SmtpClient { Timeout = (int)Timeout.TotalMilliseconds, LocalDomain = smtp.LocalName };
        if (connection.SkipSslVerify) client.ServerCertificateValidationCallback = (_, _, _, _) => true;
        if (_clientCertificate is not null) client.ClientCertificates = [_clientCertificate];
        var guarded = _options.Clients.Smtp.DisallowPrivateIpRanges;
        if (connection.ServerName is not null || guarded)
        {
            // The TCP connection goes to the URI's host, its address checked when guarded; TLS checks the certificate
            // against server_name if set.
            var port = connection.Port == 0 ? DefaultPort(connection) : connection.Port;
            Socket socket;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                timeout.CancelAfter(Timeout);
                socket = guarded
                    ? await PrivateNetworkGuard.ConnectAsync(connection.Host, port, PrivateNetworkGuard.Permitted, _ => Refused(connection.Host), timeout.Token)
                    : await ConnectAsync(connection.Host, port, timeout.Token);
            }
            try
            {
                await client.ConnectAsync(socket, connection.ServerName ?? connection.Host, port, connection.Security, ct);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        else
        {
            await client.ConnectAsync(connection.Host, connection.Port, connection.Security, ct);
        }
        if (connection.User is not null) await client.AuthenticateAsync(connection.User, connection.Password ?? "", ct);
        await client.SendAsync(mime, ct);
        await client.DisconnectAsync(quit: true, ct);
    }

    private static async Task<Socket> ConnectAsync(string host, int port, CancellationToken ct)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(host, port, ct);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// clients.smtp.disallow_private_ip_ranges refused every address of the host. Kratos (ory/x ipx.ssrfDialFunc) then
    /// answers "no route to host" without naming the resolved address; so does this dispatch error.
    /// </summary>
    private static SocketException Refused(string host) =>
        new((int)SocketError.HostUnreachable, $"{host}: no route to host (not a permitted destination under clients.smtp.disallow_private_ip_ranges)");

    private static int DefaultPort(SmtpConnection c) => c.Security == MailKit.Security.SecureSocketOptions.SslOnConnect ? 465 : 25;

    public static MimeMessage Build(CourierMessage message, SmtpOptions smtp)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(smtp);
        var mime = new MimeMessage();
        mime.From.Add(new MailboxAddress(smtp.FromName ?? "", smtp.FromAddress));
        mime.To.Add(MailboxAddress.Parse(message.Recipient));
        mime.Subject = message.Subject;
        // One Message-Id per courier message, so a receiver can recognise a retried delivery.
        var domain = smtp.FromAddress.Contains('@', StringComparison.Ordinal) ? smtp.FromAddress[(smtp.FromAddress.LastIndexOf('@') + 1)..] : "gatehouse";
        mime.MessageId = $"{message.Id:N}@{domain}";
        foreach (var (name, value) in smtp.Headers) mime.Headers.Replace(name, value);
        var body = new BodyBuilder { TextBody = message.Body };
        if (!string.IsNullOrEmpty(message.HtmlBody)) body.HtmlBody = message.HtmlBody;
        mime.Body = body.ToMessageBody();
        return mime;
    }
}
