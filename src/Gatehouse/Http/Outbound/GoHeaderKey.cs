using System.Text.Json.Nodes;

namespace Gatehouse.Http.Outbound;

/// <summary>
/// Go's <c>textproto.CanonicalMIMEHeaderKey</c>, which names the headers Kratos hands to web hooks and the courier: the
/// first letter and every letter after a hyphen upper case, the rest lower case (<c>sec-ch-ua</c> → <c>Sec-Ch-Ua</c>,
/// <c>TRUE-CLIENT-IP</c> → <c>True-Client-Ip</c>); a name holding anything but token characters is left as it is.
/// </summary>
public static class GoHeaderKey
{
    public static string Canonical(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var c in name)
        {
            if (!IsTokenChar(c)) return name;
        }
        return string.Create(name.Length, name, static (span, source) =>
        {
            var upper = true;
            for (var i = 0; i < source.Length; i++)
            {
                var c = source[i];
                span[i] = upper && c is >= 'a' and <= 'z' ? (char)(c - 32) : !upper && c is >= 'A' and <= 'Z' ? (char)(c + 32) : c;
                upper = c == '-';
            }
        });
    }

    /// <summary>
    /// The allowlisted headers of <paramref name="request"/> as Kratos hands them on (<c>hook.RemoveDisallowedHeaders</c>
    /// over Go's <c>http.Header</c>): <c>{Name: [values]}</c> under the canonical form of the allowlisted name
    /// (<c>sec-ch-ua</c> as sent by a browser is <c>Sec-Ch-Ua</c>, as Go's server stores it), in name order.
    /// </summary>
    public static JsonObject Allowlisted(HttpRequest request, IReadOnlyList<string> headerAllowlist)
    {
        var headers = new JsonObject();
        foreach (var name in headerAllowlist.Select(Canonical).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            if (!request.Headers.TryGetValue(name, out var values) || values.Count == 0) continue;
            headers[name] = new JsonArray([.. values.Select(v => (JsonNode?)JsonValue.Create(v))]);
        }
        return headers;
    }

    // RFC 7230 tchar, as Go's validHeaderFieldByte.
    private static bool IsTokenChar(char c) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9')
            or '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~';
}
