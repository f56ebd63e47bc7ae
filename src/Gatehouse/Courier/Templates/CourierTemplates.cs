using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fluid;
using Gatehouse.Config;
using Gatehouse.Http.Outbound;
using Microsoft.Extensions.FileProviders;

namespace Gatehouse.Courier.Templates;

/// <summary>
/// Finds and renders the e-mail templates. Each part (subject, HTML body, plain-text body) comes from, in order:
/// <c>courier.templates.&lt;group&gt;.&lt;variant&gt;.email</c> (a <c>file://</c>, <c>base64://</c> or <c>http(s)://</c> URL),
/// <c>courier.template_override_path</c>/&lt;group&gt;/&lt;variant&gt;/email.{subject,body,body.plaintext}.gotmpl (a type
/// without variants: no variant level in either), or the
/// built-in default. Templates are Liquid (Fluid) after <see cref="GoTemplateSyntax"/> translated Kratos's Go forms;
/// rendering is sandboxed: no includes (null file provider), no .NET member access beyond the model's dictionaries,
/// and a step limit.
/// </summary>
public sealed class CourierTemplates : IDisposable
{
    private static readonly FluidParser Parser = new();

    private readonly CourierOptions _options;
    private readonly HttpClient _http;
    private readonly ConcurrentDictionary<(string Type, Part Part, string Language), IFluidTemplate?> _cache = new();
    private readonly TemplateOptions _fluid;

    public CourierTemplates(GatehouseOptions options)
    {
        _options = options.Courier;
        // Kratos fetches templates with its HTTPClient (courier/template/load_template.go): ory/x's address rules and
        // clients.http.disallow_private_ip_ranges with its exceptions apply.
        _http = new HttpClient(Http.Tracing.OutgoingRequestTracing.Wrap(options, PrivateNetworkGuard.Handler(options, () => new SocketsHttpHandler { UseCookies = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })))
        {
            Timeout = TimeSpan.FromSeconds(10),
        };
        _fluid = new TemplateOptions
        {
            FileProvider = new NullFileProvider(),
            MaxSteps = 100_000,
            MaxRecursion = 20,
            CultureInfo = CultureInfo.InvariantCulture,
        };
    }

    public enum Part
    {
        Subject,
        Html,
        Plaintext,
        Sms,
    }

    /// <summary>
    /// Renders the SMS text of <paramref name="type"/>: <c>courier.templates.&lt;group&gt;.&lt;variant&gt;.sms.body.plaintext</c>,
    /// <c>template_override_path</c>/&lt;group&gt;/&lt;variant&gt;/sms.body.gotmpl, or the built-in text (the one-time codes).
    /// </summary>
    /// <exception cref="ArgumentException">The type has no SMS text (Kratos sends it only by e-mail).</exception>
    public async Task<string> RenderSmsAsync(CourierTemplateType type, JsonObject model, CancellationToken ct, string language = "en")
    {
        var values = TemplateModel.From(model);
        return await RenderAsync(type, Part.Sms, values, NullEncoder.Default, language, ct)
            ?? throw new ArgumentException($"courier template {type.Name} has no SMS text", nameof(type));
    }

    /// <summary>
    /// Renders the e-mail of <paramref name="type"/> for <paramref name="model"/> (Kratos's variable names, see
    /// <see cref="TemplateModel"/>); the built-in texts in <paramref name="language"/> (<c>en</c>, <c>de</c>), configured
    /// templates as they are.
    /// </summary>
    public async Task<RenderedEmail> RenderEmailAsync(CourierTemplateType type, JsonObject model, CancellationToken ct, string language = "en")
    {
        var values = TemplateModel.From(model);
        var subject = await RenderAsync(type, Part.Subject, values, NullEncoder.Default, language, ct) ?? "";
        var plaintext = await RenderAsync(type, Part.Plaintext, values, NullEncoder.Default, language, ct) ?? "";
        var html = await RenderAsync(type, Part.Html, values, HtmlEncoder.Default, language, ct);
        // Subjects from files end with a newline; a header cannot hold one.
        subject = string.Join(' ', subject.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return new RenderedEmail(subject, plaintext, html);
    }

    /// <summary>Loads and parses every part of every template type, so a broken override is reported at start-up.</summary>
    public async Task ValidateAsync(CancellationToken ct)
    {
        foreach (var type in CourierTemplateType.All)
        {
            foreach (var part in Enum.GetValues<Part>())
            {
                foreach (var language in BuiltinTemplates.Languages) await GetAsync(type, part, language, ct);
            }
        }
    }

    private async Task<string?> RenderAsync(CourierTemplateType type, Part part, Dictionary<string, object?> values, TextEncoder encoder, string language, CancellationToken ct)
    {
        var template = await GetAsync(type, part, language, ct);
        if (template is null) return null;
        var context = new TemplateContext(_fluid);
        foreach (var (key, value) in values) context.SetValue(key, value);
        return await template.RenderAsync(context, encoder);
    }

    private async Task<IFluidTemplate?> GetAsync(CourierTemplateType type, Part part, string language, CancellationToken ct)
    {
        language = BuiltinTemplates.Languages.Contains(language) ? language : BuiltinTemplates.Languages[0];
        if (_cache.TryGetValue((type.Name, part, language), out var cached)) return cached;
        var (source, origin) = await LoadSourceAsync(type, part, language, ct);
        IFluidTemplate? parsed = null;
        if (source is not null)
        {
            if (!Parser.TryParse(GoTemplateSyntax.ToLiquid(source), out parsed, out var error))
                throw new InvalidOperationException($"courier template {type.Name} ({PartName(part)}) from {origin} does not parse: {error}");
        }
        _cache[(type.Name, part, language)] = parsed;
        return parsed;
    }

    private async Task<(string? Source, string Origin)> LoadSourceAsync(CourierTemplateType type, Part part, string language, CancellationToken ct)
    {
        if (ConfiguredUrl(type, part) is { Length: > 0 } url)
            return (await FetchAsync(url, ct), $"courier.templates.{type.Group}.{(type.Variant.Length > 0 ? type.Variant + "." : "")}{(part == Part.Sms ? "sms.body.plaintext" : "email." + PartName(part))}");

        if (_options.TemplateOverridePath is { Length: > 0 } root)
        {
            var path = Path.Combine(root, type.Group, type.Variant, part switch
            {
                Part.Subject => "email.subject.gotmpl",
                Part.Html => "email.body.gotmpl",
                Part.Sms => "sms.body.gotmpl",
                _ => "email.body.plaintext.gotmpl",
            });
            if (File.Exists(path)) return (await File.ReadAllTextAsync(path, ct), path);
        }

        if (part == Part.Sms) return (BuiltinTemplates.Sms(type, language), "the built-in templates");
        var builtin = BuiltinTemplates.For(type, language);
        return (part switch { Part.Subject => builtin.Subject, Part.Html => builtin.Html, _ => builtin.Plaintext }, "the built-in templates");
    }

    private string? ConfiguredUrl(CourierTemplateType type, Part part)
    {
        if (!_options.Templates.TryGetValue(type.Group, out var set)) return null;
        var variant = type.Variant switch
        {
            "valid" => set.Valid,
            "invalid" => set.Invalid,
            _ => new CourierTemplateOptions { Email = set.Email, Sms = set.Sms },
        };
        if (part == Part.Sms) return variant?.Sms?.Body?.Plaintext;
        var email = variant?.Email;
        return part switch
        {
            Part.Subject => email?.Subject,
            Part.Html => email?.Body?.Html,
            _ => email?.Body?.Plaintext,
        };
    }

    /// <summary>Reads a template URL as Kratos does: <c>base64://</c> (standard or URL alphabet), <c>file://</c> (absolute or relative to the working directory), <c>http(s)://</c>.</summary>
    public async Task<string> FetchAsync(string url, CancellationToken ct)
    {
        if (url.StartsWith("base64://", StringComparison.Ordinal))
        {
            var data = url["base64://".Length..].Replace('-', '+').Replace('_', '/');
            data = data.PadRight(data.Length + ((4 - (data.Length % 4)) % 4), '=');
            try
            {
                return Encoding.UTF8.GetString(Convert.FromBase64String(data));
            }
            catch (FormatException)
            {
                throw new InvalidOperationException($"courier template {Shorten(url)} is not valid base64");
            }
        }
        if (url.StartsWith("file://", StringComparison.Ordinal))
        {
            var path = Uri.UnescapeDataString(url["file://".Length..]);
            if (!File.Exists(path)) throw new InvalidOperationException($"courier template file {path} does not exist");
            return await File.ReadAllTextAsync(path, ct);
        }
        if (url.StartsWith("http://", StringComparison.Ordinal) || url.StartsWith("https://", StringComparison.Ordinal))
        {
            using var response = await _http.GetAsync(new Uri(url), ct);
            if (!response.IsSuccessStatusCode)
                throw new InvalidOperationException($"courier template {url} answered {(int)response.StatusCode}");
            return await response.Content.ReadAsStringAsync(ct);
        }
        throw new InvalidOperationException($"courier template URL {Shorten(url)} must start with file://, base64://, http:// or https://");
    }

    private static string Shorten(string url) => url.Length > 40 ? url[..40] + "…" : url;

    private static string PartName(Part part) => part switch
    {
        Part.Subject => "subject",
        Part.Html => "body.html",
        _ => "body.plaintext",
    };

    public void Dispose() => _http.Dispose();
}

/// <summary>
/// Turns the model a flow passes (snake_case keys such as <c>verification_code</c>, <c>recovery_url</c>, <c>identity</c>)
/// into template variables with Kratos's names (<c>VerificationCode</c>, <c>RecoveryURL</c>, <c>Identity</c>); the
/// original keys stay available too. Nested objects (e.g. <c>Identity.traits.email</c>) keep their keys.
/// </summary>
public static class TemplateModel
{
    public static Dictionary<string, object?> From(JsonObject model)
    {
        var values = new Dictionary<string, object?>(model.Count * 2, StringComparer.Ordinal);
        foreach (var (key, node) in model)
        {
            var value = Convert(node);
            values[key] = value;
            values.TryAdd(KratosNames.GetOrAdd(key, MakeKratosName), value);
        }
        return values;
    }

    // The model's keys are a small fixed set (the flows' own names): each translated once.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> KratosNames = new(StringComparer.Ordinal);

    private static readonly Func<string, string> MakeKratosName = KratosName;

    /// <summary><c>verification_url</c> → <c>VerificationURL</c>, <c>expires_in_minutes</c> → <c>ExpiresInMinutes</c>.</summary>
    public static string KratosName(string key)
    {
        if (!key.Contains('_') && key.Length > 0 && char.IsUpper(key[0])) return key;
        var sb = new StringBuilder();
        foreach (var word in key.Split('_', StringSplitOptions.RemoveEmptyEntries))
        {
            if (word is "url" or "id") sb.Append(word.ToUpperInvariant());
            else sb.Append(char.ToUpperInvariant(word[0])).Append(word.AsSpan(1));
        }
        return sb.ToString();
    }

    private static object? Convert(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => ConvertObject(o),
        JsonArray a => a.Select(Convert).ToList(),
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>(),
            JsonValueKind.Number => Number(v),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => null,
        },
        _ => null,
    };

    private static Dictionary<string, object?> ConvertObject(JsonObject o)
    {
        var values = new Dictionary<string, object?>(o.Count, StringComparer.Ordinal);
        foreach (var (key, node) in o) values[key] = Convert(node);
        return values;
    }

    // From the JSON text: a value built from a CLR int (not parsed) converts to neither long nor decimal by GetValue.
    private static object Number(JsonValue v)
    {
        var text = v.ToJsonString();
        return long.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var l)
            ? l
            : decimal.Parse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture);
    }
}
