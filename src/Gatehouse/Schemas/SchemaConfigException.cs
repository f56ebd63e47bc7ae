namespace Gatehouse.Schemas;

/// <summary>
/// An identity schema in <c>identity.schemas</c> (or <c>identity.default_schema_id</c>) cannot be used.
/// The message names the schema id, its URL and what is wrong, so it can be shown as a start-up error.
/// </summary>
public sealed class SchemaConfigException : Exception
{
    public SchemaConfigException()
    {
    }

    public SchemaConfigException(string message)
        : base(message)
    {
    }

    public SchemaConfigException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal static SchemaConfigException For(string id, string url, string problem, Exception? inner = null)
    {
        var message = $"identity.schemas: schema \"{id}\" ({DisplayUrl(url)}) {problem}";
        return inner is null ? new SchemaConfigException(message) : new SchemaConfigException(message, inner);
    }

    // A base64:// URL holds the whole document; the message only needs enough to recognise it.
    private static string DisplayUrl(string url) =>
        url.StartsWith("base64://", StringComparison.OrdinalIgnoreCase) && url.Length > 48 ? url[..48] + "…" : url;
}
