using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>
/// <see cref="TestServer.FreePort"/> releases its port before the caller binds it, so a parallel test (or an outgoing
/// connection) can take it in between. Test hosts that bind a port that way start through <see cref="RetryAsync"/>,
/// which tries again, on a fresh port, when the bind loses that race.
/// </summary>
public static class PortClash
{
    public static async Task<T> RetryAsync<T>(Func<Task<T>> startOnAFreePort)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await startOnAFreePort();
            }
            catch (Exception e) when (attempt < 5 && IsAddressInUse(e))
            {
            }
        }
    }

    public static bool IsAddressInUse(Exception? e) => e switch
    {
        null => false,
        AddressInUseException => true,
        SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } => true,
        AggregateException a => a.InnerExceptions.Any(IsAddressInUse),
        _ => IsAddressInUse(e.InnerException),
    };
}
