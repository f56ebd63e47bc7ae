using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Gatehouse.Bench;

/// <summary>Batch import through <c>PATCH /admin/identities</c>, shared by the benchmarks that need many identities.</summary>
internal static class IdentityImport
{
    public static string Email(string prefix, int i) => string.Create(CultureInfo.InvariantCulture, $"{prefix}{i:D7}@bench.example");

    /// <summary>The body of one batch: identities <paramref name="from"/>..<paramref name="to"/> with the default schema's email trait and a pre-hashed password.</summary>
    /// <param name="withTotp">Which identities also get a TOTP credential (Kratos's import shape: <c>totp.config.totp_url</c>).</param>
    public static byte[] BatchBody(string prefix, int from, int to, string hash, Func<int, bool>? withTotp = null)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("identities");
            for (var i = from; i < to; i++)
            {
                w.WriteStartObject();
                w.WriteStartObject("create");
                w.WriteString("schema_id", "default");
                w.WriteStartObject("traits");
                w.WriteString("email", Email(prefix, i));
                w.WriteEndObject();
                w.WriteStartObject("credentials");
                w.WriteStartObject("password");
                w.WriteStartObject("config");
                w.WriteString("hashed_password", hash);
                w.WriteEndObject();
                w.WriteEndObject();
                if (withTotp?.Invoke(i) == true)
                {
                    w.WriteStartObject("totp");
                    w.WriteStartObject("config");
                    // A fixed RFC 6238 test secret: the benchmark never computes a code, the credential only has to exist.
                    w.WriteString("totp_url", $"otpauth://totp/Gatehouse:{Email(prefix, i)}?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Gatehouse");
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>Sends one batch and returns the response body (a non-200 answer throws).</summary>
    public static async Task<byte[]> SendBatchAsync(HttpClient http, byte[] body, int batch)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");
        using var response = await http.PatchAsync(new Uri("admin/identities", UriKind.Relative), content);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"batch {batch}: HTTP {(int)response.StatusCode}: {Encoding.UTF8.GetString(bytes)}");
        return bytes;
    }

    /// <summary>The ids of the created identities, in request order; throws unless all <paramref name="expected"/> were created.</summary>
    public static List<Guid> CreatedIds(byte[] response, int expected, int batch)
    {
        using var doc = JsonDocument.Parse(response);
        var ids = new List<Guid>(expected);
        foreach (var e in doc.RootElement.GetProperty("identities").EnumerateArray())
        {
            if (e.GetProperty("action").GetString() == "create") ids.Add(e.GetProperty("identity").GetGuid());
        }
        if (ids.Count != expected) throw new InvalidOperationException($"batch {batch}: only {ids.Count} of {expected} created: {Encoding.UTF8.GetString(response)[..Math.Min(2000, response.Length)]}");
        return ids;
    }
}
