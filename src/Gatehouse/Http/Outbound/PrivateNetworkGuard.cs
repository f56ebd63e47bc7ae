using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Gatehouse.Config;

namespace Gatehouse.Http.Outbound;

/// <summary>
/// The destinations Kratos's and Hydra's outgoing HTTP clients may connect to (ory/x <c>httpx/ssrf.go</c>, built on
/// <c>code.dny.dev/ssrf</c> v0.2.0) — web hooks, body templates and Jsonnet mappers fetched by URL, social sign-in
/// providers, the session tokenizer's claims mapper, Have I Been Pwned, OAuth2 clients' JWKS and back-channel logout.
/// By default (ory/x's <c>allowInternalAllowIPv6</c> transport) every address but the special-purpose ones IANA lists,
/// less RFC 1918, loopback, IPv4 link-local and IPv6 unique-local, which stay reachable. With
/// <c>clients.http.disallow_private_ip_ranges</c> (<c>httpx.ResilientClientDisallowInternalIPs</c>) only public
/// addresses; URLs matching one of <c>clients.http.private_ip_exception_urls</c> (globs as ory/x compiles them, matched
/// without query and fragment) then go through a second connection pool with the default rule. The check runs on the
/// address actually connected to, after the name is resolved, so a host name that resolves (or re-resolves) to a
/// refused address is refused as well.
/// </summary>
/// <remarks>
/// Written here: .NET has no maintained equivalent of Go's <c>code.dny.dev/ssrf</c> (which ory/x uses) that hooks the
/// connection itself; <see cref="SocketsHttpHandler.ConnectCallback"/> is the place for it, and the address lists are
/// that package's (IANA's special-purpose registries as of its v0.2.0).
/// </remarks>
public static class PrivateNetworkGuard
{
    /// <summary>
    /// The primary handler of an outgoing HTTP client: <paramref name="make"/>'s handler with ory/x's default rule
    /// (<see cref="PermittedForExceptions"/>) when private ranges are allowed; else one that refuses private
    /// destinations, with a second pool under the default rule for the exceptions.
    /// </summary>
    /// <remarks>
    /// The handlers also write no trace headers of their own (<see cref="SocketsHttpHandler.ActivityHeadersPropagator"/>
    /// null): .NET would otherwise send the W3C <c>traceparent</c> of whatever activity is current — ASP.NET Core starts
    /// one per request even with tracing off — where Kratos sends none without <c>tracing</c> and only its propagators'
    /// with it. With tracing on, <see cref="Tracing.OutgoingRequestTracing"/> writes them.
    /// </remarks>
    public static HttpMessageHandler Handler(GatehouseOptions options, Func<SocketsHttpHandler> make)
    {
        var http = options.Clients.Http;
        if (!http.DisallowPrivateIpRanges) return Default(make());
        var guarded = make();
        guarded.ActivityHeadersPropagator = null;
        guarded.ConnectCallback = (context, ct) => ConnectAsync(context, Permitted, Disallowed, ct);
        if (http.PrivateIpExceptionUrls.Count == 0) return guarded;
        return new ExceptionRouter(guarded, Default(make()), [.. http.PrivateIpExceptionUrls.Select(Glob)]);
    }

    /// <summary>
    /// <paramref name="handler"/> under ory/x's default rule, whatever <c>clients.http.disallow_private_ip_ranges</c>
    /// says: for clients Kratos builds without <c>ResilientClientDisallowInternalIPs</c> (Have I Been Pwned's).
    /// </summary>
    public static SocketsHttpHandler Default(SocketsHttpHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        handler.ActivityHeadersPropagator = null;
        handler.ConnectCallback = (context, ct) => ConnectAsync(context, PermittedForExceptions, SpecialPurpose, ct);
        return handler;
    }

    /// <summary>Whether a public destination: neither private nor any other special-purpose address (IANA's registries).</summary>
    public static bool Permitted(IPAddress address)
    {
        // Go's dialer hands an IPv4-mapped address to the check as the IPv4 address it is.
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily == AddressFamily.InterNetwork) return !DeniedV4.Any(p => p.Contains(address));
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return false;
        // Go's netip.Prefix.Contains never matches an address with a zone, so a scoped IPv6 address is refused.
        if (address.ScopeId != 0) return false;
        // Only global unicast (2000::/3), less the special-purpose blocks inside it.
        return GlobalUnicastV6.Contains(address) && !DeniedV6.Any(p => p.Contains(address));
    }

    /// <summary>
    /// ory/x's default rule (its <c>allowInternalAllowIPv6</c> transport), also what an exception URL may reach: public
    /// addresses and RFC 1918, loopback, IPv4 link-local and IPv6 unique-local; never the other special-purpose ones
    /// (0.0.0.0/8, 100.64.0.0/10, 192.0.0.0/24, 198.18.0.0/15, multicast, 240.0.0.0/4, …; in IPv6 anything outside
    /// 2000::/3 but ::1 and fc00::/7, so no fe80::/10 nor NAT64).
    /// </summary>
    public static bool PermittedForExceptions(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0) return false;
        return ExceptedPrivate.Any(p => p.Contains(address)) || Permitted(address);
    }

    private static readonly IPNetwork[] DeniedV4 =
    [
        .. new[]
        {
            "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
            "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24", "192.88.99.0/24", "192.168.0.0/16", "192.175.48.0/24",
            "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
        }.Select(IPNetwork.Parse),
    ];

    private static readonly IPNetwork GlobalUnicastV6 = IPNetwork.Parse("2000::/3");

    private static readonly IPNetwork[] DeniedV6 =
    [
        .. new[] { "2001::/23", "2001:db8::/32", "2002::/16", "2620:4f:8000::/48" }.Select(IPNetwork.Parse),
    ];

    private static readonly IPNetwork[] ExceptedPrivate =
    [
        .. new[] { "10.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7" }.Select(IPNetwork.Parse),
    ];

    private const string Disallowed = "clients.http.disallow_private_ip_ranges";
    private const string SpecialPurpose = "a special-purpose address, refused even with private ranges allowed";

    /// <summary>
    /// Resolves the host (an address literal as itself) and connects to its permitted addresses only, in order, so no
    /// second lookup can swap in another address. No permitted address: ory/x's error text, and why.
    /// </summary>
    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, Func<IPAddress, bool> permitted, string why, CancellationToken ct)
    {
        var endpoint = context.DnsEndPoint;
        var socket = await ConnectAsync(endpoint.Host, endpoint.Port, permitted, addresses =>
        {
            var shown = addresses.Length > 0 ? addresses[0].ToString() : endpoint.Host;
            return new HttpRequestException($"prohibited IP address: {shown} is not a permitted destination ({why})");
        }, ct);
        return new NetworkStream(socket, ownsSocket: true);
    }

    /// <summary>
    /// A TCP connection to <paramref name="host"/> (resolved once; an address literal as itself) on one of its
    /// addresses that <paramref name="permitted"/> accepts, tried in order; none accepted: <paramref name="refused"/>'s
    /// exception, given all the addresses, is thrown and nothing is connected.
    /// </summary>
    public static async Task<Socket> ConnectAsync(string host, int port, Func<IPAddress, bool> permitted, Func<IPAddress[], Exception> refused, CancellationToken ct)
    {
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, ct);
        var allowed = addresses.Where(permitted).ToArray();
        if (allowed.Length == 0) throw refused(addresses);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, port, ct);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A <c>private_ip_exception_urls</c> entry as ory/x compiles it (<c>gobwas/glob</c> with separators <c>.</c> and
    /// <c>/</c>): <c>*</c> any run without a separator, <c>**</c> any run, <c>?</c> one non-separator character,
    /// <c>[abc]</c>/<c>[!abc]</c>/<c>[a-z]</c> classes, <c>{a,b}</c> alternatives, <c>\</c> escapes; the rest literal.
    /// </summary>
    public static Regex Glob(string pattern)
    {
        var sb = new StringBuilder("^");
        var alternatives = 0;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '\\' when i + 1 < pattern.Length:
                    sb.Append(Regex.Escape(pattern[++i].ToString()));
                    break;
                case '*' when i + 1 < pattern.Length && pattern[i + 1] == '*':
                    sb.Append(".*");
                    i++;
                    break;
                case '*':
                    sb.Append("[^./]*");
                    break;
                case '?':
                    sb.Append("[^./]");
                    break;
                case '[':
                    var end = pattern.IndexOf(']', i + 1);
                    if (end < 0) goto default;
                    var body = pattern[(i + 1)..end];
                    var negate = body.StartsWith('!');
                    if (negate) body = body[1..];
                    sb.Append(negate ? "[^" : "[").Append(body.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("^", "\\^", StringComparison.Ordinal).Replace("[", "\\[", StringComparison.Ordinal)).Append(']');
                    i = end;
                    break;
                case '{':
                    sb.Append("(?:");
                    alternatives++;
                    break;
                case ',' when alternatives > 0:
                    sb.Append('|');
                    break;
                case '}' when alternatives > 0:
                    sb.Append(')');
                    alternatives--;
                    break;
                default:
                    sb.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }
        if (alternatives > 0) throw new ConfigException($"clients.http.private_ip_exception_urls: \"{pattern}\" has an unclosed '{{'.");
        return new Regex(sb.Append('$').ToString(), RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
    }

    /// <summary>The URL as ory/x matches it against the exceptions: without query and fragment.</summary>
    public static string MatchedUrl(Uri uri) => uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);

    /// <summary>Sends a request matching an exception through the exception pool, any other through the guarded one.</summary>
    private sealed class ExceptionRouter(SocketsHttpHandler guarded, SocketsHttpHandler exempt, Regex[] exceptions) : DelegatingHandler(guarded)
    {
        private readonly HttpMessageInvoker exemptPool = new(exempt, disposeHandler: true);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct) =>
            request.RequestUri is { } uri && exceptions.Any(e => e.IsMatch(MatchedUrl(uri)))
                ? exemptPool.SendAsync(request, ct)
                : base.SendAsync(request, ct);

        protected override void Dispose(bool disposing)
        {
            if (disposing) exemptPool.Dispose();
            base.Dispose(disposing);
        }
    }
}
