using System.Net;
using System.Net.Sockets;
using Gatehouse.Config;

namespace Gatehouse.RateLimiting;

/// <summary>
/// Which client address a request counts as: the connection's peer, or — when the peer is a trusted proxy
/// (<c>gatehouse.trusted_proxies</c>) — the right-most <c>X-Forwarded-For</c> entry that is not itself a trusted proxy.
/// Entries left of an untrusted one are ignored: anyone can write them.
/// </summary>
public sealed class ClientAddresses
{
    private readonly IPNetwork[] _trusted;

    /// <exception cref="ArgumentException">An entry of <c>gatehouse.trusted_proxies</c> is neither an IP address nor a CIDR range.</exception>
    public ClientAddresses(GatehouseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _trusted = [.. options.Gatehouse.TrustedProxies.Select(ParseNetwork)];
    }

    /// <summary>Parses an IP address (a single-address range) or a CIDR range.</summary>
    /// <exception cref="ArgumentException">Neither.</exception>
    public static IPNetwork ParseNetwork(string entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var text = entry.Trim();
        if (IPAddress.TryParse(text, out var single)) return new IPNetwork(Normalize(single), single.AddressFamily == AddressFamily.InterNetwork || single.IsIPv4MappedToIPv6 ? 32 : 128);
        if (IPNetwork.TryParse(text, out var network)) return network;
        throw new ArgumentException($"gatehouse.trusted_proxies: expected an IP address or a CIDR range such as 10.0.0.0/8, got \"{entry}\"");
    }

    /// <summary>The client's address, or null when the connection has none (e.g. a Unix socket).</summary>
    public IPAddress? Of(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (http.Connection.RemoteIpAddress is not { } peer) return null;
        var address = Normalize(peer);
        if (_trusted.Length == 0 || !IsTrusted(address)) return address;
        var forwarded = http.Request.Headers["X-Forwarded-For"];
        // Walk from the nearest hop outwards; the first hop that is not a trusted proxy is the client.
        for (var v = forwarded.Count - 1; v >= 0; v--)
        {
            var parts = (forwarded[v] ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            for (var i = parts.Length - 1; i >= 0; i--)
            {
                if (!TryParseHop(parts[i], out var hop)) return address; // garbage from an untrusted writer: count the last trusted hop
                if (!IsTrusted(hop)) return hop;
                address = hop;
            }
        }
        return address;
    }

    /// <summary>
    /// The bucket a per-address limit counts the client in, or null when it is not limited per address: IPv6 clients
    /// count per /64 (one subscriber usually holds a whole /64), loopback is exempt when so configured.
    /// </summary>
    public string? BucketOf(HttpContext http, bool exemptLoopback)
    {
        if (Of(http) is not { } address) return null;
        if (exemptLoopback && IPAddress.IsLoopback(address)) return null;
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            Array.Clear(bytes, 8, 8);
            return new IPAddress(bytes) + "/64";
        }
        return address.ToString();
    }

    private bool IsTrusted(IPAddress address)
    {
        foreach (var network in _trusted)
        {
            if (network.Contains(address)) return true;
        }
        return false;
    }

    private static bool TryParseHop(string text, out IPAddress address)
    {
        // Proxies may append a port ("203.0.113.7:1234", "[2001:db8::1]:443").
        if (IPAddress.TryParse(text, out address!)) { address = Normalize(address); return true; }
        if (IPEndPoint.TryParse(text, out var endpoint)) { address = Normalize(endpoint.Address); return true; }
        return false;
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
