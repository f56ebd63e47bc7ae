using System.Net.Sockets;
using Gatehouse.Config;
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
        if (connection.ServerName is { } serverName)
        {
            // The TCP connection goes to the URI's host; TLS checks the certificate against server_name.
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(Timeout);
                await socket.ConnectAsync(connection.Host, connection.Port == 0 ? DefaultPort(connection) : connection.Port, timeout.Token);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            await client.ConnectAsync(socket, serverName, connection.Port == 0 ? DefaultPort(connection) : connection.Port, connection.Security, ct);
        }
        else
        {
            await client.ConnectAsync(connection.Host, connection.Port, connection.Security, ct);
        }
        if (connection.User is not null) await client.AuthenticateAsync(connection.User, connection.Password ?? "", ct);
        await client.SendAsync(mime, ct);
        await client.DisconnectAsync(quit: true, ct);
    }

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
