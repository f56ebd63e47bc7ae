namespace Gatehouse.Sessions;

/// <summary>Reads a session device (IP address, user agent, location) from a request, with Kratos's header precedence.</summary>
public static class SessionDeviceReader
{
    public const int MaxUserAgentLength = 512;
    public const int MaxIpLength = 64;
    public const int MaxLocationLength = 512;
    public static SessionDevice FromRequest(HttpContext http, Guid nid, Guid sessionId, DateTime now, IReadOnlyList<string> locationHeaders)
    {
        var headers = http.Request.Headers;
        var agents = headers.UserAgent.Where(a => !string.IsNullOrEmpty(a)).ToArray();
        var location = string.Join(", ", locationHeaders.Select(h => headers[h].ToString().Trim()).Where(s => s.Length > 0));
        return new SessionDevice
        {
            Id = Guid.CreateVersion7(),
            Nid = nid,
            SessionId = sessionId,
            IpAddress = Truncate(ClientIp(http), MaxIpLength),
            UserAgent = agents.Length == 0 ? null : Truncate(string.Join(' ', agents), MaxUserAgentLength),
            Location = Truncate(location, MaxLocationLength),
            CreatedAt = now,
            UpdatedAt = now,
        };
    }

    /// <summary><c>True-Client-IP</c> &gt; <c>Cf-Connecting-IP</c> &gt; <c>X-Real-IP</c> &gt; first <c>X-Forwarded-For</c> &gt; the peer address.</summary>
    public static string? ClientIp(HttpContext http)
    {
        var headers = http.Request.Headers;
        foreach (var name in new[] { "True-Client-IP", "Cf-Connecting-IP", "X-Real-IP" })
        {
            var value = headers[name].ToString().Trim();
            if (value.Length > 0) return value;
        }
        var forwarded = headers["X-Forwarded-For"].ToString();
        if (forwarded.Length > 0)
        {
            var first = forwarded.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
            if (first is not null) return first;
        }
        var remote = http.Connection.RemoteIpAddress;
        if (remote is null) return null;
        return (remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote).ToString();
    }

    private static string? Truncate(string? value, int max)
    {
        if (value is null || value.Length <= max) return value;
        // Never cut a surrogate pair in half.
        var end = char.IsHighSurrogate(value[max - 1]) ? max - 1 : max;
        return value[..end];
    }
}
