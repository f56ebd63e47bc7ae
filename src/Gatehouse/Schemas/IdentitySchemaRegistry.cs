using System.Buffers.Text;
using System.Text;
using Gatehouse.Config;

namespace Gatehouse.Schemas;

/// <summary>
/// The identity schemas of <c>identity.schemas</c>, loaded and checked once at start-up. Register the
/// loaded instance as a singleton; it is immutable.
/// </summary>
public sealed class IdentitySchemaRegistry
{
    /// <summary>The id the built-in schema gets when none is configured and no default id is set.</summary>
    public const string BuiltInSchemaId = "default";

    private const string BuiltInResourceName = "Gatehouse.Schemas.DefaultIdentitySchema.json";

    private readonly Dictionary<string, IdentitySchema> _byId;
    private readonly HashSet<string> _selectable;

    private IdentitySchemaRegistry(IReadOnlyList<IdentitySchema> all, IdentitySchema defaultSchema, IEnumerable<string>? selectable = null)
    {
        All = all;
        Default = defaultSchema;
        _byId = all.ToDictionary(s => s.Id, StringComparer.Ordinal);
        _selectable = new HashSet<string>(selectable ?? [], StringComparer.Ordinal);
    }

    /// <summary>
    /// Whether self-service flows may use <paramref name="schema"/> when asked for it (<c>?identity_schema=</c>): the default
    /// schema and those marked <c>selfservice_selectable</c>; the others are for the admin API only, as in Kratos.
    /// </summary>
    public bool IsSelfServiceSelectable(IdentitySchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        return ReferenceEquals(schema, Default) || _selectable.Contains(schema.Id);
    }

    /// <summary>All schemas, in configuration order.</summary>
    public IReadOnlyList<IdentitySchema> All { get; }

    /// <summary>The schema named by <c>identity.default_schema_id</c>.</summary>
    public IdentitySchema Default { get; }

    /// <summary>
    /// Loads every configured schema, fetching <c>http(s)://</c> ones under the outbound address rules: Kratos loads
    /// them with an ory/x resilient client (driver/config/config.go <c>validateIdentitySchemas</c>, and its HTTPClient in
    /// the request context), so special-purpose addresses are refused and, with
    /// <c>clients.http.disallow_private_ip_ranges</c>, private ones too.
    /// </summary>
    public static async Task<IdentitySchemaRegistry> LoadAsync(GatehouseOptions options, string? baseDirectory, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var http = new HttpClient(Http.Tracing.OutgoingRequestTracing.Wrap(options, Http.Outbound.PrivateNetworkGuard.Handler(options, () => new SocketsHttpHandler { UseCookies = false })))
        {
            Timeout = TimeSpan.FromSeconds(30),
        };
        return await LoadAsync(options.Identity, http, baseDirectory, ct);
    }

    /// <summary>
    /// Loads every configured schema. With no schemas configured, Gatehouse's built-in email and password
    /// schema is used under the default schema id.
    /// </summary>
    /// <param name="baseDirectory">Folder of the configuration file; relative <c>file://</c> URLs resolve against it.</param>
    /// <exception cref="SchemaConfigException">A schema cannot be loaded or is not a valid identity schema.</exception>
    public static async Task<IdentitySchemaRegistry> LoadAsync(IdentityOptions options, HttpClient http, string? baseDirectory, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(http);

        var defaultId = string.IsNullOrWhiteSpace(options.DefaultSchemaId) ? BuiltInSchemaId : options.DefaultSchemaId;
        if (options.Schemas.Count == 0)
        {
            var builtIn = BuiltInSchema(defaultId);
            return new IdentitySchemaRegistry([builtIn], builtIn);
        }

        var schemas = new List<IdentitySchema>(options.Schemas.Count);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in options.Schemas)
        {
            if (string.IsNullOrWhiteSpace(entry.Id))
            {
                throw SchemaConfigException.For(entry.Id, entry.Url, "has an empty id; every entry of identity.schemas needs an id");
            }

            if (!ids.Add(entry.Id))
            {
                throw SchemaConfigException.For(entry.Id, entry.Url, "uses an id that another entry of identity.schemas already uses; ids must be unique");
            }

            var text = await SchemaSource.ReadAsync(entry.Id, entry.Url, http, baseDirectory, ct);
            schemas.Add(IdentitySchema.Create(entry.Id, entry.Url, text));
        }

        var defaultSchema = schemas.FirstOrDefault(s => s.Id == defaultId)
            ?? throw new SchemaConfigException(
                $"identity.default_schema_id: \"{defaultId}\" is not the id of any entry of identity.schemas (ids: {string.Join(", ", schemas.Select(s => $"\"{s.Id}\""))})");
        return new IdentitySchemaRegistry(schemas, defaultSchema, options.Schemas.Where(e => e.SelfserviceSelectable).Select(e => e.Id));
    }

    /// <summary>
    /// Finds a schema by its id or, as <c>GET /schemas/{id}</c> accepts, by the id's base64url encoding
    /// without padding (the form used in identities' <c>schema_url</c>).
    /// </summary>
    public IdentitySchema? Find(string id)
    {
        if (_byId.TryGetValue(id, out var schema))
        {
            return schema;
        }

        return TryDecodeBase64Url(id) is { } decoded && _byId.TryGetValue(decoded, out schema) ? schema : null;
    }

    /// <summary>The base64url form (no padding) of a schema id, as used in <c>/schemas/{id}</c> links.</summary>
    public static string EncodeId(string id) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(id));

    private static string? TryDecodeBase64Url(string value)
    {
        if (value.Length == 0 || !Base64Url.IsValid(value))
        {
            return null;
        }

        try
        {
            return new UTF8Encoding(false, true).GetString(Base64Url.DecodeFromChars(value));
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            return null;
        }
    }

    private static IdentitySchema BuiltInSchema(string id)
    {
        using var stream = typeof(IdentitySchemaRegistry).Assembly.GetManifestResourceStream(BuiltInResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {BuiltInResourceName} is missing from the build.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var text = reader.ReadToEnd();
        return IdentitySchema.Create(id, "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(text)), text);
    }
}
