namespace Gatehouse.Http.Outbound;

/// <summary>
/// An outbound URL as a log line shows it: scheme, host, port and path, without the user info and with a query
/// replaced by <c>?*</c> — the form .NET's own HttpClient logging uses. Web hook, token hook, courier and back-channel
/// logout URLs may carry credentials (<c>https://user:password@host/…</c>, <c>?token=…</c>), and secrets never go to the
/// logs. Log methods that name a URL take this type, so an unredacted URL cannot reach one by accident.
/// </summary>
public readonly struct LoggedUrl : IEquatable<LoggedUrl>
{
    private readonly string? _text;

    private LoggedUrl(string text) => _text = text;

    public static LoggedUrl FromUri(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!url.IsAbsoluteUri) return new("(relative URL)");
        var text = url.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
        return new(url.Query.Length > 1 ? text + "?*" : text);
    }

    // "://" is required: on Unix a bare "/path?query" parses as a file URI with the query folded into its path.
    public static LoggedUrl FromString(string? url) =>
        url is not null && url.Contains("://", StringComparison.Ordinal) && Uri.TryCreate(url, UriKind.Absolute, out var parsed)
            ? FromUri(parsed)
            : new("(invalid URL)");

    public static implicit operator LoggedUrl(Uri url) => FromUri(url);

    public static implicit operator LoggedUrl(string? url) => FromString(url);

    public override string ToString() => _text ?? "";

    public bool Equals(LoggedUrl other) => string.Equals(_text, other._text, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is LoggedUrl other && Equals(other);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(_text ?? "");

    public static bool operator ==(LoggedUrl left, LoggedUrl right) => left.Equals(right);

    public static bool operator !=(LoggedUrl left, LoggedUrl right) => !left.Equals(right);
}
