using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Http.Json;

namespace Gatehouse.Identities;

/// <summary>Which identity fields a response may show (Kratos: Identity.MarshalJSON and its admin variants).</summary>
public enum IdentityView
{
    /// <summary>whoami, sessions, flows: no credentials, no <c>metadata_admin</c>.</summary>
    Public,

    /// <summary>Admin GET and list: credentials without <c>config</c> unless the type is included.</summary>
    Admin,

    /// <summary>
    /// Admin create, PUT, PATCH: credentials without <c>config</c>, plus <c>metadata_admin</c>
    /// (Kratos: <c>WithCredentialsNoConfigAndAdminMetadataInJSON</c>).
    /// </summary>
    AdminWrite,
}

/// <summary>Writes identities in Kratos's JSON shape straight to a <see cref="Utf8JsonWriter"/> (no intermediate DOM).</summary>
public sealed class IdentityJson(Func<string, string> schemaUrl, CredentialKinds? kinds = null)
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public void Write(Utf8JsonWriter w, Identity identity, IdentityView view, IReadOnlySet<string>? includeCredentials = null)
    {
        w.WriteStartObject();
        w.WriteString("id", identity.Id);
        if (view != IdentityView.Public && identity.Credentials.Count > 0)
        {
            w.WritePropertyName("credentials");
            w.WriteStartObject();
            foreach (var c in identity.Credentials.OrderBy(c => c.Type, StringComparer.Ordinal))
            {
                w.WritePropertyName(c.Type);
                WriteCredential(w, c, includeCredentials?.Contains(c.Type) == true);
            }
            w.WriteEndObject();
        }
        w.WriteString("schema_id", identity.SchemaId);
        w.WriteString("schema_url", schemaUrl(identity.SchemaId));
        w.WriteString("state", identity.State);
        if (identity.StateChangedAt is { } changed) w.WriteString("state_changed_at", GoTimeJsonConverter.Format(changed));
        w.WritePropertyName("traits");
        w.WriteRawValue(identity.Traits, skipInputValidation: true);
        if (identity.VerifiableAddresses.Count > 0)
        {
            w.WritePropertyName("verifiable_addresses");
            w.WriteStartArray();
            foreach (var a in identity.VerifiableAddresses.OrderBy(a => a.Id))
            {
                w.WriteStartObject();
                w.WriteString("id", a.Id);
                w.WriteString("value", a.Value);
                w.WriteBoolean("verified", a.Verified);
                w.WriteString("via", a.Via);
                w.WriteString("status", a.Status);
                if (a.VerifiedAt is { } at) w.WriteString("verified_at", GoTimeJsonConverter.Format(at));
                w.WriteString("created_at", GoTimeJsonConverter.Format(a.CreatedAt));
                w.WriteString("updated_at", GoTimeJsonConverter.Format(a.UpdatedAt));
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        if (identity.RecoveryAddresses.Count > 0)
        {
            w.WritePropertyName("recovery_addresses");
            w.WriteStartArray();
            foreach (var a in identity.RecoveryAddresses.OrderBy(a => a.Id))
            {
                w.WriteStartObject();
                w.WriteString("id", a.Id);
                w.WriteString("value", a.Value);
                w.WriteString("via", a.Via);
                w.WriteString("created_at", GoTimeJsonConverter.Format(a.CreatedAt));
                w.WriteString("updated_at", GoTimeJsonConverter.Format(a.UpdatedAt));
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WritePropertyName("metadata_public");
        WriteRawOrNull(w, identity.MetadataPublic);
        if (view != IdentityView.Public)
        {
            w.WritePropertyName("metadata_admin");
            WriteRawOrNull(w, identity.MetadataAdmin);
        }
        w.WriteString("created_at", GoTimeJsonConverter.Format(identity.CreatedAt));
        w.WriteString("updated_at", GoTimeJsonConverter.Format(identity.UpdatedAt));
        if (identity.OrganizationId is { } org) w.WriteString("organization_id", org);
        else w.WriteNull("organization_id");
        if (!string.IsNullOrEmpty(identity.ExternalId)) w.WriteString("external_id", identity.ExternalId);
        w.WriteEndObject();
    }

    private void WriteCredential(Utf8JsonWriter w, IdentityCredential c, bool includeConfig)
    {
        w.WriteStartObject();
        w.WriteString("type", c.Type);
        w.WritePropertyName("identifiers");
        w.WriteStartArray();
        foreach (var id in c.Identifiers.Select(i => i.Identifier).Order(StringComparer.Ordinal)) w.WriteStringValue(id);
        w.WriteEndArray();
        if (includeConfig)
        {
            w.WritePropertyName("config");
            w.WriteRawValue(kinds?.Find(c.Type)?.AdminConfig(c.Config) ?? c.Config, skipInputValidation: true);
        }
        w.WriteNumber("version", c.Version);
        w.WriteString("created_at", GoTimeJsonConverter.Format(c.CreatedAt));
        w.WriteString("updated_at", GoTimeJsonConverter.Format(c.UpdatedAt));
        w.WriteEndObject();
    }

    private static void WriteRawOrNull(Utf8JsonWriter w, string? raw)
    {
        if (string.IsNullOrEmpty(raw)) w.WriteNullValue();
        else w.WriteRawValue(raw, skipInputValidation: true);
    }

    public byte[] Serialize(Identity identity, IdentityView view, IReadOnlySet<string>? include = null)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions)) Write(w, identity, view, include);
        return buffer.WrittenSpan.ToArray();
    }

    public byte[] SerializeList(IEnumerable<Identity> identities, IdentityView view, IReadOnlySet<string>? include = null)
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartArray();
            foreach (var i in identities) Write(w, i, view, include);
            w.WriteEndArray();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public JsonObject ToNode(Identity identity, IdentityView view, IReadOnlySet<string>? include = null) =>
        JsonNode.Parse(Serialize(identity, view, include))!.AsObject();

    public static string SchemaUrl(string publicBaseUrl, string schemaId) =>
        publicBaseUrl.TrimEnd('/') + "/schemas/" + Convert.ToBase64String(Encoding.UTF8.GetBytes(schemaId)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
