using Gatehouse.Http.Outbound;
using System.Text.Json.Nodes;
using Gatehouse.Jsonnet;
using Gatehouse.SelfService.Hooks.WebHooks;

namespace Gatehouse.SelfService.Strategies.Oidc;

/// <summary>What a provider's Jsonnet mapper made of the claims (Kratos's <c>strategy_registration.go</c>).</summary>
public sealed record MappedIdentity(JsonObject Traits, JsonNode? MetadataPublic, JsonNode? MetadataAdmin, IReadOnlyList<string> VerifiedAddresses);

/// <summary>
/// Runs a provider's <c>mapper_url</c> Jsonnet with <c>std.extVar('claims')</c> and <c>std.extVar('identity')</c> (the
/// identity signing in again, <c>{traits, metadata_public, metadata_admin}</c>, each <c>{}</c> when empty; all three empty
/// for a sign-up, as Kratos's later releases pass it); it must return
/// <c>{identity: {traits: {…}, metadata_public?, metadata_admin?, verified_addresses?: [{via, value}]}}</c>. The program
/// is loaded and compiled once per URL (the web hook templates' loader: <c>file://</c>, <c>base64://</c>, <c>http(s)://</c>),
/// evaluated without file access and with tight limits. A mapper that fails says why, as an <see cref="OidcUpstreamError"/>.
/// </summary>
public sealed partial class OidcMapper(WebHookTemplates programs, ILogger<OidcMapper> logger)
{
    public async Task<MappedIdentity> MapAsync(string providerId, string mapperUrl, JsonObject claims, CancellationToken ct, Identities.Identity? current = null)
    {
        var output = await EvaluateAsync(providerId, mapperUrl, claims, null, ct, current);
        var identity = (output as JsonObject)?["identity"] as JsonObject;
        if (identity?["traits"] is not JsonObject traits)
            throw new OidcUpstreamError($"The Jsonnet mapper of OpenID Connect provider \"{providerId}\" did not return an object for key identity.traits.");
        var verified = new List<string>();
        if (identity["verified_addresses"] is JsonArray addresses)
        {
            foreach (var a in addresses.OfType<JsonObject>())
            {
                if ((string?)a["via"] is "email" && (string?)a["value"] is { Length: > 0 } value) verified.Add(value);
            }
        }
        return new MappedIdentity((JsonObject)traits.DeepClone(), identity["metadata_public"]?.DeepClone(), identity["metadata_admin"]?.DeepClone(), verified);
    }

    /// <summary>
    /// Runs the mapper on the claims: its output as it is, whatever its shape. <paramref name="trace"/> receives the
    /// program's <c>std.trace</c> lines (what go-jsonnet writes to standard error). Loading or running it fails with an
    /// <see cref="OidcUpstreamError"/>.
    /// </summary>
    public async Task<JsonNode?> EvaluateAsync(string providerId, string mapperUrl, JsonObject claims, Action<string>? trace, CancellationToken ct, Identities.Identity? current = null)
    {
        static JsonNode ObjectOrEmpty(string? raw) => (string.IsNullOrEmpty(raw) ? null : JsonNode.Parse(raw)) ?? new JsonObject();
        var identity = new JsonObject
        {
            ["traits"] = ObjectOrEmpty(current?.Traits),
            ["metadata_public"] = ObjectOrEmpty(current?.MetadataPublic),
            ["metadata_admin"] = ObjectOrEmpty(current?.MetadataAdmin),
        };
        try
        {
            var program = await programs.GetAsync(mapperUrl, ct);
            return program.EvaluateToNode(new JsonnetEvaluationOptions
            {
                ExtVars = { ["claims"] = ExternalValue.Json(claims.ToJsonString()), ["identity"] = ExternalValue.Json(identity.ToJsonString()) },
                MaxSteps = 20_000_000,
                MaxAllocatedBytes = 128L * 1024 * 1024,
                MaxOutputLength = 4 * 1024 * 1024,
                MaxValueLength = 4 * 1024 * 1024,
                Timeout = TimeSpan.FromSeconds(2),
                Trace = trace,
            }, ct);
        }
        catch (JsonnetException e)
        {
            LogMapperFailed(logger, providerId, e.Formatted.ReplaceLineEndings(" "));
            throw new OidcUpstreamError($"The Jsonnet mapper of OpenID Connect provider \"{providerId}\" failed: {FirstLine(e.Message)}", e);
        }
        catch (Exception e) when (e is IOException or HttpRequestException or InvalidOperationException or FormatException or UnauthorizedAccessException)
        {
            LogMapperFailed(logger, providerId, e.Message);
            throw new OidcUpstreamError($"The Jsonnet mapper of OpenID Connect provider \"{providerId}\" could not be loaded.", e);
        }
    }

    private static string FirstLine(string s) => s.Split('\n', 2)[0].Trim();

    [LoggerMessage(Level = LogLevel.Warning, Message = "The Jsonnet mapper of OpenID Connect provider {Provider} failed: {Error}")]
    private static partial void LogMapperFailed(ILogger logger, string provider, string error);
}
