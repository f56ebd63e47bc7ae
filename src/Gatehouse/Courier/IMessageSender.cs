namespace Gatehouse.Courier;

/// <summary>Delivers one message over its channel. Throws on failure; the worker records the attempt and retries.</summary>
public interface IMessageSender
{
    Task SendAsync(CourierMessage message, CancellationToken ct);
}
