using System.Globalization;
using System.Text;

namespace Gatehouse.OAuth2.Clients;

/// <summary>
/// The parts of Go's <c>net/url.Parse</c> that Hydra's answers depend on: the scheme and host it reads (the host as
/// written, with its port, not lower-cased) and the error it reports — for a control character, a missing scheme, a
/// colon in a relative URL's first segment, a bad percent escape, a bad port or a host character Go refuses — worded as
/// Go's <c>url.Error</c> (<c>parse "…": …</c>).
/// </summary>
internal static class GoUrl
{
    /// <summary>The lower-cased scheme, or "" when the text has none (a relative reference).</summary>
    public static string Scheme(string raw)
    {
        var (scheme, _, _) = Split(raw.Split('#', 2)[0]);
        return scheme;
    }

    /// <summary>Go's <c>URL.Host</c>: the authority after <c>//</c>, without user info; "" for URLs without one.</summary>
    public static string Host(string raw)
    {
        var (scheme, rest, _) = Split(raw.Split('#', 2)[0]);
        rest = rest.Split('?', 2)[0];
        if (scheme.Length == 0 && !rest.StartsWith("//", StringComparison.Ordinal)) return "";
        if (!rest.StartsWith("//", StringComparison.Ordinal) || rest.StartsWith("///", StringComparison.Ordinal)) return "";
        var authority = rest[2..];
        var slash = authority.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0) authority = authority[..slash];
        var at = authority.LastIndexOf('@');
        return at >= 0 ? authority[(at + 1)..] : authority;
    }

    /// <summary>Go's <c>url.Parse</c> error text for <paramref name="raw"/>, or null when Go parses it.</summary>
    public static string? ParseError(string raw)
    {
        var hash = raw.IndexOf('#', StringComparison.Ordinal);
        var main = hash >= 0 ? raw[..hash] : raw;
        if (ParseMain(main) is { } error) return $"parse {Quote(main)}: {error}";
        if (hash >= 0 && EscapeError(raw[(hash + 1)..]) is { } fragmentError) return $"parse {Quote(raw)}: {fragmentError}";
        return null;
    }

    private static string? ParseMain(string raw)
    {
        if (raw.Any(c => c < 0x20 || c == 0x7f)) return "net/url: invalid control character in URL";
        var (scheme, rest, missingScheme) = Split(raw);
        if (missingScheme) return "missing protocol scheme";
        var question = rest.IndexOf('?', StringComparison.Ordinal);
        if (question >= 0) rest = rest[..question];
        if (!rest.StartsWith('/'))
        {
            if (scheme.Length > 0) return null; // opaque: mailto:x, urn:…
            var segment = rest.Split('/', 2)[0];
            if (segment.Contains(':', StringComparison.Ordinal)) return "first path segment in URL cannot contain colon";
        }
        if (rest.StartsWith("//", StringComparison.Ordinal) && !rest.StartsWith("///", StringComparison.Ordinal))
        {
            var authority = rest[2..];
            var slash = authority.IndexOf('/', StringComparison.Ordinal);
            rest = slash >= 0 ? authority[slash..] : "";
            if (slash >= 0) authority = authority[..slash];
            var at = authority.LastIndexOf('@');
            if (HostError(at >= 0 ? authority[(at + 1)..] : authority) is { } hostError) return hostError;
        }
        return EscapeError(rest);
    }

    /// <summary>Go's <c>getScheme</c>: a letter, then letters, digits, <c>+ - .</c>, then <c>:</c>; a leading colon is an error.</summary>
    private static (string Scheme, string Remainder, bool Missing) Split(string raw)
    {
        for (var i = 0; i < raw.Length; i++)
        {
            var c = raw[i];
            if (char.IsAsciiLetter(c)) continue;
            if (char.IsAsciiDigit(c) || c is '+' or '-' or '.')
            {
                if (i == 0) return ("", raw, false);
                continue;
            }
            if (c == ':') return i == 0 ? ("", raw, true) : (raw[..i].ToLowerInvariant(), raw[(i + 1)..], false);
            return ("", raw, false);
        }
        return ("", raw, false);
    }

    private static string? HostError(string host)
    {
        string hostname;
        if (host.StartsWith('['))
        {
            var close = host.LastIndexOf(']');
            if (close < 0) return "missing ']' in host";
            var port = host[(close + 1)..];
            if (!ValidOptionalPort(port)) return $"invalid port {Quote(port)} after host";
            hostname = host[..(close + 1)];
        }
        else
        {
            var colon = host.LastIndexOf(':');
            if (colon >= 0)
            {
                var port = host[colon..];
                if (!ValidOptionalPort(port)) return $"invalid port {Quote(port)} after host";
            }
            hostname = host;
        }
        if (EscapeError(hostname) is { } escape) return escape;
        foreach (var c in hostname)
        {
            if (c < 0x80 && !char.IsAsciiLetterOrDigit(c) && "-_.~!$&'()*+,;=:[]<>\"%".IndexOf(c, StringComparison.Ordinal) < 0)
                return $"invalid character {Quote(c.ToString())} in host name";
        }
        return null;
    }

    private static bool ValidOptionalPort(string port) => port.Length == 0 || (port[0] == ':' && port[1..].All(char.IsAsciiDigit));

    /// <summary>Go's <c>unescape</c>: every <c>%</c> must start two hex digits.</summary>
    private static string? EscapeError(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] != '%') continue;
            if (i + 2 >= s.Length || !char.IsAsciiHexDigit(s[i + 1]) || !char.IsAsciiHexDigit(s[i + 2]))
            {
                var bad = s[i..Math.Min(s.Length, i + 3)];
                return $"invalid URL escape {Quote(bad)}";
            }
            i += 2;
        }
        return null;
    }

    /// <summary>Go's <c>%q</c> of a string (strconv.Quote) for the characters URLs hold.</summary>
    private static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in s)
        {
            sb.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when c < 0x20 || c == 0x7f => "\\x" + ((int)c).ToString("x2", CultureInfo.InvariantCulture),
                _ => c.ToString(),
            });
        }
        return sb.Append('"').ToString();
    }
}
