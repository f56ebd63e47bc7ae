using MailKit.Security;
using Microsoft.AspNetCore.WebUtilities;

namespace Gatehouse.Courier;

/// <summary>
/// <c>courier.smtp.connection_uri</c> parsed as Kratos reads it: <c>smtps://</c> is implicit TLS, <c>smtp://</c> is
/// STARTTLS (required) unless <c>?disable_starttls=true</c> allows cleartext; <c>?skip_ssl_verify=true</c> accepts any
/// certificate; <c>?server_name=</c> names the host the certificate must match; <c>user:password@</c> logs in.
/// </summary>
public sealed record SmtpConnection(string Host, int Port, SecureSocketOptions Security, bool SkipSslVerify, string? ServerName, string? User, string? Password)
{
    public static SmtpConnection Parse(string? uri)
    {
        if (string.IsNullOrWhiteSpace(uri)) throw new InvalidOperationException("courier.smtp.connection_uri is not set");
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var u) || u.Scheme is not ("smtp" or "smtps") || u.Host.Length == 0)
            throw new InvalidOperationException("courier.smtp.connection_uri must be smtp://host:port or smtps://host:port");
        var query = QueryHelpers.ParseQuery(u.Query);
        bool Flag(string name) => query.TryGetValue(name, out var v) && bool.TryParse(v.ToString(), out var b) && b;
        var security = u.Scheme == "smtps"
            ? SecureSocketOptions.SslOnConnect
            : Flag("disable_starttls") ? SecureSocketOptions.None : SecureSocketOptions.StartTls;
        string? user = null, password = null;
        if (u.UserInfo.Length > 0)
        {
            var colon = u.UserInfo.IndexOf(':', StringComparison.Ordinal);
            user = Uri.UnescapeDataString(colon < 0 ? u.UserInfo : u.UserInfo[..colon]);
            password = colon < 0 ? "" : Uri.UnescapeDataString(u.UserInfo[(colon + 1)..]);
        }
        var serverName = query.TryGetValue("server_name", out var sn) && sn.ToString().Length > 0 ? sn.ToString() : null;
        return new SmtpConnection(u.Host.Trim('[', ']'), u.IsDefaultPort ? 0 : u.Port, security, Flag("skip_ssl_verify"), serverName, user, password);
    }
}
