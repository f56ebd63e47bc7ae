using Gatehouse.Config;

namespace Gatehouse.Courier;

/// <summary>
/// Where <c>serve --dev</c> delivers mail when no <c>courier.smtp.connection_uri</c> is configured: nowhere beyond the
/// courier's own table, which the built-in UI shows at <c>/ui/dev/mailbox</c>. A newcomer can read a verification or
/// recovery code without an SMTP server. Outside <c>--dev</c>, or with <c>courier.delivery_strategy: http</c>, the configured
/// delivery is always used.
/// </summary>
public static class DevMailbox
{
    /// <summary>True when mail goes to the dev mailbox instead of SMTP.</summary>
    public static bool Active(GatehouseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Dev && options.Courier.DeliveryStrategy == "smtp" && string.IsNullOrEmpty(options.Courier.Smtp.ConnectionUri);
    }
}

/// <summary>
/// Delivers a message by leaving it where it is: the worker records the delivery and marks the stored message
/// <c>sent</c>, and the dev mailbox page reads it from there. Registered only when <see cref="DevMailbox.Active"/>.
/// </summary>
public sealed class DevMailboxSender : IMessageSender
{
    public Task SendAsync(CourierMessage message, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        return Task.CompletedTask;
    }
}
