using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Json.Schema;

namespace Gatehouse.Schemas;

/// <summary>
/// The <c>format</c> checks Kratos asserts. JsonSchema.Net's own <c>email</c> is stricter than Kratos's
/// (it wants a dotted domain), <c>tel</c> is Kratos's own and <c>no-validate</c> switches checking off.
/// </summary>
internal static class KratosFormats
{
    public static FormatRegistry Registry { get; } = CreateRegistry();

    private static FormatRegistry CreateRegistry()
    {
        var registry = new FormatRegistry();
        registry.Register(new PredicateFormat("email", element => element.ValueKind != JsonValueKind.String || IsEmail(element.GetString()!)));
        registry.Register(new PredicateFormat("tel", element => element.ValueKind != JsonValueKind.String || IsTel(element.GetString()!)));
        registry.Register(new PredicateFormat("no-validate", _ => true));
        return registry;
    }

    public static bool IsTel(string value) => IdentifierNormalizer.TryNormalizePhone(value, out _);

    private const string LooseLocalPunctuation = "!#$%&'*+/=?^_`{|}~.-";

    private static readonly System.Globalization.IdnMapping Idn = new() { UseStd3AsciiRules = true };

    /// <summary>
    /// Kratos's <c>email_loose</c> (the recovery and verification <c>email</c> field): at most 320 characters, a local part of
    /// letters, digits and RFC 5322 atext punctuation (dots anywhere, for carrier addresses like <c>foo.@docomo.ne.jp</c>),
    /// one <c>@</c>, and a domain that is a valid host name. Whitespace, control characters and the specials that could
    /// break out of an SMTP envelope or a mail header are refused.
    /// </summary>
    public static bool IsLooseEmail(string value)
    {
        if (value.Length is 0 or > 320) return false;
        var at = value.IndexOf('@', StringComparison.Ordinal);
        if (at <= 0 || at == value.Length - 1) return false;
        foreach (var c in value.AsSpan(0, at))
        {
            if (!char.IsLetterOrDigit(c) && !LooseLocalPunctuation.Contains(c, StringComparison.Ordinal)) return false;
        }
        try
        {
            _ = Idn.GetAscii(value[(at + 1)..]);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>
    /// An RFC 5322 addr-spec with a hostname (or bracketed IP) domain, as the Go validator Kratos uses
    /// accepts it: at most 254 characters, a local part of at most 64 that is a dot-atom or a quoted
    /// string. Display names (<c>Name &lt;a@b&gt;</c>) are not addresses.
    /// </summary>
    public static bool IsEmail(string value)
    {
        if (value.Length > 254)
        {
            return false;
        }

        var at = value.LastIndexOf('@');
        if (at <= 0)
        {
            return false;
        }

        var local = value[..at];
        var domain = value[(at + 1)..];
        if (local.Length > 64)
        {
            return false;
        }

        if (domain.Length >= 2 && domain[0] == '[' && domain[^1] == ']')
        {
            var ip = domain[1..^1];
            if (ip.StartsWith("IPv6:", StringComparison.OrdinalIgnoreCase))
            {
                return IPAddress.TryParse(ip[5..], out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6;
            }

            return IsIPv4(ip);
        }

        return IsHostname(domain) && IsLocalPart(local);
    }

    private static bool IsIPv4(string value)
    {
        var parts = value.Split('.');
        return parts.Length == 4 && parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit) && int.Parse(p, System.Globalization.CultureInfo.InvariantCulture) <= 255);
    }

    private static bool IsHostname(string value)
    {
        var host = value.EndsWith('.') ? value[..^1] : value;
        if (host.Length is 0 or > 253)
        {
            return false;
        }

        foreach (var label in host.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-')
            {
                return false;
            }

            if (!label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsLocalPart(string local)
    {
        if (local.Length >= 2 && local[0] == '"' && local[^1] == '"')
        {
            var inner = local[1..^1];
            for (var i = 0; i < inner.Length; i++)
            {
                var c = inner[i];
                if (c == '\\')
                {
                    i++;
                    if (i >= inner.Length)
                    {
                        return false;
                    }
                }
                else if (c == '"' || char.IsControl(c))
                {
                    return false;
                }
            }

            return inner.Length > 0;
        }

        // dot-atom: no leading, trailing or doubled dots (Go's net/mail rejects them)
        if (local[0] == '.' || local[^1] == '.' || local.Contains("..", StringComparison.Ordinal))
        {
            return false;
        }

        return local.All(c => c == '.' || c >= 0x80 || IsAtext(c));
    }

    private static bool IsAtext(char c) =>
        char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-/=?^_`{|}~".Contains(c, StringComparison.Ordinal);
}
