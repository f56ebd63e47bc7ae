using System.Net.Sockets;
using Gatehouse.Config;
using Gatehouse.Http.Outbound;
using MailKit.Net.Smtp;
using MimeKit;

namespace Gatehouse.Courier;

/// <summary>Sends e-mail through the SMTP server of <c>courier.smtp</c> with MailKit, one connection per message.</summary>
public sealed class SmtpMessageSender(GatehouseOptions options) : IMessageSender
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public async Task SendAsync(CourierMessage message, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        var smtp = options.Courier.Smtp;
        var connection = SmtpConnection.Parse(smtp.ConnectionUri);
        using var mime = Build(message, smtp);

        using var client = new SmtpClient { Timeout = (int)Timeout.TotalMilliseconds, LocalDomain = smtp.LocalName };
        if (connection.SkipSslVerify) client.ServerCertificateValidationCallback = (_, _, _, _) => true;
        var guarded = options.Clients.Smtp.DisallowPrivateIpRanges;
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
